"""Shared fixtures: the verified housing table and a small prepared split."""

import pytest

from tracin_study import data


@pytest.fixture(scope="session")
def table():
    """The full verified table from the shipped snapshot (20,640 x 9)."""
    frame = data.read_snapshot()
    data.verify_table(frame, "snapshot")
    return frame


@pytest.fixture(scope="session")
def split(table):
    """(train, test, scaler) of the default 8:2 split."""
    return data.split_tables(table, 0.2, 2020)
