"""The California housing table: fetch, verify, split 8:2 and scale the features.

The split is `random` (seeded) or `ordered` (the last rows are the test split, as Keras'
`validation_split` does); the features are `standardised`, `minmax`-scaled to [0, 1] (both
fitted on the training rows) or left `raw`.

`train_index` and `test_index` are positions within the training and test split (the row of
the model's input matrix); `row` is the row of the original 20,640-row table.
"""

import hashlib
import json
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tracin_study.config import DataSettings
from tracin_study.housing_table import SNAPSHOT, shipped_snapshot, split_sizes

log = logging.getLogger(__name__)

FEATURES = [
    "MedInc",
    "HouseAge",
    "AveRooms",
    "AveBedrms",
    "Population",
    "AveOccup",
    "Latitude",
    "Longitude",
]
TARGET = "MedHouseVal"
CAPPED_PRICE = 5.0  # MedHouseVal is capped at 5.00001 ($500,001)
COLUMNS = FEATURES + [TARGET]
# sha256 of np.ascontiguousarray(table[COLUMNS].to_numpy(np.float64)).tobytes()
CONTENT_SHA256 = "dfc7196b549ceb93965f28d3f7ccebe691dd64f824df83055fad5dd58e1c15cd"
SOURCES = ("auto", "sklearn", "snapshot")
SPLITS = ("random", "ordered")
PREPROCESSING = ("standardised", "minmax", "raw")


class DataError(RuntimeError):
    """The housing table cannot be obtained or is not the expected one."""


def content_sha256(table: pd.DataFrame) -> str:
    """sha256 of the 9 columns as a C-ordered float64 array, as in the snapshot's README."""
    values = np.ascontiguousarray(table[COLUMNS].to_numpy(np.float64))
    return hashlib.sha256(values.tobytes()).hexdigest()


def check_finite(table: pd.DataFrame, origin: str, fix: str) -> None:
    """Raise `DataError` naming `origin` and the first row (position in `table`, and the
    original table row when a `row` column says it) holding NaN or infinity among the data
    columns; `fix` says how to repair it."""
    bad = ~np.isfinite(table[COLUMNS].to_numpy(np.float64))
    bad_rows = np.flatnonzero(bad.any(axis=1))
    if not len(bad_rows):
        return
    first = int(bad_rows[0])
    where = f"row {first}"
    if "row" in table.columns:
        where += f" (row {int(table['row'].iloc[first])} of the original table)"
    columns = [c for c, b in zip(COLUMNS, bad[first], strict=True) if b]
    raise DataError(
        f"{origin}: {where} has non-finite values in {columns} ({len(bad_rows)} rows in all); {fix}"
    )


def verify_table(table: pd.DataFrame, origin: str, fix: str) -> None:
    """Raise `DataError` unless `table` holds exactly the expected columns and finite values;
    the message names `origin` and ends with `fix`."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{origin}: columns {missing} are missing; expected {COLUMNS}. {fix}")
    check_finite(table, origin, fix)
    digest = content_sha256(table)
    if digest != CONTENT_SHA256:
        raise DataError(
            f"{origin}: content sha256 is {digest}, expected {CONTENT_SHA256}. The table is "
            f"corrupted or not the California housing data; {fix}"
        )


def describe(err: BaseException) -> str:
    """An exception as one line: its type and message."""
    return f"{type(err).__name__}: {' '.join(str(err).split())}"


def snapshot_fix(path: Path) -> str:
    """How to repair the snapshot at `path`: restore the shipped one, or replace a copy."""
    if Path(path) == shipped_snapshot():
        return (
            f"the file ships with the package: restore it with `git checkout -- "
            f"src/tracin_study/resources/{SNAPSHOT}` in the clone, or reinstall the package "
            f"(`pip install -e .`)"
        )
    return f"replace {path} with an intact copy of src/tracin_study/resources/{SNAPSHOT}"


def read_snapshot(path: Path | None = None) -> pd.DataFrame:
    """The CSV snapshot shipped with the package (or the one at `path`), unverified.

    Raises `DataError` naming the file when it is missing, empty or cannot be decompressed
    or parsed.
    """
    path = Path(path) if path is not None else shipped_snapshot()
    if not path.is_file():
        raise DataError(f"data snapshot {path} does not exist; {snapshot_fix(path)}")
    try:
        return pd.read_csv(path)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DataError(
            f"data snapshot {path} is damaged ({describe(err)}); {snapshot_fix(path)}"
        ) from err
    except pd.errors.EmptyDataError as err:
        raise DataError(f"data snapshot {path} is empty; {snapshot_fix(path)}") from err


def sklearn_cache(data_home: Path) -> Path:
    """The file in which `fetch_california_housing` keeps the table under `data_home`."""
    return Path(data_home).expanduser() / "cal_housing_py3.pkz"


def fetch_sklearn(data_home: Path) -> pd.DataFrame:
    """The table from `sklearn.datasets.fetch_california_housing` (downloads once to data_home)."""
    from sklearn.datasets import fetch_california_housing

    bunch = fetch_california_housing(data_home=str(data_home), as_frame=True, n_retries=1)
    return bunch.frame


def load_table(source: str, data_home: Path) -> tuple[pd.DataFrame, str]:
    """The verified table and the name of the source it came from ("sklearn" or "snapshot").

    `source="auto"` tries scikit-learn first and falls back to the snapshot when the download
    fails (offline); "sklearn" or "snapshot" insist on one of them. A damaged scikit-learn
    cache is an error in either mode, naming the file.
    """
    if source not in SOURCES:
        raise DataError(f"data.source={source!r} is not one of {SOURCES}")
    if source in ("auto", "sklearn"):
        cache = sklearn_cache(data_home)
        cache_fix = f"delete {cache} and re-run to download it again"
        cached = cache.is_file()
        try:
            table = fetch_sklearn(data_home)
        except Exception as err:
            if cached:
                raise DataError(
                    f"scikit-learn cache {cache} is damaged ({describe(err)}); {cache_fix}"
                ) from err
            if source == "sklearn":
                raise DataError(
                    f"fetch_california_housing could not download the table to {cache} "
                    f"({describe(err)}). Connect to the internet, or set data.source to "
                    f"'snapshot' or 'auto' to use the shipped copy."
                ) from err
            log.warning("scikit-learn fetch failed (%s); using the shipped snapshot", err)
        else:
            verify_table(table, f"scikit-learn cache {cache}", cache_fix)
            return table[COLUMNS], "sklearn"
    path = shipped_snapshot()
    table = read_snapshot(path)
    verify_table(table, f"data snapshot {path}", snapshot_fix(path))
    return table[COLUMNS], "snapshot"


def split_rows(
    n_rows: int, test_fraction: float, split_seed: int, split: str = "random"
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and test row numbers with round(n * test_fraction) tests: a random
    split drawn with `split_seed`, or (`split="ordered"`) the last rows as the test split,
    `split_seed` unused."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction} must lie strictly between 0 and 1")
    if split not in SPLITS:
        raise ValueError(f"data.split={split!r} is not one of {SPLITS}")
    n_train, n_test = split_sizes(n_rows, test_fraction)
    if split == "ordered":
        return np.arange(n_train), np.arange(n_train, n_rows)
    order = np.random.default_rng(split_seed).permutation(n_rows)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def fit_scaler(features: np.ndarray, preprocessing: str) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) of the features (n, 8) of the training rows, each of shape (8,): the
    model sees (x - offset) / scale. standardised: mean and standard deviation (ddof=0);
    minmax: minimum and range; raw: zeros and ones (not applied, see `PreparedData`)."""
    if preprocessing == "standardised":
        from sklearn.preprocessing import StandardScaler  # here: see `neighbour_distances`

        scaler = StandardScaler().fit(features)
        return scaler.mean_, scaler.scale_
    if preprocessing == "minmax":
        low = features.min(0)
        return low, features.max(0) - low
    if preprocessing == "raw":
        return np.zeros(features.shape[1]), np.ones(features.shape[1])
    raise ValueError(f"data.preprocessing={preprocessing!r} is not one of {PREPROCESSING}")


def split_tables(
    table: pd.DataFrame,
    test_fraction: float,
    split_seed: int,
    split: str = "random",
    preprocessing: str = "standardised",
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Raw train and test tables (with `train_index`/`test_index` and `row`) and the scaler.

    The split is `split_rows`'; the scaler (`fit_scaler`: `mean` holds the offset) is fitted
    on the training rows only and returned as a JSON-ready dict naming its `preprocessing`.
    """
    train_rows, test_rows = split_rows(len(table), test_fraction, split_seed, split)
    train = table.iloc[train_rows].reset_index(drop=True)
    test = table.iloc[test_rows].reset_index(drop=True)
    train.insert(0, "row", train_rows)
    test.insert(0, "row", test_rows)
    train.insert(0, "train_index", np.arange(len(train)))
    test.insert(0, "test_index", np.arange(len(test)))
    offset, scale = fit_scaler(train[FEATURES].to_numpy(np.float64), preprocessing)
    scaler_doc = {
        "features": FEATURES,
        "preprocessing": preprocessing,
        "mean": offset.tolist(),
        "scale": scale.tolist(),
        "n_train": len(train),
    }
    return train, test, scaler_doc


def prepare(settings: DataSettings) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """The data `settings` carried out: the train and test tables and the scaler of
    `split_tables`, and the data stage's record (source, checksum, split, sizes)."""
    table, source = load_table(settings.source, Path(settings.sklearn_home))
    keys = ("test_fraction", "split_seed", "split", "preprocessing")
    split = {key: getattr(settings, key) for key in keys}
    train, test, scaler = split_tables(table, **split)
    record = {"source": source, "content_sha256": CONTENT_SHA256, **split}
    return train, test, scaler, record | {"n_train": len(train), "n_test": len(test)}


@dataclass(frozen=True)
class PreparedData:
    """Model inputs (scaled features, float32) and the raw tables they came from; the
    scaler is (x - mean) / scale, skipped when `preprocessing` is "raw"."""

    train: pd.DataFrame
    test: pd.DataFrame
    mean: np.ndarray
    scale: np.ndarray
    preprocessing: str = "standardised"

    def features(self, table: pd.DataFrame) -> np.ndarray:
        """Scaled features of `table` (raw ones for "raw"), shape (n, 8), float32."""
        values = table[FEATURES].to_numpy(np.float64)
        if self.preprocessing == "raw":
            return values.astype(np.float32)
        return ((values - self.mean) / self.scale).astype(np.float32)

    @property
    def X_train(self) -> np.ndarray:
        return self.features(self.train)

    @property
    def X_test(self) -> np.ndarray:
        return self.features(self.test)

    @property
    def y_train(self) -> np.ndarray:
        """Prices of the training houses in $100,000, shape (n,), float32."""
        return self.train[TARGET].to_numpy(np.float32)

    @property
    def y_test(self) -> np.ndarray:
        return self.test[TARGET].to_numpy(np.float32)

    def test_points(self, test_index) -> tuple[np.ndarray, np.ndarray]:
        """The test houses at positions `test_index` (M,) of the test split, in that order:
        scaled features (M, 8) float32 and prices in $100,000 (M,) float64."""
        houses = self.test.iloc[np.asarray(test_index)]
        return self.features(houses), houses[TARGET].to_numpy(np.float64, copy=True)


@dataclass(frozen=True)
class PreparedFiles:
    """Where the prepared data live: both splits (Parquet), the scaler and the data stage's
    record (JSON)."""

    train: Path
    test: Path
    scaler: Path
    source: Path | None = None

    @classmethod
    def of(cls, named) -> "PreparedFiles":
        """The files named `train`, `test`, `scaler` (and `source`, if any) of a rule's
        input or output."""
        source = getattr(named, "source", None)
        return cls(Path(named.train), Path(named.test), Path(named.scaler), source and Path(source))


def write_prepared(files: PreparedFiles, train, test, scaler: dict, record: dict) -> None:
    """Write the two splits, the scaler and the data stage's `record` to `files`."""
    train.to_parquet(files.train, index=False)
    test.to_parquet(files.test, index=False)
    files.scaler.write_text(json.dumps(scaler, indent=2) + "\n")
    files.source.write_text(json.dumps(record, indent=2) + "\n")


def read_prepared_table(path: Path) -> pd.DataFrame:
    """A prepared split; raises `DataError` naming the file and row of a non-finite value."""
    table = pd.read_parquet(path)
    fix = "re-run the prepare_data stage (snakemake --forcerun prepare_data)"
    check_finite(table, f"prepared data {path}", fix)
    return table


def load_prepared(files: PreparedFiles) -> PreparedData:
    """Read what `write_prepared` wrote; raises `DataError` naming a missing file."""
    for path in (files.train, files.test, files.scaler):
        if not path.is_file():
            raise DataError(f"{path} does not exist; run the prepare_data stage")
    scaler = json.loads(files.scaler.read_text())
    if scaler["features"] != FEATURES:
        raise DataError(f"{files.scaler} lists features {scaler['features']}")
    train, test = (read_prepared_table(path) for path in (files.train, files.test))
    return PreparedData(
        train,
        test,
        np.asarray(scaler["mean"], np.float64),
        np.asarray(scaler["scale"], np.float64),
        scaler.get("preprocessing", "standardised"),  # files from before the choice existed
    )


def neighbour_distances(X: np.ndarray, k: int = 10) -> pd.DataFrame:
    """For each row of X (N, F) (standardised features): the distance to its nearest other
    row (`nn_distance`) and the mean distance to its k nearest (`knn_distance`, the inverse
    of local density), in standard-deviation units."""
    # scikit-learn is imported where it is used: importing it (with SciPy) costs about 2 s of
    # CPU, which every job of the workflow would otherwise pay at its start.
    from sklearn.neighbors import NearestNeighbors

    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return pd.DataFrame({"nn_distance": distances[:, 1], "knn_distance": distances[:, 1:].mean(1)})
