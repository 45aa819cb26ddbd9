"""Snakemake script: score every training point of a corrupted-target model and measure how
well each ranking finds the corrupted targets."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study import corruption
from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.data import load_prepared
from tracin_study.influence import TracInCP
from tracin_study.provenance import setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("validation_corruption_scores")
torch.set_num_threads(sm.threads)
seed, cfg = int(sm.wildcards.seed), sm.params.corruption
X = load_prepared(Path(sm.input.train).parent).X_train
targets = pd.read_parquet(sm.input.targets)
y, mask = targets["corrupted_target"].to_numpy(), targets["corrupted"].to_numpy()
manifest = read_manifest(sm.input.manifest)
last = manifest.checkpoints[-1]
epochs = sorted({*sm.params.epochs, last.epoch})
log.info("read %s (%d corrupted) and %s", sm.input.targets, mask.sum(), sm.input.manifest)


def self_influence(epochs, layers) -> tuple[tuple[int, ...], np.ndarray]:
    engine = TracInCP(
        manifest.build_model(),
        manifest.select(epochs),
        layers=layers,
        batch_size=sm.params.batch_size,
        dtype=getattr(torch, sm.params.dtype),
    )
    result = engine.compute(X, y)
    return result.epochs, result.self_influence


used, all_layers = self_influence(epochs, "all")
in_paper = np.isin(used, sm.params.epochs)
scores = {
    "self_influence_all_layers": all_layers[in_paper].sum(0),
    "self_influence_last_layer": self_influence(sm.params.epochs, "last")[1].sum(0),
    "self_influence_last_checkpoint": all_layers[used.index(last.epoch)],
    "final_loss": corruption.final_loss(load_checkpoint(last, manifest.build_model()), X, y),
    "random": corruption.random_scores(
        len(y), np.random.default_rng([cfg["corruption_seed"], seed, 1])
    ),
}
pd.DataFrame({"train_index": targets["train_index"], "corrupted": mask, **scores}).to_parquet(
    sm.output.scores, index=False
)
detection = corruption.detection_table(scores, mask).assign(seed=seed)
detection.to_csv(sm.output.detection, index=False)
grid = np.linspace(0, 1, 201)
corruption.curves_on_grid(scores, mask, grid).assign(seed=seed).to_csv(
    sm.output.curves, index=False
)
log.info("AUC: %s", dict(zip(detection["score"], detection["auc"].round(3), strict=True)))
log.info("wrote %s, %s, %s", sm.output.scores, sm.output.detection, sm.output.curves)
