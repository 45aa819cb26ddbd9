import numpy as np
import pandas as pd
import pytest

from tracin_study.geo import haversine_km, in_bay_area, nearest_houses

PALO_ALTO = (37.4419, -122.1430)


def test_haversine_matches_known_distances():
    # San Francisco City Hall to Los Angeles City Hall: about 559 km.
    assert haversine_km(37.7793, -122.4193, 34.0537, -118.2428) == pytest.approx(559, abs=2)
    # One degree of latitude is about 111.2 km anywhere.
    assert haversine_km(10, 20, 11, 20) == pytest.approx(111.19, abs=0.01)
    assert haversine_km(*PALO_ALTO, *PALO_ALTO) == 0


def test_nearest_houses_are_sorted_and_are_the_true_nearest(split):
    _, test, _ = split
    near = nearest_houses(test, *PALO_ALTO, 11)
    assert len(near) == 11 and near["distance_km"].is_monotonic_increasing
    every = haversine_km(test["Latitude"], test["Longitude"], *PALO_ALTO)
    assert near["distance_km"].iloc[-1] == pytest.approx(np.sort(every)[10])
    assert near["distance_km"].max() < 5  # all in or next to Palo Alto


def test_asking_for_more_houses_than_rows_is_refused():
    table = pd.DataFrame({"Latitude": [37.0], "Longitude": [-122.0]})
    with pytest.raises(ValueError, match="the 2 nearest houses, but the table has 1 rows"):
        nearest_houses(table, *PALO_ALTO, 2)


def test_bay_area_polygon_holds_the_nine_counties_and_not_their_neighbours():
    inside = {
        "San Francisco": (37.77, -122.42),
        "San Jose": (37.34, -121.89),
        "Santa Rosa": (38.44, -122.71),
        "Fairfield": (38.25, -122.04),
        "Napa": (38.30, -122.29),
        "Livermore": (37.68, -121.77),
        "Gilroy": (37.0, -121.57),
        "Palo Alto": PALO_ALTO,
    }
    outside = {
        "Sacramento": (38.58, -121.49),
        "Santa Cruz": (36.97, -122.03),
        "Stockton": (37.96, -121.29),
        "Davis": (38.54, -121.74),
        "Tracy": (37.74, -121.43),
    }
    for places, expected in ((inside, True), (outside, False)):
        lat, lon = np.array(list(places.values())).T
        assert (in_bay_area(lat, lon) == expected).all(), places
