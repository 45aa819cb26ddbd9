"""Great-circle distances, the houses nearest to a place, the Bay Area and the outline of
California."""

import io
from importlib import resources

import numpy as np
import pandas as pd
from matplotlib.path import Path

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


# The nine-county San Francisco Bay Area (Alameda, Contra Costa, Marin, Napa, San Francisco,
# San Mateo, Santa Clara, Solano, Sonoma), as a polygon of (longitude, latitude) vertices in
# degrees tracing the counties' outer boundary to within about 5 km: the Sonoma coast, the
# Sonoma and Napa northern lines, Solano's Putah Creek and Sacramento River edges, the
# eastern edges of Contra Costa, Alameda and Santa Clara, Santa Clara's southern tip near
# Gilroy, the Santa Cruz Mountains ridge to the coast at Año Nuevo, and the Pacific coast.
BAY_AREA_POLYGON = np.array(
    [
        (-123.55, 38.77),
        (-123.00, 38.85),
        (-122.40, 38.86),
        (-122.10, 38.55),
        (-121.69, 38.53),
        (-121.58, 38.31),
        (-121.58, 38.09),
        (-121.56, 37.82),
        (-121.47, 37.48),
        (-121.21, 37.28),
        (-121.40, 36.96),
        (-121.58, 36.90),
        (-121.84, 37.11),
        (-122.12, 37.27),
        (-122.33, 37.10),
        (-122.55, 37.50),
        (-122.55, 37.78),
        (-122.75, 37.88),
        (-123.05, 37.98),
        (-123.10, 38.30),
    ]
)


def in_bay_area(latitude, longitude) -> np.ndarray:
    """Boolean (n,): whether each point (degrees) lies inside `BAY_AREA_POLYGON`."""
    points = np.column_stack([np.asarray(longitude, np.float64), np.asarray(latitude, np.float64)])
    return Path(BAY_AREA_POLYGON).contains_points(points)


def bay_area_extent(pad: float = 0.1) -> tuple[float, float, float, float]:
    """(lon_min, lon_max, lat_min, lat_max) of `BAY_AREA_POLYGON`, padded by `pad` degrees."""
    lon, lat = BAY_AREA_POLYGON[:, 0], BAY_AREA_POLYGON[:, 1]
    return lon.min() - pad, lon.max() + pad, lat.min() - pad, lat.max() + pad


OUTLINE_FILE = "california_outline.csv"


def california_outline() -> list[np.ndarray]:
    """The California coastline and state border as closed rings, each an array (n, 2) of
    (longitude, latitude) in degrees whose last vertex repeats its first; the first ring is
    the mainland (with San Francisco Bay), the others are the larger Channel Islands.

    Read from the package's own `resources/california_outline.csv` (US Census county
    boundaries, public domain; source and derivation in that file's header), so nothing is
    downloaded."""
    text = resources.files("tracin_study.resources").joinpath(OUTLINE_FILE).read_text()
    table = pd.read_csv(io.StringIO(text), comment="#")
    return [g[["longitude", "latitude"]].to_numpy() for _, g in table.groupby("part", sort=True)]
