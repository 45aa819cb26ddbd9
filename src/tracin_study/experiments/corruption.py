"""Corrupted targets and how well a score ranking finds them.

The regression counterpart of the paper's mislabelled-data experiment: a fraction of the
training targets is replaced by the targets of other random training points, the model is
retrained, and the training points are inspected in decreasing order of a score (e.g.
self-influence). The detection curve is the fraction of corrupted points found against the
fraction of data inspected (`statistics.detection_curve`, its area and recall alike).
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study.checkpoints import Manifest, load_checkpoint
from tracin_study.config import CorruptionSettings, TrainingSettings
from tracin_study.data import PreparedData
from tracin_study.influence import TracInCP
from tracin_study.loss_rankings import checkpoint_losses
from tracin_study.statistics import detection_auc, detection_curve, mean_sd, recall_at
from tracin_study.training import predict, train_and_evaluate

log = logging.getLogger(__name__)

RECALL_FRACTIONS = (0.1, 0.2)
SCORES = (
    "self_influence_all_layers",
    "self_influence_last_layer",
    "self_influence_last_checkpoint",
    "final_loss",
    "summed_loss",
    "random",
)


def corrupt_targets(y, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Replace round(fraction * N) targets, chosen without replacement, by other targets.

    y: (N,) targets. Each chosen point i gets the original target of a point j drawn
    uniformly among the other points; when y[j] == y[i] (duplicate values, e.g. the price
    cap at 5.00001), j is drawn again, so every chosen target really changes and
    `mask == (y_corrupted != y)`. Returns y_corrupted (N,) (dtype of y) and mask (N,) bool.
    """
    y = np.asarray(y)
    n = y.size
    if y.ndim != 1:
        raise ValueError(f"targets must be 1-D, got shape {y.shape}")
    if not 0 < fraction < 1:
        raise ValueError(f"corruption fraction={fraction} must lie strictly between 0 and 1")
    if np.unique(y).size < 2:
        raise ValueError("all targets are equal, so none can be corrupted")
    chosen = rng.choice(n, size=round(fraction * n), replace=False)
    source = np.empty_like(chosen)
    todo = np.arange(chosen.size)
    while todo.size:
        draw = rng.integers(0, n - 1, size=todo.size)
        draw += draw >= chosen[todo]  # uniform over the points other than i
        source[todo] = draw
        todo = todo[y[draw] == y[chosen[todo]]]
    y_corrupted = y.copy()
    y_corrupted[chosen] = y[source]
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    return y_corrupted, mask


def detection_table(scores: dict, mask, fractions=RECALL_FRACTIONS) -> pd.DataFrame:
    """One row per named score (N,): `score`, `auc` and `recall_at_<f>` for each fraction f."""
    rows = []
    for name, values in scores.items():
        row = {"score": name, "auc": detection_auc(values, mask)}
        row.update({f"recall_at_{f:g}": recall_at(values, mask, f) for f in fractions})
        rows.append(row)
    return pd.DataFrame(rows)


def recall_by_change(
    scores: dict, change, threshold: float, fractions=RECALL_FRACTIONS
) -> pd.DataFrame:
    """Recall split by the size of the target change: for each named score (N,) and each
    group of corrupted points, |change| below `threshold` ("small") or not ("large"), the
    fraction of the group among the round(f * N) highest scores, for each fraction f.

    change: (N,) corrupted minus original target, 0 for the points left alone; `threshold`
    e.g. the model's own RMSE. Columns: score, change, threshold, n_corrupted, recall_at_<f>
    (NaN for an empty group).
    """
    change = np.asarray(change, dtype=np.float64)
    corrupted, large = change != 0, np.abs(change) >= threshold
    groups = {"small": corrupted & ~large, "large": corrupted & large}
    rows = []
    for name, values in scores.items():
        order = np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")
        for label, members in groups.items():
            row = {"score": name, "change": label, "threshold": threshold}
            row["n_corrupted"] = int(members.sum())
            for f in fractions:
                top = np.zeros(change.size, dtype=bool)
                top[order[: round(f * change.size)]] = True
                row[f"recall_at_{f:g}"] = float(top[members].mean()) if members.any() else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def curves_on_grid(scores: dict, mask, grid) -> pd.DataFrame:
    """Detection curves of named scores (N,) interpolated at the inspected fractions `grid`,
    for averaging over seeds: columns score, fraction_inspected, fraction_found."""
    frames = []
    for name, values in scores.items():
        inspected, found = detection_curve(values, mask)
        frames.append(
            pd.DataFrame(
                {
                    "score": name,
                    "fraction_inspected": grid,
                    "fraction_found": np.interp(grid, inspected, found),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def final_loss(model: torch.nn.Module, X, y) -> np.ndarray:
    """Per-point training loss (f(x) - y)^2 of `model` (e.g. at its final checkpoint): (N,)."""
    return (predict(model, X) - np.asarray(y, dtype=np.float64)) ** 2


def random_scores(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random inspection order (the baseline) as n uniform scores in [0, 1)."""
    return rng.random(n)


def train_corrupted(
    prepared: PreparedData,
    config: TrainingSettings,
    seed: int,
    fraction: float,
    corruption_seed: int,
    checkpoint_dir: Path,
) -> tuple[pd.DataFrame, dict]:
    """Corrupt `fraction` of the training targets (`corrupt_targets` with the generator
    `np.random.default_rng([corruption_seed, seed])`) and train model `seed` on them.

    Returns the targets table, one row per training point (`train_index`, `target`,
    `corrupted_target`, `corrupted`), and the metrics: `seed`, `n_corrupted`,
    `train_corrupted_targets` (fit to the corrupted targets), `test`, `wall_seconds`.
    """
    rng = np.random.default_rng([corruption_seed, seed])
    y_corrupted, mask = corrupt_targets(prepared.y_train, fraction, rng)
    log.info("corrupted %d of %d targets (seed %d)", mask.sum(), mask.size, seed)
    X_train, X_test, y_test = prepared.X_train, prepared.X_test, prepared.y_test
    _, _, fit = train_and_evaluate(
        X_train, y_corrupted, X_test, y_test, config, seed, checkpoint_dir
    )
    targets = pd.DataFrame(
        {
            "train_index": prepared.train["train_index"],
            "target": prepared.y_train,
            "corrupted_target": y_corrupted,
            "corrupted": mask,
        }
    )
    metrics = {
        "seed": seed,
        "n_corrupted": int(mask.sum()),
        "train_corrupted_targets": fit["train"],
        "test": fit["test"],
        "wall_seconds": fit["wall_seconds"],
    }
    return targets, metrics


def detection_scores(
    manifest: Manifest,
    X,
    y,
    epochs,
    batch_size: int,
    dtype: torch.dtype,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """The scores (N,) that rank training points (X (N, F), targets y (N,) as trained on) for
    inspection, keyed by the names in `SCORES`: TracInCP self-influence over the checkpoints
    of `epochs`, all layers and last layer only; self-influence over all layers at the last
    saved checkpoint alone (all three from one engine pass); the final training loss; the training
    loss summed over the checkpoints of `epochs`; uniform random scores drawn from `rng`.
    """
    last = manifest.checkpoints[-1]
    engine = TracInCP(
        manifest.build_model(),
        manifest.select(sorted({*epochs, last.epoch})),
        batch_size=batch_size,
        dtype=dtype,
    )
    result = engine.compute(X, y)
    return {
        "self_influence_all_layers": result.self_total(epochs),
        "self_influence_last_layer": result.self_total(epochs, result.layer_names[-1:]),
        "self_influence_last_checkpoint": result.self_total([last.epoch]),
        "final_loss": final_loss(load_checkpoint(last, manifest.build_model()), X, y),
        "summed_loss": checkpoint_losses(manifest, epochs, X, y).sum(0),
        "random": random_scores(len(y), rng),
    }


def detection_results(
    scores: dict, mask, seed: int, grid_points: int = 201
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`detection_table` and `curves_on_grid` (on `grid_points` evenly spaced inspected
    fractions from 0 to 1) of named scores (N,), each with a `seed` column."""
    detection = detection_table(scores, mask).assign(seed=seed)
    grid = np.linspace(0, 1, grid_points)
    return detection, curves_on_grid(scores, mask, grid).assign(seed=seed)


def _finite(value) -> float | None:
    """A float for JSON, None for NaN (e.g. the sd of a single seed)."""
    return None if pd.isna(value) else float(value)


def summarise_detection(
    detection: pd.DataFrame, corruption: CorruptionSettings
) -> tuple[pd.DataFrame, dict]:
    """Mean, sd and n over seeds of each detection metric of each score.

    detection: the concatenated `detection_results` tables of all seeds. Returns the long
    table (`mean_sd`: score, metric, mean, sd, n) and, for JSON, `seeds`, the `corruption`
    settings and `scores` -> score -> metric -> {mean, sd, n} (NaN as None).
    """
    metrics = [c for c in detection.columns if c not in ("score", "seed")]
    summary = mean_sd(detection, ["score"], metrics)
    doc = {
        "seeds": sorted(detection["seed"].unique().tolist()),
        "corruption": corruption.params(),
        "scores": {
            score: {
                r["metric"]: {"mean": _finite(r["mean"]), "sd": _finite(r["sd"]), "n": int(r["n"])}
                for _, r in g.iterrows()
            }
            for score, g in summary.groupby("score", sort=False)
        },
    }
    return summary, doc
