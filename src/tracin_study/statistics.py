"""The study's statistics: intervals across seeds, correlations, top-k overlaps, bootstrap
intervals, pooled spreads and detection curves.

Seeds are the unit of replication: `mean_sd_ci` gives the 95% t-interval of the mean of
per-seed values, `seed_pairs_interval` that of a mean over seed pairs. `pearson`,
`spearman`, `top_k_overlap`, `compare` and `compare_rows` measure the agreement of two
score vectors over the same items (e.g. per training point), each taking two 1-D arrays `a`
and `b` of equal length N (`compare_rows`: two (M, N) matrices, row by row);
`column_spearman` correlates matrices column by column; `pairwise` builds seed x seed
matrices of such measures; `mean_sd` summarises many columns of a table. `bootstrap` and
`percentile_interval` give 95% intervals over resampled units (e.g. retrained subsets);
`pooled_sd` is the spread within groups; `detection_curve`, `detection_auc` and `recall_at`
measure how early a ranking finds marked items.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from tracin_study.influence import ALL_TEST_POINTS

METRICS = ("pearson", "spearman", "top_k_overlap")


CONFIDENCE = 0.95  # of every interval: t-intervals across seeds and bootstrap percentiles


def t_quantile(dof: int) -> float:
    """Quantile of Student's t (`dof` degrees of freedom) for a two-sided `CONFIDENCE`
    interval."""
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof))


def mean_sd_ci(values) -> dict:
    """Mean, sample sd (ddof=1) and 95% t-interval of the per-seed values, plus n.

    The summary of one sample; `mean_sd` gives mean, sd and n of many columns within
    groups of a table."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    half = t_quantile(n - 1) * sd / math.sqrt(n) if n > 1 else math.nan
    return {"mean": mean, "sd": sd, "ci95": [mean - half, mean + half], "n": n}


def pooled_sd(values, groups) -> float:
    """Within-group sample sd pooled over groups, for values and their group labels (n,):
    sqrt(sum of squared deviations from each group's mean / sum of (group size - 1)); NaN
    without two values in some group. Same unit as `values`."""
    frame = pd.DataFrame({"v": np.asarray(values, np.float64), "g": np.asarray(groups)})
    deviations = frame["v"] - frame.groupby("g")["v"].transform("mean")
    dof = int((frame.groupby("g").size() - 1).sum())
    return math.sqrt(float((deviations**2).sum()) / dof) if dof > 0 else math.nan


def half_width(noise_sd: float, n_seeds: int, n_draws: int) -> float:
    """Half-width h of the 95% interval over `n_seeds` seeds of an effect measured against
    the mean of `n_draws` random draws, when one draw's change has sd `noise_sd` within a
    seed: h = t(0.975, n_seeds - 1) x noise_sd x sqrt(1 + 1 / n_draws) / sqrt(n_seeds)
    (the set's own change and the draws' mean each carry the retraining noise); NaN below
    2 seeds or 1 draw. Same unit as `noise_sd`."""
    if n_seeds < 2 or n_draws < 1:
        return math.nan
    spread = noise_sd * math.sqrt(1 + 1 / n_draws)
    return t_quantile(n_seeds - 1) * spread / math.sqrt(n_seeds)


def detectable_effect(noise_sd: float, n_seeds: int, n_draws: int, margin: float) -> float:
    """The smallest detectable effect (SDE) of an effect judged with the equivalence margin
    +-`margin` (`verdicts.EffectRule`): the smallest mean effect that can be called
    reproduced, whose interval must exclude 0 (mean > h) and reach past the margin
    (mean + h > margin), so max(h, margin - h) with h = `half_width`. An effect of that
    size is found about half of the time; twice h is needed for most of the time. Also
    the largest |mean| at which "no effect" stays out of reach (it needs |mean| + h <
    margin). NaN where h is."""
    h = half_width(noise_sd, n_seeds, n_draws)
    return max(h, margin - h) if math.isfinite(h) else math.nan


def seeds_needed(
    noise_sd: float, n_draws: int, target: float, margin: float, max_seeds: int = 1000
) -> int | None:
    """The fewest seeds n >= 2 at which `detectable_effect`(noise_sd, n, n_draws, margin)
    <= `target`, or None if even `max_seeds` seeds do not reach it (also for a target
    below margin / 2, which max(h, margin - h) can never reach, or a NaN noise_sd)."""
    if not math.isfinite(noise_sd) or n_draws < 1:
        return None
    for n in range(2, max_seeds + 1):
        if detectable_effect(noise_sd, n, n_draws, margin) <= target:
            return n
    return None


def n_for_half_width(half_width: float, n: int, target: float) -> int:
    """The sample size at which an interval of half-width `half_width` at size `n` narrows
    to `target`, for a half-width that shrinks as 1 / sqrt(size) (a mean over independent
    units: seeds, subsets): ceil(n x (half_width / target)^2), at least n."""
    if not (half_width >= 0 and target > 0 and n > 0):
        raise ValueError(
            f"need half_width >= 0 and positive n and target, got {half_width}, {n}, {target}"
        )
    return max(n, math.ceil(n * (half_width / target) ** 2 - 1e-9))


def averaged_reliability(reliability: float, models: int) -> float:
    """Spearman-Brown: the correlation between two means of `models` independent
    measurements each, when two single measurements correlate `reliability`:
    models x r / (1 + (models - 1) x r)."""
    return models * reliability / (1 + (models - 1) * reliability)


def seed_pairs_interval(matrix: pd.DataFrame) -> dict:
    """Mean of the off-diagonal values of a symmetric seed x seed matrix (n x n) and a 95%
    interval that treats seeds, not the n(n-1)/2 pairs, as independent: the jackknife over
    seeds (leave one seed and its pairs out), with a t quantile on n - 1 degrees of freedom."""
    values = matrix.to_numpy(np.float64)
    n = len(values)
    rows, cols = np.triu_indices(n, k=1)
    mean = float(values[rows, cols].mean()) if n > 1 else math.nan
    if n < 3:
        return {"mean": mean, "ci95": [math.nan, math.nan], "n_seeds": n}
    loo = np.array([np.delete(np.delete(values, i, 0), i, 1) for i in range(n)])
    r, c = np.triu_indices(n - 1, k=1)
    estimates = loo[:, r, c].mean(1)
    se = math.sqrt((n - 1) / n * float(((estimates - estimates.mean()) ** 2).sum()))
    half = t_quantile(n - 1) * se
    return {"mean": mean, "ci95": [mean - half, mean + half], "n_seeds": n}


def bootstrap(statistic, n: int, n_boot: int, seed: int) -> np.ndarray:
    """`statistic(idx)` on each of `n_boot` resamples of n units (e.g. retrained subsets),
    idx (n,) the positions drawn with replacement by `default_rng(seed)`, one resample
    after the other: float64 (n_boot, *shape of one value). The same seed and n draw the
    same resamples for every statistic, so intervals of several statistics pair up."""
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, n, size=n)) for _ in range(n_boot)]
    return np.array(values, dtype=np.float64)


def percentile_interval(replicates) -> list[float]:
    """The `CONFIDENCE` percentile interval of bootstrap `replicates` (n_boot,), NaNs left
    out: [2.5th, 97.5th] percentile."""
    tail = 100 * CONFIDENCE / 2
    return [
        float(np.nanpercentile(replicates, 50 - tail)),
        float(np.nanpercentile(replicates, 50 + tail)),
    ]


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"need two 1-D score vectors of equal length, got {a.shape} and {b.shape}")
    if a.size < 2:
        raise ValueError(f"need at least 2 scores to compare, got {a.size}")
    bad = ~(np.isfinite(a) & np.isfinite(b))
    if bad.any():
        raise ValueError(f"non-finite scores at positions {np.flatnonzero(bad)[:5].tolist()}")
    return a, b


def _constant(x: np.ndarray) -> bool:
    return bool(np.all(x == x[0]))


def pearson(a, b) -> float:
    """Pearson correlation of a and b (N,); NaN when either is constant."""
    a, b = _pair(a, b)
    if _constant(a) or _constant(b):
        return math.nan
    return float(stats.pearsonr(a, b).statistic)


def spearman(a, b) -> float:
    """Spearman rank correlation of a and b (N,), ties averaged; NaN when either is constant."""
    a, b = _pair(a, b)
    if _constant(a) or _constant(b):
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


def column_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation of each column pair of a and b (M, H), ties averaged: (H,);
    NaN for a constant column."""
    ra, rb = stats.rankdata(a, axis=0), stats.rankdata(b, axis=0)
    ra, rb = ra - ra.mean(0), rb - rb.mean(0)
    denominator = np.sqrt((ra**2).sum(0) * (rb**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (ra * rb).sum(0) / denominator, np.nan)


def spearman_se(n: int) -> float:
    """Approximate standard error of a Spearman correlation over n pairs near zero
    correlation: 1 / sqrt(n - 3); NaN for n <= 3."""
    return 1 / math.sqrt(n - 3) if n > 3 else math.nan


def top_k_positions(scores, k: int) -> np.ndarray:
    """Positions of the k largest scores (N,), largest first; ties keep the lower position."""
    scores = np.asarray(scores, dtype=np.float64)
    if not 1 <= k <= scores.size:
        raise ValueError(f"k={k} must lie between 1 and the number of scores, {scores.size}")
    return np.argsort(-scores, kind="stable")[:k]


def top_k_overlap(a, b, k: int) -> float:
    """|topk(a) ∩ topk(b)| / k for a and b (N,), by largest values (for the most negative,
    pass -a and -b). 1 means the same k items, in any order."""
    a, b = _pair(a, b)
    return len(np.intersect1d(top_k_positions(a, k), top_k_positions(b, k))) / k


def compare(a, b, k: int) -> dict:
    """Pearson, Spearman and top-k overlap of a and b (N,), and k, as a dict."""
    return {
        "pearson": pearson(a, b),
        "spearman": spearman(a, b),
        "top_k_overlap": top_k_overlap(a, b, k),
        "k": int(k),
    }


def compare_rows(a, b, k: int, row_ids=None, total: bool = True) -> pd.DataFrame:
    """`compare` of each row of a and b (M, N), e.g. test points x training points.

    Returns one row per input row with column `row` (from `row_ids`, default 0..M-1) and the
    `compare` keys; with `total`, one more row, `row` = `ALL_TEST_POINTS` (-1), compares the
    column sums (influence on the summed test loss).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"need two (M, N) matrices of equal shape, got {a.shape} and {b.shape}")
    ids = np.arange(len(a)) if row_ids is None else np.asarray(row_ids)
    if ids.shape != (len(a),):
        raise ValueError(f"row_ids needs {len(a)} entries, got shape {ids.shape}")
    rows = [{"row": int(i), **compare(x, y, k)} for i, x, y in zip(ids, a, b, strict=True)]
    if total:
        rows.append({"row": ALL_TEST_POINTS, **compare(a.sum(0), b.sum(0), k)})
    return pd.DataFrame(rows)


def mean_sd(frame: pd.DataFrame, by: list[str], values=METRICS) -> pd.DataFrame:
    """Mean, sample standard deviation (ddof=1; NaN for one value) and count of each column
    in `values` within groups of `by`, in long form: columns `by`, metric, mean, sd, n.

    The summary of many columns and groups; `mean_sd_ci` summarises one sample with its
    confidence interval."""
    grouped = frame.groupby(by, sort=False, dropna=False)[list(values)]
    long = grouped.agg(["mean", "std", "count"]).stack(level=0, future_stack=True)
    long.index = long.index.set_names([*by, "metric"])
    return long.rename(columns={"std": "sd", "count": "n"}).reset_index()


def pairwise(items: dict, fn) -> pd.DataFrame:
    """Symmetric matrix of fn(items[a], items[b]) over all pairs of keys (diagonal: fn(x, x))."""
    keys = list(items)
    values = [[fn(items[a], items[b]) for b in keys] for a in keys]
    return pd.DataFrame(values, index=keys, columns=keys)


def proponent_set_overlap(
    a: pd.DataFrame, b: pd.DataFrame, test_index: int = ALL_TEST_POINTS
) -> float:
    """|A ∩ B| / k for the proponent sets (train_index) of one test point in two tables."""
    sets = [
        set(t.loc[(t["test_index"] == test_index) & (t["kind"] == "proponent"), "train_index"])
        for t in (a, b)
    ]
    k = max(len(sets[0]), len(sets[1]), 1)
    return len(sets[0] & sets[1]) / k


def self_influence_overlap(a: pd.DataFrame, b: pd.DataFrame, k: int) -> float:
    """Top-k overlap of two seeds' self-influence over the same training houses."""
    return top_k_overlap(a["self_influence"], b["self_influence"], k)


def detection_curve(scores, mask) -> tuple[np.ndarray, np.ndarray]:
    """Fraction inspected and fraction of marked items found, both (N + 1,) from 0 to 1.

    Items are inspected in decreasing order of `scores` (N,); ties keep the lower index.
    mask: (N,) bool, True for the items sought (e.g. corrupted points; at least one).
    """
    scores, mask = np.asarray(scores, dtype=np.float64), np.asarray(mask, dtype=bool)
    if scores.ndim != 1 or scores.shape != mask.shape:
        raise ValueError(f"scores {scores.shape} and mask {mask.shape} must be equal 1-D shapes")
    if not mask.any():
        raise ValueError("the mask marks no item to find")
    if not np.isfinite(scores).all():
        raise ValueError(f"non-finite scores at {np.flatnonzero(~np.isfinite(scores))[:5]}")
    order = np.argsort(-scores, kind="stable")
    found = np.concatenate([[0], np.cumsum(mask[order])]) / mask.sum()
    return np.arange(scores.size + 1) / scores.size, found


def detection_auc(scores, mask) -> float:
    """Area under the detection curve (trapezoids): 0.5 for a random order, and
    1 - c / (2N) for a perfect one with c marked items of N. Without tied scores it is
    c / (2N) + (N - c) / N x the ROC AUC."""
    inspected, found = detection_curve(scores, mask)
    return float(np.trapezoid(found, inspected))


def recall_at(scores, mask, fraction: float) -> float:
    """Fraction of marked items among the round(fraction * N) highest scores."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"inspected fraction={fraction} must lie in [0, 1]")
    _, found = detection_curve(scores, mask)
    return float(found[round(fraction * (found.size - 1))])
