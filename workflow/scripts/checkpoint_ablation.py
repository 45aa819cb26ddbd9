"""Snakemake script: for one Adam-trained main model, TracInCP on the paper's checkpoints vs
on every saved checkpoint after training began (all layers), and last layer vs all layers
(paper's checkpoints)."""

import pandas as pd
import torch

from tracin_study.checkpoints import read_manifest
from tracin_study.config import ExperimentsSettings, InfluenceSettings
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments import checkpoint_ablation as ablation
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
influence = InfluenceSettings.from_params(sm.params.influence)
dtype = getattr(torch, ExperimentsSettings.from_params(sm.params.experiments).dtype)
manifest = read_manifest(sm.input.checkpoints)
prepared = load_prepared(PreparedFiles.of(sm.input))
test_index = pd.read_csv(sm.input.houses)["test_index"].to_numpy()
log.info("read %s (%d checkpoints)", sm.input.checkpoints, len(manifest.checkpoints))
variants = ablation.variant_scores(
    manifest,
    prepared,
    test_index,
    influence.epochs,
    influence.batch_size,
    dtype,
)
comparison = ablation.compare_variants(
    variants, test_index, influence.top_k, int(sm.wildcards.seed)
)
comparison.to_csv(sm.output.comparison, index=False)
ablation.save_variants(sm.output.scores, variants, test_index)
log.info("wrote %s and %s", sm.output.comparison, sm.output.scores)
