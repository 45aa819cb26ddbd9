"""Snakemake script: TracInCP self-influence and Palo Alto proponents for one seed of one
recipe, over the recipe's influence epochs, raw and Adam-preconditioned."""

from pathlib import Path

import pandas as pd

from tracin_study.checkpoints import read_manifest
from tracin_study.config import InfluenceSettings
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.seed_influence import compute_seed_influence
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
influence = InfluenceSettings.read(sm.input.influence_settings)  # the recipe's
epochs = influence.epochs
prepared = load_prepared(PreparedFiles.of(sm.input))
houses = pd.read_csv(sm.input.houses)
result = compute_seed_influence(
    read_manifest(Path(sm.input.checkpoints)),
    prepared,
    houses["test_index"].to_numpy(),
    epochs,
    influence.batch_size,
    adam=True,
)
result.self_influence_table(prepared).to_parquet(sm.output.self_influence, index=False)
result.proponents_table(influence.top_k).to_parquet(sm.output.proponents, index=False)
result.proponents_adam_table(influence.top_k).to_parquet(sm.output.proponents_adam, index=False)
result.save_arrays(Path(sm.output.self_per_checkpoint), Path(sm.output.influence_per_checkpoint))
log.info(
    "recipe %s seed %s: TracInCP over epochs %s", sm.wildcards.recipe, sm.wildcards.seed, epochs
)
