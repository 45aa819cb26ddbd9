"""Linear datamodeling score (LDS) of TracIn scores on the Palo Alto test houses.

Retrain one model seed's run (its initialisation and batch order) on M random halves of
the training split and record each test house's squared error, in ($100,000)^2. A score
matrix S (houses x training houses) predicts the loss of house j after training on subset A
as the change in loss it attributes to A. A positive TracIn score means the training house
lowers the test loss, so the prediction is

    predicted[m, j] = -sum_{i in A_m} S[j, i].

The LDS of a method and house is the Spearman correlation, across the M subsets, of the
predicted and the actual loss (Park et al., 2023, "TRAK"); 1 means the scores order the
subsets as retraining does.

With power (`run_subsets`, `lds_intervals`, `noise_ceiling`): the queries are the Palo
Alto houses plus a fixed random sample of test houses (`query_houses`); each subset is
retrained under a protocol of `training.retrain_without` (its complement removed; the
fixed-order protocol by default, so the actual losses carry the subset's effect and not
a new batch order's); the mean LDS over queries gets a bootstrap interval over subsets,
and a second retraining of the same subsets (another seed's replay, or the other protocol)
gives the noise ceiling: how well the first set of actual losses predicts the second.
"""

import itertools
import logging
import math
import time

import numpy as np
import pandas as pd

from tracin_study.checkpoints import Manifest
from tracin_study.config import LdsSettings, TrainingSettings
from tracin_study.data import PreparedData
from tracin_study.influence import TracInCP
from tracin_study.loss_rankings import loss_scores
from tracin_study.statistics import (
    averaged_reliability,
    bootstrap,
    column_spearman,
    n_for_half_width,
    percentile_interval,
    spearman_se,
)
from tracin_study.training import house_losses, retrain_without

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
    config: TrainingSettings,
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


def _ordered(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: r["subset"])


def lds_intervals(
    scores: np.ndarray, methods, records: list[dict], n_boot: int, boot_seed: int
) -> dict:
    """Mean LDS over queries per method, with a 95% percentile bootstrap interval over
    subsets, and the paired difference of every two methods on the same resamples.

    scores: (methods, H, N) on the records' queries; records: `run_subsets` records. Each
    of `n_boot` resamples (`statistics.bootstrap`, seed `boot_seed`) draws M subsets with
    replacement and recomputes every query's Spearman and their mean (NaN queries left
    out). Returns
    {"methods": {method: {mean, ci95, per_query_sd, n_queries}}, "differences":
    {"a - b": {mean, ci95}}, "subsets": M, "queries": H, "bootstrap": n_boot}.
    """
    records = _ordered(records)
    masks = subset_masks(records, scores.shape[-1])
    actual = np.array([r["loss"] for r in records], dtype=np.float64)
    predicted = np.stack([predicted_losses(s, masks) for s in scores])  # (methods, M, H)
    m = len(records)

    def mean_lds(idx):
        return [np.nanmean(column_spearman(p[idx], actual[idx])) for p in predicted]

    replicates = bootstrap(mean_lds, m, n_boot, boot_seed)  # (n_boot, methods)
    per_query = np.stack([column_spearman(p, actual) for p in predicted])  # (methods, H)

    out = {"subsets": m, "queries": int(actual.shape[1]), "bootstrap": n_boot, "methods": {}}
    for j, method in enumerate(methods):
        out["methods"][method] = {
            "mean": float(np.nanmean(per_query[j])),
            "ci95": percentile_interval(replicates[:, j]),
            "per_query_sd": float(np.nanstd(per_query[j], ddof=1)),
            "n_queries": int(np.isfinite(per_query[j]).sum()),
        }
    out["differences"] = {
        f"{a} - {b}": _difference(
            per_query[i] - per_query[k], percentile_interval(replicates[:, i] - replicates[:, k])
        )
        for i, a in enumerate(methods)
        for k, b in enumerate(methods)
        if i < k
    }
    return out


def _difference(per_query: np.ndarray, ci95: list[float]) -> dict:
    """A paired difference: its mean over queries, its interval and the smallest paired
    difference that interval can tell from 0, its half-width."""
    return {
        "mean": float(np.nanmean(per_query)),
        "ci95": ci95,
        "detectable_difference": (ci95[1] - ci95[0]) / 2,
    }


def ceiling_interval(
    records: list[dict], second: list[dict], n_boot: int, boot_seed: int
) -> list[float]:
    """The 95% percentile bootstrap interval over subsets of the mean `noise_ceiling`
    (`statistics.bootstrap`), on the resamples of `lds_intervals` (same `boot_seed`, same
    subsets drawn)."""
    first, second = _ordered(records), _ordered(second)
    noise_ceiling(first, second)  # the same subsets and queries, or a ValueError
    a = np.array([r["loss"] for r in first], dtype=np.float64)
    b = np.array([r["loss"] for r in second], dtype=np.float64)
    mean_ceiling = bootstrap(
        lambda idx: np.nanmean(column_spearman(a[idx], b[idx])), len(first), n_boot, boot_seed
    )
    return percentile_interval(mean_ceiling)


TARGET_HALF_WIDTH = 0.05
"""The LDS interval a decisive study would aim for: +-0.05 around the mean LDS."""

MODELS_PER_SUBSET = (1, 2, 4, 8)
"""Models averaged per subset in the power plan (`power`)."""


def power(doc: dict, seconds_per_retraining: float) -> dict:
    """What a narrower LDS would take, from an LDS `doc` (`summary`'s methods, n_subsets
    and noise_ceiling): `half_width`, the widest half-width of the methods' intervals;
    `subsets_needed` for `TARGET_HALF_WIDTH` (`statistics.n_for_half_width`: the interval
    is set by the subsets); per number of models averaged on each subset (`MODELS_PER_SUBSET`),
    the `ceiling` (the correlation a perfect score could reach with the averaged loss:
    sqrt of the Spearman-Brown reliability of the measured ceiling; None when that is not
    above 0: there is no agreement to build on) and the `cpu_hours`
    of subsets_needed x models x 2 (the scored and the ceiling's retrainings) at
    `seconds_per_retraining`."""
    halves = [(m["ci95"][1] - m["ci95"][0]) / 2 for m in doc["methods"].values()]
    halves = [h for h in halves if math.isfinite(h)]
    if not halves:
        raise ValueError("no method has a finite LDS interval; raise `subsets` in the lds section")
    half = max(halves)
    subsets = n_for_half_width(half, doc["n_subsets"], TARGET_HALF_WIDTH)
    r = doc["noise_ceiling"]["mean"]
    return {
        "target_half_width": TARGET_HALF_WIDTH,
        "half_width": half,
        "subsets_needed": subsets,
        "seconds_per_retraining": seconds_per_retraining,
        "models_per_subset": [
            {
                "models": n,
                "ceiling": math.sqrt(averaged_reliability(r, n)) if r > 0 else None,
                "cpu_hours": subsets * n * 2 * seconds_per_retraining / 3600,
            }
            for n in MODELS_PER_SUBSET
        ],
    }


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


def run_retrainings(
    retrainings,
    prepared: PreparedData,
    test_index,
    config: TrainingSettings,
    cfg: LdsSettings,
) -> list[dict]:
    """`run_subsets` of `retrainings`, (model seed, protocol, subset) triples as
    `run_plans.lds_retrainings` gives them (e.g. one job's chunk), each consecutive run of one
    seed and protocol in one call, on the subsets of `cfg` (fraction, subset_seed)."""
    records = []
    for (seed, protocol), group in itertools.groupby(retrainings, key=lambda r: r[:2]):
        subsets = [m for _, _, m in group]
        records += run_subsets(
            subsets,
            len(prepared.train),
            cfg.fraction,
            cfg.subset_seed,
            prepared,
            test_index,
            config,
            int(seed),
            protocol,
        )
    return records


def split_ceiling(records: list[dict], cfg: LdsSettings) -> tuple[list[dict], list[dict]]:
    """The records of the scored retrainings (model `cfg.seed` under `cfg.protocol`) and
    those of the noise ceiling (the others), each ordered by subset."""
    scored = [r for r in records if (r["seed"], r["protocol"]) == (cfg.seed, cfg.protocol)]
    ceiling = [r for r in records if (r["seed"], r["protocol"]) != (cfg.seed, cfg.protocol)]
    return _ordered(scored), _ordered(ceiling)


def per_query(
    scores: np.ndarray, methods, records: list[dict], ceiling: list[dict], palo_alto
) -> pd.DataFrame:
    """One row per query house (in the records' order): `test_index`, `palo_alto` (one of
    the Palo Alto houses `palo_alto`), the LDS of each of `methods` (scores (methods, H,
    N)) over the `records`' subsets, and `noise_ceiling`, the Spearman between the
    records' and the `ceiling` records' actual losses."""
    records = _ordered(records)
    masks = subset_masks(records, scores.shape[-1])
    actual = np.array([r["loss"] for r in records], dtype=np.float64)
    test_index = records[0]["test_index"]
    table = pd.DataFrame({"test_index": test_index})
    table["palo_alto"] = table["test_index"].isin(list(palo_alto))
    for method, matrix in zip(methods, scores, strict=True):
        table[method] = column_spearman(predicted_losses(matrix, masks), actual)
    table["noise_ceiling"] = noise_ceiling(records, ceiling)["per_query"]
    return table


def summary(
    scores: np.ndarray, methods, records: list[dict], cfg: LdsSettings, palo_alto
) -> tuple[dict, pd.DataFrame]:
    """The LDS for summary.json and its per-query table (`per_query`), from all the
    retrainings' `records` of section `cfg` and the scores (methods, H, N) on their queries.

    The doc: `seed`, `protocol`, `fraction`, `n_subsets`, `n_queries`, `n_palo_alto`,
    `bootstrap`, `methods` and `differences` (`lds_intervals`: per method mean, ci95,
    per_query_sd, n_queries; per pair "a - b" mean, ci95 and detectable_difference),
    `noise_ceiling` (mean over queries, its `ci95` (`ceiling_interval`), `seed`,
    `protocol` and `subsets`), `spearman_se` (one query's standard error at these
    subsets) and `power` (`power`, at the records' mean wall seconds per retraining)."""
    scored, ceiling = split_ceiling(records, cfg)
    lds = lds_intervals(scores, methods, scored, cfg.bootstrap, cfg.bootstrap_seed)
    ceiling_doc = noise_ceiling(scored, ceiling)
    table = per_query(scores, methods, scored, ceiling, palo_alto)
    doc = {
        "seed": cfg.seed,
        "protocol": cfg.protocol,
        "fraction": cfg.fraction,
        "n_subsets": len(scored),
        "n_queries": len(table),
        "n_palo_alto": int(table["palo_alto"].sum()),
        "bootstrap": cfg.bootstrap,
        "methods": lds["methods"],
        "differences": lds["differences"],
        "noise_ceiling": {
            "mean": ceiling_doc["mean"],
            "ci95": ceiling_interval(scored, ceiling, cfg.bootstrap, cfg.bootstrap_seed),
            "seed": int(ceiling[0]["seed"]),
            "protocol": ceiling[0]["protocol"],
            "subsets": ceiling_doc["subsets"],
        },
        "spearman_se": spearman_se(len(scored)),
    }
    seconds = float(np.mean([r["wall_seconds"] for r in records]))
    doc["power"] = power(doc, seconds)
    return doc, table
