"""Linear datamodeling score (LDS) of TracIn scores on the Palo Alto test houses.

Retrain one model seed's recipe (its initialisation and batch order) on M random halves of
the training split and record each test house's squared error, in ($100,000)^2. A score
matrix S (houses x training houses) predicts the loss of house j after training on subset A
as the change in loss it attributes to A. A positive TracIn score means the training house
lowers the test loss, so the prediction is

    predicted[m, j] = -sum_{i in A_m} S[j, i].

The LDS of a method and house is the Spearman correlation, across the M subsets, of the
predicted and the actual loss (Park et al., 2023, "TRAK"); 1 means the scores order the
subsets as retraining does.
"""

import time

import numpy as np
import pandas as pd

from tracin_study.agreement import spearman
from tracin_study.analysis import mean_sd_ci
from tracin_study.checkpoints import Manifest
from tracin_study.config import TrainingConfig
from tracin_study.data import PreparedData
from tracin_study.experiments.removal import house_losses, retrain_keeping
from tracin_study.influence import TracInCP

METHODS = ("raw", "adam", "last_layer", "raw_all_checkpoints")
"""The scores compared: TracInCP over the `influence.epochs` checkpoints, all layers
(`raw`), Adam-preconditioned (`adam`), last layer only (`last_layer`), and over every
checkpoint saved after epoch 0 (`raw_all_checkpoints`)."""


def subset_size(n_train: int, fraction: float) -> int:
    """Training houses per subset: round(fraction x n_train)."""
    return int(round(fraction * n_train))


def lds_subset(n_train: int, fraction: float, subset_seed: int, m: int) -> np.ndarray:
    """train_index of subset m, sorted: `subset_size` of the n_train houses drawn without
    replacement by `np.random.default_rng([subset_seed, m])`."""
    rng = np.random.default_rng([subset_seed, m])
    return np.sort(rng.choice(n_train, size=subset_size(n_train, fraction), replace=False))


def subset_record(
    m: int,
    kept: np.ndarray,
    prepared: PreparedData,
    houses: pd.DataFrame,
    config: TrainingConfig,
    seed: int,
) -> dict:
    """Retrain model `seed` on the training houses `kept` (subset m) and record `subset`,
    `seed`, `kept` (train_index list), `test_index` (H,), per-house `loss` (H,) in
    ($100,000)^2 and `wall_seconds`."""
    start = time.perf_counter()
    test_index = houses["test_index"].to_numpy()
    model = retrain_keeping(prepared, config, seed, kept)
    return {
        "subset": m,
        "seed": seed,
        "kept": [int(i) for i in kept],
        "test_index": test_index.tolist(),
        "loss": house_losses(model, prepared, test_index).tolist(),
        "wall_seconds": time.perf_counter() - start,
    }


def method_scores(
    manifest: Manifest,
    prepared: PreparedData,
    test_index: np.ndarray,
    epochs: list[int],
    batch_size: int,
) -> np.ndarray:
    """TracInCP of the N training houses on the test houses at `test_index` (H,) for each of
    `METHODS`, in two engine passes (raw over every checkpoint needed, Adam over `epochs`):
    float64 (len(METHODS), H, N)."""
    after_start = [c.epoch for c in manifest.checkpoints if c.epoch > 0]
    X_test, y_test = prepared.test_points(test_index)
    data = (prepared.X_train, prepared.y_train, X_test, y_test)
    model = manifest.build_model()
    raw = TracInCP(
        model, manifest.select(sorted({*epochs, *after_start})), batch_size=batch_size
    ).compute(*data)
    adam = TracInCP(
        model, manifest.select(epochs), batch_size=batch_size, preconditioner="adam"
    ).compute(*data)
    return np.stack(
        [
            raw.influence_total(epochs),
            adam.influence_total(),
            raw.influence_total(epochs, layers=raw.layer_names[-1:]),
            raw.influence_total(after_start),
        ]
    )


def subset_masks(records: list[dict], n_train: int) -> np.ndarray:
    """Which training houses each record's subset kept: bool (M, n_train), in record order."""
    masks = np.zeros((len(records), n_train), dtype=bool)
    for row, record in zip(masks, records, strict=True):
        row[record["kept"]] = True
    return masks


def predicted_losses(scores: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Loss change each subset's houses are credited with by `scores` (H, N): for masks
    (M, N), -masks @ scores.T, (M, H)."""
    return -(masks.astype(np.float64) @ np.asarray(scores, dtype=np.float64).T)


def house_lds(scores: np.ndarray, masks: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """LDS of each test house (H,): Spearman correlation across the M subsets of the
    `predicted_losses` of `scores` (H, N) and the `actual` losses (M, H)."""
    predicted = predicted_losses(scores, masks)
    return np.array([spearman(p, a) for p, a in zip(predicted.T, actual.T, strict=True)])


def lds_per_house(scores: np.ndarray, methods, test_index, records: list[dict]) -> pd.DataFrame:
    """One row per (method, test house): `method`, `test_index`, `lds`. scores: (methods,
    H, N) from `method_scores`; records: the `subset_record`s, whose test houses must be
    `test_index` (H,)."""
    for record in records:
        if record["test_index"] != list(test_index):
            raise ValueError(
                f"subset {record['subset']} was scored on test houses {record['test_index']}, "
                f"the scores on {list(test_index)}; rerun lds_train and lds_scores together"
            )
    masks = subset_masks(records, scores.shape[-1])
    actual = np.array([r["loss"] for r in records])
    frames = [
        pd.DataFrame({"method": m, "test_index": test_index, "lds": house_lds(s, masks, actual)})
        for m, s in zip(methods, scores, strict=True)
    ]
    return pd.concat(frames, ignore_index=True)


def lds_by_method(per_house: pd.DataFrame) -> pd.DataFrame:
    """Per method (index, in order of appearance): mean and sample sd (ddof=1) of the LDS
    over test houses, and n houses with a defined LDS."""
    grouped = per_house.groupby("method", sort=False)["lds"]
    return grouped.agg(mean="mean", sd="std", n="count")


def summary_doc(by_method: pd.DataFrame, records: list[dict]) -> dict:
    """The LDS for the report's summary.json: `subsets`, `seed` and, per method, `mean`,
    `sd` (None when undefined) and `n` from `lds_by_method`."""
    return {
        "subsets": len(records),
        "seed": int(records[0]["seed"]),
        "methods": {
            method: {
                "mean": None if pd.isna(row["mean"]) else float(row["mean"]),
                "sd": None if pd.isna(row["sd"]) else float(row["sd"]),
                "n": int(row["n"]),
            }
            for method, row in by_method.iterrows()
        },
    }


def compare_methods(per_house: pd.DataFrame, method: str, reference: str) -> dict:
    """Paired comparison over test houses of the LDS of `method` and `reference`.

    Returns the mean difference (method - reference), its sd, 95% t-interval and n over the
    houses where both are defined, and `preferred`: `method` or `reference` when the interval
    excludes 0 on that side, else None. The houses share one set of retrainings, so the
    interval speaks for these subsets and this model seed only.
    """
    table = per_house.pivot(index="test_index", columns="method", values="lds")
    for name in (method, reference):
        if name not in table:
            raise KeyError(f"no LDS for method {name!r}; the methods are {list(table.columns)}")
    difference = (table[method] - table[reference]).dropna()
    stats = mean_sd_ci(difference.to_numpy())
    low, high = stats["ci95"]
    preferred = method if low > 0 else reference if high < 0 else None
    return {"method": method, "reference": reference, **stats, "preferred": preferred}
