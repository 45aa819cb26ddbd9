"""Shared fixtures: the verified housing table and a small prepared split."""

import numpy as np
import pandas as pd
import pytest

from tracin_study import data


@pytest.fixture(scope="session")
def table():
    """The full verified table from the shipped snapshot (20,640 x 9)."""
    frame = data.read_snapshot()
    data.verify_table(frame, "snapshot", "restore it")
    return frame


@pytest.fixture(scope="session")
def split(table):
    """(train, test, scaler) of the default 8:2 split."""
    return data.split_tables(table, 0.2, 2020)


@pytest.fixture(scope="session")
def tiny_prepared():
    """A `PreparedData` of 40 training and 12 test houses: random standard-normal features
    (identity scaler) and prices linear in them plus noise, float64."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=len(data.FEATURES))

    def table(n: int, index: str) -> pd.DataFrame:
        frame = pd.DataFrame(rng.normal(size=(n, len(data.FEATURES))), columns=data.FEATURES)
        frame[data.TARGET] = 2 + frame.to_numpy() @ weights + 0.1 * rng.normal(size=n)
        frame.insert(0, index, np.arange(n))
        return frame

    return data.PreparedData(
        table(40, "train_index"), table(12, "test_index"), np.zeros(8), np.ones(8)
    )
