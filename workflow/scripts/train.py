"""Snakemake script: train one seed, writing checkpoints, manifest, metrics and loss curve."""

import json
import logging
from pathlib import Path

import torch

from tracin_study.config import training_config
from tracin_study.data import load_prepared
from tracin_study.provenance import provenance, setup_logging
from tracin_study.training import train_and_evaluate

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
seed = int(sm.wildcards.seed)
config = training_config({"model": sm.params.model, "training": sm.params.training})
p = load_prepared(Path(sm.input.train).parent)
model, curve, fit = train_and_evaluate(
    p.X_train, p.y_train, p.X_test, p.y_test, config, seed, Path(sm.output.manifest).parent
)
metrics = {
    "seed": seed,
    **fit,
    "threads": sm.threads,
    "training": sm.params.training,
    "model": sm.params.model,
    **provenance(sm.config, Path(sm.scriptdir)),
}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
curve.to_csv(sm.output.curve, index=False)
logging.getLogger("train").info(
    "explained variance: train %.3f, test %.3f; wrote %s, %s, %s",
    fit["train"]["explained_variance"],
    fit["test"]["explained_variance"],
    sm.output.manifest,
    sm.output.metrics,
    sm.output.curve,
)
