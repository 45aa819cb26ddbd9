"""The Palo Alto proponents measured against baselines that share the test houses' place
and price level, aggregate and per test house.

`houses` is the palo_alto_test_points.csv table: the `n` test-split houses nearest (great
circle) to the configured centre of Palo Alto, whatever town they lie in; `proponents` a
proponents.parquet table; `prepared` the `PreparedData` of the run. Prices are MedHouseVal
in $100,000 (capped at 5.00001); the aggregate rows of `proponents` have test_index
`ALL_TEST_POINTS` (-1).
"""

import numpy as np
import pandas as pd

from tracin_study.data import CAPPED_PRICE, TARGET, PreparedData
from tracin_study.geo import haversine_km, in_bay_area
from tracin_study.influence import ALL_TEST_POINTS

BASELINES = {
    "opponents": "the aggregate opponents",
    "map_neighbours": "training houses nearest on the map to a test house",
    "feature_neighbours": "training houses nearest in standardised feature space",
    "random_bay_area": "random Bay Area training houses",
    "all_training": "all training houses",
}


def aggregate(proponents: pd.DataFrame, kind: str, test_index: int = ALL_TEST_POINTS) -> np.ndarray:
    """train_index (k,) of the proponents or opponents (`kind`) of one test house
    (`ALL_TEST_POINTS`: of all)."""
    rows = (proponents["test_index"] == test_index) & (proponents["kind"] == kind)
    return proponents.loc[rows, "train_index"].to_numpy()


def _nearest_to_any(distances: np.ndarray, n: int) -> np.ndarray:
    """Row positions of the n columns of `distances` (M, N) nearest to any of the M rows."""
    return np.argsort(distances.min(0), kind="stable")[:n]


def map_neighbours(train: pd.DataFrame, houses: pd.DataFrame, n: int) -> np.ndarray:
    """train_index (n,) of the training houses with the smallest great-circle distance to
    any test house, nearest first."""
    d = haversine_km(
        houses["Latitude"].to_numpy()[:, None],
        houses["Longitude"].to_numpy()[:, None],
        train["Latitude"].to_numpy()[None],
        train["Longitude"].to_numpy()[None],
    )
    return train["train_index"].to_numpy()[_nearest_to_any(d, n)]


def feature_neighbours(prepared: PreparedData, houses: pd.DataFrame, n: int) -> np.ndarray:
    """train_index (n,) of the training houses with the smallest Euclidean distance, in
    standardised features (all 8, location included), to any test house."""
    X = prepared.X_train.astype(np.float64)
    Q = prepared.features(houses).astype(np.float64)
    d = np.sqrt(((Q[:, None, :] - X[None]) ** 2).sum(-1))
    return prepared.train["train_index"].to_numpy()[_nearest_to_any(d, n)]


def random_bay_area(train: pd.DataFrame, n: int, seed: int) -> np.ndarray:
    """train_index (n,) of Bay Area training houses drawn without replacement."""
    bay = train["train_index"].to_numpy()[in_bay_area(train["Latitude"], train["Longitude"])]
    return np.sort(np.random.default_rng(seed).choice(bay, size=n, replace=False))


def baseline_sets(
    proponents: pd.DataFrame, prepared: PreparedData, houses: pd.DataFrame, seed: int = 0
) -> dict[str, np.ndarray]:
    """train_index arrays of the aggregate proponents and of each of `BASELINES`, each of
    the proponents' size (all_training: every house); `seed` drives the random draw."""
    chosen = aggregate(proponents, "proponent")
    n, train = chosen.size, prepared.train
    return {
        "proponents": chosen,
        "opponents": aggregate(proponents, "opponent"),
        "map_neighbours": map_neighbours(train, houses, n),
        "feature_neighbours": feature_neighbours(prepared, houses, n),
        "random_bay_area": random_bay_area(train, n, seed),
        "all_training": train["train_index"].to_numpy(),
    }


def price_percentile(prices, reference) -> np.ndarray:
    """Percentile (0-100, ties at their mid-rank) of each price among the reference prices."""
    ref = np.sort(np.asarray(reference, dtype=np.float64))
    prices = np.asarray(prices, dtype=np.float64)
    below = np.searchsorted(ref, prices, side="left")
    upto = np.searchsorted(ref, prices, side="right")
    return 100.0 * (below + upto) / (2 * ref.size)


def price_statistics(train: pd.DataFrame, index) -> dict:
    """Statistics, not at a ceiling, of the prices of the training houses `index`: `n`,
    `mean_price`, `capped_share` and `mean_percentile` (among all training prices)."""
    all_prices = train[TARGET].to_numpy(np.float64)
    prices = all_prices[np.asarray(index)]
    return {
        "n": int(prices.size),
        "mean_price": float(prices.mean()),
        "capped_share": float((prices >= CAPPED_PRICE).mean()),
        "mean_percentile": float(price_percentile(prices, all_prices).mean()),
    }


def baseline_table(sets: dict[str, np.ndarray], train: pd.DataFrame) -> pd.DataFrame:
    """`price_statistics` of each set of `baseline_sets`, one row per set."""
    rows = {name: price_statistics(train, index) for name, index in sets.items()}
    return pd.DataFrame(rows).T.rename_axis("houses")


def odd_houses(houses: pd.DataFrame) -> np.ndarray:
    """Boolean (M,): test houses priced below half the group's median price with a median
    income below the group's median (e.g. East Palo Alto blocks among Palo Alto ones)."""
    low_price = houses[TARGET] < 0.5 * houses[TARGET].median()
    low_income = houses["MedInc"] < houses["MedInc"].median()
    return (low_price & low_income).to_numpy()
