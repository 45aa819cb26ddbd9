"""Agreement between two score vectors over the same items: correlation and top-k overlap.

Used to compare influence approximations (TracInIdeal, first-order TracIn, TracInCP
variants) and the same scores across seeds. Every function takes two 1-D arrays `a` and `b`
of equal length N (one score per item, e.g. per training point); `compare_rows` takes two
(M, N) matrices and compares them row by row.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from tracin_study.influence import ALL_TEST_POINTS

METRICS = ("pearson", "spearman", "top_k_overlap")


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


def top_k(scores, k: int) -> np.ndarray:
    """Positions of the k largest scores (N,), largest first; ties keep the lower position."""
    scores = np.asarray(scores, dtype=np.float64)
    if not 1 <= k <= scores.size:
        raise ValueError(f"k={k} must lie between 1 and the number of scores, {scores.size}")
    return np.argsort(-scores, kind="stable")[:k]


def top_k_overlap(a, b, k: int) -> float:
    """|topk(a) ∩ topk(b)| / k for a and b (N,), by largest values (for the most negative,
    pass -a and -b). 1 means the same k items, in any order."""
    a, b = _pair(a, b)
    return len(np.intersect1d(top_k(a, k), top_k(b, k))) / k


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

    The summary of many columns and groups; `analysis.mean_sd_ci` summarises one sample
    with its confidence interval."""
    grouped = frame.groupby(by, sort=False, dropna=False)[list(values)]
    long = grouped.agg(["mean", "std", "count"]).stack(level=0, future_stack=True)
    long.index = long.index.set_names([*by, "metric"])
    return long.rename(columns={"std": "sd", "count": "n"}).reset_index()
