"""Turning the paper's qualitative claims into numbers, per seed and across seeds.

A claim is scored per seed as a ratio "statistic of the selected houses / the same
statistic of all training houses" (1 = no effect); `mean_sd_ci` summarises per-seed values
and `tracin_study.verdicts` turns them into verdicts.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.neighbors import NearestNeighbors

from tracin_study.agreement import spearman, top_k_overlap
from tracin_study.data import TARGET
from tracin_study.geo import haversine_km, in_bay_area
from tracin_study.influence import ALL_TEST_POINTS

CAPPED_PRICE = 5.0  # MedHouseVal is capped at 5.00001 ($500,001)


CONFIDENCE = 0.95  # of every interval across seeds (`mean_sd_ci`, `verdicts`)


def t_quantile(dof: int) -> float:
    """Quantile of Student's t (`dof` degrees of freedom) for a two-sided `CONFIDENCE`
    interval."""
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof))


def mean_sd_ci(values) -> dict:
    """Mean, sample sd (ddof=1) and 95% t-interval of the per-seed values, plus n.

    The summary of one sample; `agreement.mean_sd` gives mean, sd and n of many columns
    within groups of a table."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    half = t_quantile(n - 1) * sd / math.sqrt(n) if n > 1 else math.nan
    return {"mean": mean, "sd": sd, "ci95": [mean - half, mean + half], "n": n}


def neighbour_distances(X: np.ndarray, k: int = 10) -> pd.DataFrame:
    """For each row of X (N, F) (standardised features): the distance to its nearest other
    row (`nn_distance`) and the mean distance to its k nearest (`knn_distance`, the inverse
    of local density), in standard-deviation units."""
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return pd.DataFrame({"nn_distance": distances[:, 1], "knn_distance": distances[:, 1:].mean(1)})


def top_self_influence(table: pd.DataFrame, n: int, column: str = "self_influence"):
    """The n training houses with the highest and with the lowest `column`, as two tables."""
    order = np.argsort(-table[column].to_numpy(), kind="stable")
    return table.iloc[order[:n]], table.iloc[order[::-1][:n]]


def self_influence_measures(table: pd.DataFrame, neighbours: pd.DataFrame, n: int) -> dict:
    """Ratios "top-n self-influence houses / all training houses" (per seed) for
    capped-price share, nearest-neighbour distance and k-NN distance (medians), and the
    same for the n lowest; `table` is a self_influence.parquet table, `neighbours` the
    output of `neighbour_distances` for the same rows."""
    joined = pd.concat([table.reset_index(drop=True), neighbours], axis=1)
    capped = joined[TARGET] >= CAPPED_PRICE
    high, low = top_self_influence(joined, n)
    out = {"capped_share_all": float(capped.mean())}
    for name, part in (("high", high), ("low", low)):
        out[f"capped_share_{name}"] = float((part[TARGET] >= CAPPED_PRICE).mean())
        out[f"capped_ratio_{name}"] = out[f"capped_share_{name}"] / out["capped_share_all"]
        for col in ("nn_distance", "knn_distance"):
            out[f"{col}_ratio_{name}"] = float(part[col].median() / joined[col].median())
    out["spearman_self_influence_vs_knn_distance"] = spearman(
        joined["self_influence"], joined["knn_distance"]
    )
    return out


def proponent_measures(
    proponents: pd.DataFrame, train: pd.DataFrame, latitude: float, longitude: float
) -> dict:
    """Ratios "aggregate proponents (or opponents) / all training houses" for median price,
    median distance from (latitude, longitude) in km, and Bay Area share; `proponents` is a
    proponents.parquet table, `train` the raw training table indexed by `train_index`."""
    distance = haversine_km(train["Latitude"], train["Longitude"], latitude, longitude)
    bay = in_bay_area(train["Latitude"], train["Longitude"])
    out = {
        "median_price_all": float(train[TARGET].median()),
        "median_distance_km_all": float(np.median(distance)),
        "bay_area_share_all": float(bay.mean()),
    }
    aggregate = proponents[proponents["test_index"] == ALL_TEST_POINTS]
    for kind in ("proponent", "opponent"):
        idx = aggregate.loc[aggregate["kind"] == kind, "train_index"].to_numpy()
        out[f"n_{kind}s"] = int(idx.size)
        price = float(np.median(train[TARGET].to_numpy()[idx])) if idx.size else math.nan
        out[f"median_price_{kind}s"] = price
        out[f"median_distance_km_{kind}s"] = (
            float(np.median(distance[idx])) if idx.size else math.nan
        )
        out[f"bay_area_share_{kind}s"] = float(bay[idx].mean()) if idx.size else math.nan
        out[f"price_ratio_{kind}s"] = price / out["median_price_all"]
        out[f"distance_ratio_{kind}s"] = (
            out[f"median_distance_km_{kind}s"] / out["median_distance_km_all"]
        )
        out[f"bay_area_ratio_{kind}s"] = out[f"bay_area_share_{kind}s"] / out["bay_area_share_all"]
    return out


def pairwise(items: dict, fn) -> pd.DataFrame:
    """Symmetric matrix of fn(items[a], items[b]) over all pairs of keys (diagonal: fn(x, x))."""
    keys = list(items)
    values = [[fn(items[a], items[b]) for b in keys] for a in keys]
    return pd.DataFrame(values, index=keys, columns=keys)


def off_diagonal(matrix: pd.DataFrame) -> np.ndarray:
    """The values above the diagonal of a square matrix (one per unordered pair)."""
    rows, cols = np.triu_indices(len(matrix), k=1)
    return matrix.to_numpy()[rows, cols]


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
