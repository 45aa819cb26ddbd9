"""Snakemake script: retrain one seed without one removal set and record the Palo Alto test
losses of the retrained and the full model."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.checkpoints import read_manifest
from tracin_study.config import RemovalConfig, TrainingConfig
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.removal import removal_record, removed_houses
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
seed, name = int(sm.wildcards.seed), sm.wildcards.removal_set
prepared = load_prepared(PreparedFiles.of(sm.input))
houses = pd.read_csv(sm.input.houses)
proponents = pd.read_parquet(sm.input.proponents)
random_seed = RemovalConfig.from_params(sm.params.removal).random_seed
removed = removed_houses(name, proponents, prepared, houses, seed, random_seed)
recipe = TrainingConfig.from_config(dict(sm.params.items()))
record = removal_record(
    name, removed, read_manifest(sm.input.checkpoints), prepared, houses, recipe, seed
)
record |= {"threads": sm.threads, **provenance(sm.config, Path(sm.scriptdir))}
Path(sm.output.record).write_text(json.dumps(record, indent=2) + "\n")
log.info(
    "seed %d without %s (%d houses): summed Palo Alto loss %.4f -> %.4f in %.1f s; wrote %s",
    seed,
    name,
    len(removed),
    record["summed_loss_full"],
    record["summed_loss_removed"],
    record["wall_seconds"],
    sm.output.record,
)
