"""Snakemake script: TracInIdeal vs first-order TracIn vs TracInCP on k checkpoints (SGD), and
vs raw and Adam-preconditioned first-order TracIn (Adam, beta1 = 0)."""

import numpy as np
import pandas as pd

from tracin_study import plots
from tracin_study.checkpoints import read_manifest
from tracin_study.config import ApproximationChainSettings, InfluenceSettings
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.approximation_chain import (
    adam_comparison,
    approximation_chain,
    summarise_comparison,
)
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
chain_settings = ApproximationChainSettings.from_params(sm.params.chain)
influence = InfluenceSettings.from_params(sm.params.influence)
manifest = read_manifest(sm.input.manifest)
prepared = load_prepared(PreparedFiles.of(sm.input))
log.info("read %s and %d checkpoints", sm.input.steps, len(manifest.checkpoints))
chain = approximation_chain(
    np.load(sm.input.steps),
    manifest,
    prepared,
    chain_settings.checkpoint_counts,
    influence.batch_size,
)
comparison = pd.concat(
    [
        chain.comparison(influence.top_k),
        adam_comparison(np.load(sm.input.adam_steps), influence.top_k),
    ],
    ignore_index=True,
)
summary = summarise_comparison(comparison)
chain.save_arrays(sm.output.scores)
comparison.to_csv(sm.output.comparison, index=False)
summary.to_csv(sm.output.summary, index=False)
plots.save(plots.correlation_vs_k(summary[summary["reference"] == "ideal"]), sm.output.figure)
log.info("wrote %s, %s, %s, %s", *sm.output)
