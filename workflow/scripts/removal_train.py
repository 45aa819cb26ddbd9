"""Snakemake script: retrain one seed without one removal set and record the Palo Alto test
losses of the retrained and the full model."""

import json
import logging
from pathlib import Path

import pandas as pd
import torch

from tracin_study.checkpoints import read_manifest
from tracin_study.config import training_config
from tracin_study.data import load_prepared
from tracin_study.experiments.removal import removal_record, removed_houses
from tracin_study.provenance import provenance, setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
seed, name = int(sm.wildcards.seed), sm.wildcards.removal_set
prepared = load_prepared(Path(sm.input.train).parent)
houses = pd.read_csv(sm.input.palo_alto)
proponents = pd.read_parquet(sm.input.proponents)
removed = removed_houses(name, proponents, prepared, houses, seed, sm.params.removal["random_seed"])
config = training_config({"model": sm.params.model, "training": sm.params.training})
record = removal_record(
    name, removed, read_manifest(sm.input.manifest), prepared, houses, config, seed
)
record |= {"threads": sm.threads, **provenance(sm.config, Path(sm.scriptdir))}
Path(sm.output[0]).write_text(json.dumps(record, indent=2) + "\n")
logging.getLogger("removal_train").info(
    "seed %d without %s (%d houses): summed Palo Alto loss %.4f -> %.4f in %.1f s; wrote %s",
    seed,
    name,
    len(removed),
    record["summed_loss_full"],
    record["summed_loss_removed"],
    record["wall_seconds"],
    sm.output[0],
)
