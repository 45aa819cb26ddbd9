"""Snakemake script: the ideal SGD run (batch size 1) on a training subsample, every step
recorded against the Palo Alto test points, checkpoints saved along the way."""

import logging
import time
from pathlib import Path

import numpy as np
import torch

from tracin_study.data import TARGET, load_prepared
from tracin_study.geo import nearest_houses
from tracin_study.ideal import train_ideal
from tracin_study.provenance import setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("validation_ideal_record")
torch.set_num_threads(sm.threads)
cfg, place = sm.params.ideal, sm.params.palo_alto
prepared = load_prepared(Path(sm.input.train).parent)
n_total = len(prepared.train)
if cfg["n_train"] > n_total:
    raise ValueError(
        f"validation.ideal.n_train={cfg['n_train']} exceeds the {n_total} training rows"
    )
subsample = np.sort(
    np.random.default_rng(cfg["subsample_seed"]).choice(n_total, cfg["n_train"], replace=False)
)
houses = nearest_houses(prepared.test, place["latitude"], place["longitude"], place["n_houses"])
log.info(
    "read %s: %d of %d training points, %d test points",
    sm.input.train,
    len(subsample),
    n_total,
    len(houses),
)

start = time.perf_counter()
run = train_ideal(
    prepared.X_train[subsample],
    prepared.y_train[subsample],
    prepared.features(houses),
    houses[TARGET].to_numpy(np.float64),
    sm.params.hidden,
    cfg["learning_rate"],
    cfg["epochs"],
    cfg["seed"],
    Path(sm.output.manifest).parent,
    cfg["checkpoint_every_steps"],
)
seconds = time.perf_counter() - start
np.savez_compressed(
    sm.output.steps,
    train_index=subsample,
    test_index=houses["test_index"].to_numpy(),
    step_train_position=run.train_index,
    exact=run.exact,
    first_order=run.first_order,
    test_loss=run.test_loss,
    seconds=seconds,
)
log.info(
    "%d SGD steps in %.1f s, test loss %.4f -> %.4f; wrote %s and %d checkpoints to %s",
    len(run.train_index),
    seconds,
    run.test_loss[0].mean(),
    run.test_loss[-1].mean(),
    sm.output.steps,
    len(run.checkpoints),
    sm.output.manifest,
)
