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

With power (`run_subsets`, `bootstrap_lds`, `noise_ceiling`): the queries are the Palo
Alto houses plus a fixed random sample of test houses (`query_houses`); each subset is
retrained under a protocol of `removal.retrain_without` (its complement removed; the
fixed-order protocol by default, so the actual losses carry the subset's effect and not
a new batch order's); the mean LDS over queries gets a bootstrap interval over subsets,
and a second retraining of the same subsets (another seed's replay, or the other protocol)
gives the noise ceiling: how well the first set of actual losses predicts the second.
"""

import logging
import math
import time

import numpy as np
import pandas as pd
from scipy import stats

from tracin_study.checkpoints import Manifest
from tracin_study.config import TrainingConfig
from tracin_study.data import PreparedData
from tracin_study.experiments.removal import house_losses, retrain_without
from tracin_study.influence import TracInCP
from tracin_study.loss_rankings import loss_scores
from tracin_study.statistics import mean_sd_ci, spearman

log = logging.getLogger(__name__)

METHODS = ("raw", "adam", "last_layer", "raw_all_checkpoints")
"""The scores compared: TracInCP over the `influence.epochs` checkpoints, all layers
(`raw`), Adam-preconditioned (`adam`), last layer only (`last_layer`), and over every
checkpoint saved after epoch 0 (`raw_all_checkpoints`)."""

BASELINE = "summed_training_loss"
"""The score-free baseline: each training house's loss summed over the `influence.epochs`
checkpoints, the same score for every query (`baseline_scores`)."""


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
    """Retrain model `seed` on the training houses `kept` (subset m) with a new batch order
    (the current rules' protocol) and record `subset`,
    `seed`, `kept` (train_index list), `test_index` (H,), per-house `loss` (H,) in
    ($100,000)^2 and `wall_seconds`."""
    start = time.perf_counter()
    test_index = houses["test_index"].to_numpy()
    removed = np.setdiff1d(np.arange(len(prepared.train)), kept)
    model = retrain_without(prepared, config, seed, removed, "new_order")
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


# The LDS with power and a ceiling ---------------------------------------------------------


def query_houses(n_test: int, palo_alto, n_queries: int, query_seed: int) -> np.ndarray:
    """test_index (n_queries,) of the LDS queries: the Palo Alto houses `palo_alto` first,
    in their order, then the others drawn without replacement from the remaining test
    houses by `default_rng(query_seed)`, sorted."""
    palo_alto = np.asarray(palo_alto, dtype=np.int64)
    if not palo_alto.size <= n_queries <= n_test:
        raise ValueError(
            f"lds.n_queries={n_queries} must lie between the {palo_alto.size} Palo Alto houses "
            f"and the {n_test} test houses"
        )
    others = np.setdiff1d(np.arange(n_test), palo_alto)
    drawn = np.random.default_rng(query_seed).choice(
        others, size=n_queries - palo_alto.size, replace=False
    )
    return np.concatenate([palo_alto, np.sort(drawn)])


def run_subsets(
    subsets,
    n_train: int,
    fraction: float,
    subset_seed: int,
    prepared: PreparedData,
    test_index,
    config: TrainingConfig,
    seed: int,
    protocol: str,
) -> list[dict]:
    """Retrain model `seed` once per subset m of `subsets` (`lds_subset`) under `protocol`,
    the subset's complement removed, and record, JSON-ready: `subset`, `seed`, `protocol`,
    `kept` (train_index list), `test_index` (H,), `loss` (H,) in ($100,000)^2 and
    `wall_seconds`. Logs one line per retraining with its time."""
    test_index = np.asarray(test_index)
    records = []
    for i, m in enumerate(subsets, 1):
        start = time.perf_counter()
        kept = lds_subset(n_train, fraction, subset_seed, int(m))
        removed = np.setdiff1d(np.arange(n_train), kept)
        model = retrain_without(prepared, config, seed, removed, protocol)
        loss = house_losses(model, prepared, test_index)
        seconds = time.perf_counter() - start
        records.append(
            {
                "subset": int(m),
                "seed": seed,
                "protocol": protocol,
                "kept": kept.tolist(),
                "test_index": test_index.tolist(),
                "loss": loss.tolist(),
                "wall_seconds": seconds,
            }
        )
        log.info(
            "subset %d (%d/%d, seed %d, %s): summed query loss %.4f in %.1f s",
            m,
            i,
            len(subsets),
            seed,
            protocol,
            loss.sum(),
            seconds,
        )
    return records


def baseline_scores(manifest: Manifest, prepared: PreparedData, epochs, n_queries: int):
    """`BASELINE` as a score matrix (n_queries, N): the summed training loss (`loss_scores`)
    of every training house over the checkpoints of `epochs`, repeated for each query."""
    summed = loss_scores(manifest, list(epochs), prepared.X_train, prepared.y_train)["summed_loss"]
    return np.broadcast_to(np.asarray(summed, np.float64), (n_queries, summed.size)).copy()


def column_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation of each column pair of a and b (M, H), ties averaged: (H,);
    NaN for a constant column."""
    ra, rb = stats.rankdata(a, axis=0), stats.rankdata(b, axis=0)
    ra, rb = ra - ra.mean(0), rb - rb.mean(0)
    denominator = np.sqrt((ra**2).sum(0) * (rb**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (ra * rb).sum(0) / denominator, np.nan)


def _ordered(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: r["subset"])


def bootstrap_lds(
    scores: np.ndarray, methods, records: list[dict], n_boot: int, boot_seed: int
) -> dict:
    """Mean LDS over queries per method, with a 95% percentile bootstrap interval over
    subsets, and the paired difference of every two methods on the same resamples.

    scores: (methods, H, N) on the records' queries; records: `run_subsets` records. Each
    of `n_boot` resamples draws M subsets with replacement (`default_rng(boot_seed)`) and
    recomputes every query's Spearman and their mean (NaN queries left out). Returns
    {"methods": {method: {mean, ci95, per_query_sd, n_queries}}, "differences":
    {"a - b": {mean, ci95}}, "subsets": M, "queries": H, "bootstrap": n_boot}.
    """
    records = _ordered(records)
    masks = subset_masks(records, scores.shape[-1])
    actual = np.array([r["loss"] for r in records], dtype=np.float64)
    predicted = np.stack([predicted_losses(s, masks) for s in scores])  # (methods, M, H)
    rng = np.random.default_rng(boot_seed)
    m = len(records)
    replicates = np.empty((n_boot, len(methods)))
    for b in range(n_boot):
        idx = rng.integers(0, m, size=m)
        for j in range(len(methods)):
            replicates[b, j] = np.nanmean(column_spearman(predicted[j, idx], actual[idx]))
    per_query = np.stack([column_spearman(p, actual) for p in predicted])  # (methods, H)

    def interval(values):
        return [float(np.nanpercentile(values, 2.5)), float(np.nanpercentile(values, 97.5))]

    out = {"subsets": m, "queries": int(actual.shape[1]), "bootstrap": n_boot, "methods": {}}
    for j, method in enumerate(methods):
        out["methods"][method] = {
            "mean": float(np.nanmean(per_query[j])),
            "ci95": interval(replicates[:, j]),
            "per_query_sd": float(np.nanstd(per_query[j], ddof=1)),
            "n_queries": int(np.isfinite(per_query[j]).sum()),
        }
    out["differences"] = {
        f"{a} - {b}": {
            "mean": float(np.nanmean(per_query[i] - per_query[k])),
            "ci95": interval(replicates[:, i] - replicates[:, k]),
        }
        for i, a in enumerate(methods)
        for k, b in enumerate(methods)
        if i < k
    }
    return out


def noise_ceiling(records: list[dict], second: list[dict]) -> dict:
    """Agreement of two retrainings of the same subsets (e.g. two seeds' replays, or two
    protocols): per query, the Spearman over subsets between the two sets of actual
    losses; returns `mean` over queries, `per_query` (H,) and `subsets`. No score can
    order the subsets much better than this."""
    first, second = _ordered(records), _ordered(second)
    if [r["subset"] for r in first] != [r["subset"] for r in second] or any(
        a["test_index"] != b["test_index"] for a, b in zip(first, second, strict=True)
    ):
        raise ValueError(
            "the two sets of LDS records differ in their subsets or queries; retrain the same "
            "subsets on the same queries for the ceiling"
        )
    a = np.array([r["loss"] for r in first], dtype=np.float64)
    b = np.array([r["loss"] for r in second], dtype=np.float64)
    per_query = column_spearman(a, b)
    return {
        "mean": float(np.nanmean(per_query)),
        "per_query": per_query.tolist(),
        "subsets": len(first),
    }


def spearman_se(n_subsets: int) -> float:
    """Approximate standard error of one query's Spearman correlation over `n_subsets`
    subsets near zero correlation: 1 / sqrt(n_subsets - 3)."""
    return 1 / math.sqrt(n_subsets - 3) if n_subsets > 3 else math.nan
