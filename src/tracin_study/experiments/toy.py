"""A toy experiment: the mean self-influence of each seed."""

import pandas as pd


def mean_self_influence(tables: dict[int, pd.DataFrame]) -> pd.Series:
    """Seed -> the mean of the `self_influence` column of that seed's table."""
    return pd.Series({s: t["self_influence"].mean() for s, t in tables.items()}, name="mean")
