"""Great-circle distances and the houses nearest to a place."""

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasting)."""
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, np.float64)) for v in (lat1, lon1, lat2, lon2)
    )
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def nearest_houses(table: pd.DataFrame, latitude: float, longitude: float, n: int) -> pd.DataFrame:
    """The `n` rows of `table` nearest to (latitude, longitude), nearest first, with a
    `distance_km` column; ties are broken by row order, so the choice is deterministic."""
    if n > len(table):
        raise ValueError(f"asked for the {n} nearest houses, but the table has {len(table)} rows")
    distance = haversine_km(table["Latitude"], table["Longitude"], latitude, longitude)
    order = np.argsort(distance, kind="stable")[:n]
    return table.iloc[order].assign(distance_km=distance[order]).reset_index(drop=True)
