"""Snakemake script: corrupt a fraction of the training targets, retrain with the default
recipe, and save the checkpoints and the targets used."""

import json
import logging
from pathlib import Path

import torch

from tracin_study.config import training_config
from tracin_study.data import load_prepared
from tracin_study.experiments.corruption import train_corrupted
from tracin_study.provenance import provenance, setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
cfg = sm.params.corruption
prepared = load_prepared(Path(sm.input.train).parent)
targets, metrics = train_corrupted(
    prepared,
    training_config({"model": sm.params.model, "training": sm.params.training}),
    int(sm.wildcards.seed),
    cfg["fraction"],
    cfg["corruption_seed"],
    Path(sm.output.manifest).parent,
)
targets.to_parquet(sm.output.targets, index=False)
metrics |= {"threads": sm.threads, "corruption": cfg, **provenance(sm.config, Path(sm.scriptdir))}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
logging.getLogger("validation_corruption_train").info(
    "read %s; trained in %.1f s; wrote %s, %s, %s",
    sm.input.train,
    metrics["wall_seconds"],
    sm.output.manifest,
    sm.output.targets,
    sm.output.metrics,
)
