"""Snakemake script: score every training point of a corrupted-target model and measure how
well each ranking finds the corrupted targets."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study.checkpoints import read_manifest
from tracin_study.config import CorruptionSettings, ExperimentsSettings, InfluenceSettings
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments import corruption
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
seed, cfg = int(sm.wildcards.seed), CorruptionSettings.from_params(sm.params.corruption)
influence = InfluenceSettings.from_params(sm.params.influence)
dtype = getattr(torch, ExperimentsSettings.from_params(sm.params.experiments).dtype)
X = load_prepared(PreparedFiles.of(sm.input)).X_train
targets = pd.read_parquet(sm.input.targets)
mask = targets["corrupted"].to_numpy()
log.info("read %s (%d corrupted) and %s", sm.input.targets, mask.sum(), sm.input.manifest)
scores = corruption.detection_scores(
    read_manifest(sm.input.manifest),
    X,
    targets["corrupted_target"].to_numpy(),
    influence.epochs,
    influence.batch_size,
    dtype,
    np.random.default_rng([cfg.corruption_seed, seed, 1]),
)
table = pd.DataFrame({"train_index": targets["train_index"], "corrupted": mask, **scores})
table.to_parquet(sm.output.scores, index=False)
detection, curves = corruption.detection_results(scores, mask, seed)
detection.to_csv(sm.output.detection, index=False)
curves.to_csv(sm.output.curves, index=False)
rmse = float(np.sqrt(json.loads(Path(sm.input.metrics).read_text())["test"]["mse"]))
change = targets["corrupted_target"].to_numpy() - targets["target"].to_numpy()
by_change = corruption.recall_by_change(scores, change, threshold=rmse).assign(seed=seed)
by_change.to_csv(sm.output.recall_by_change, index=False)
log.info("AUC: %s", dict(zip(detection["score"], detection["auc"].round(3), strict=True)))
log.info("wrote %s", ", ".join(sm.output))
