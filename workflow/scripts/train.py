"""Snakemake script: train one seed, writing checkpoints, manifest, metrics and loss curve."""

import json
import logging
import time
from pathlib import Path

import torch

from tracin_study.config import training_config
from tracin_study.data import load_prepared
from tracin_study.model import count_parameters
from tracin_study.provenance import provenance, setup_logging
from tracin_study.training import predict, regression_metrics, train

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("train")
torch.set_num_threads(sm.threads)
seed = int(sm.wildcards.seed)
config = training_config({"model": sm.params.model, "training": sm.params.training})
prepared = load_prepared(Path(sm.input.train).parent)

start = time.perf_counter()
model, curve = train(
    prepared.X_train,
    prepared.y_train,
    prepared.X_test,
    prepared.y_test,
    config,
    seed,
    Path(sm.output.manifest).parent,
)
metrics = {
    "seed": seed,
    "n_parameters": count_parameters(model),
    "train": regression_metrics(prepared.y_train, predict(model, prepared.X_train)),
    "test": regression_metrics(prepared.y_test, predict(model, prepared.X_test)),
    "wall_seconds": time.perf_counter() - start,
    "threads": sm.threads,
    "training": sm.params.training,
    "model": sm.params.model,
    **provenance(sm.config, Path(sm.scriptdir)),
}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
curve.to_csv(sm.output.curve, index=False)
log.info(
    "explained variance: train %.3f, test %.3f",
    metrics["train"]["explained_variance"],
    metrics["test"]["explained_variance"],
)
