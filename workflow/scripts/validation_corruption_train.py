"""Snakemake script: corrupt a fraction of the training targets, retrain with the default
recipe, and save the checkpoints and the targets used."""

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study.config import training_config
from tracin_study.corruption import corrupt_targets
from tracin_study.data import load_prepared
from tracin_study.provenance import provenance, setup_logging
from tracin_study.training import predict, regression_metrics, train

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("validation_corruption_train")
torch.set_num_threads(sm.threads)
seed, cfg = int(sm.wildcards.seed), sm.params.corruption
prepared = load_prepared(Path(sm.input.train).parent)
rng = np.random.default_rng([cfg["corruption_seed"], seed])
y_corrupted, mask = corrupt_targets(prepared.y_train, cfg["fraction"], rng)
log.info(
    "read %s; corrupted %d of %d targets (seed %d)", sm.input.train, mask.sum(), mask.size, seed
)

start = time.perf_counter()
model, curve = train(
    prepared.X_train,
    y_corrupted,
    prepared.X_test,
    prepared.y_test,
    training_config({"model": sm.params.model, "training": sm.params.training}),
    seed,
    Path(sm.output.manifest).parent,
)
pd.DataFrame(
    {
        "train_index": prepared.train["train_index"],
        "target": prepared.y_train,
        "corrupted_target": y_corrupted,
        "corrupted": mask,
    }
).to_parquet(sm.output.targets, index=False)
metrics = {
    "seed": seed,
    "n_corrupted": int(mask.sum()),
    "train_corrupted_targets": regression_metrics(y_corrupted, predict(model, prepared.X_train)),
    "test": regression_metrics(prepared.y_test, predict(model, prepared.X_test)),
    "wall_seconds": time.perf_counter() - start,
    "threads": sm.threads,
    "corruption": cfg,
    **provenance(sm.config, Path(sm.scriptdir)),
}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
log.info(
    "trained in %.1f s; wrote %s, %s, %s",
    metrics["wall_seconds"],
    sm.output.manifest,
    sm.output.targets,
    sm.output.metrics,
)
