import numpy as np
import pandas as pd
import pytest

from tracin_study import palo_alto as pa
from tracin_study.data import FEATURES, TARGET, PreparedData
from tracin_study.geo import nearest_houses
from tracin_study.influence import ALL_TEST_POINTS

PALO_ALTO = (37.4419, -122.1430)


@pytest.fixture(scope="module")
def prepared(split):
    train, test, scaler = split
    return PreparedData(train, test, np.array(scaler["mean"]), np.array(scaler["scale"]))


@pytest.fixture(scope="module")
def houses(prepared):
    return nearest_houses(prepared.test, *PALO_ALTO, 11)


def _proponents(pro, opp, per_house=None):
    rows = [(ALL_TEST_POINTS, i, "proponent") for i in pro]
    rows += [(ALL_TEST_POINTS, i, "opponent") for i in opp]
    rows += per_house or []
    return pd.DataFrame(rows, columns=["test_index", "train_index", "kind"])


def test_baseline_sets_share_the_place_and_size(prepared, houses):
    proponents = _proponents(range(50), range(100, 150))
    sets = pa.baseline_sets(proponents, prepared, houses, seed=1)
    assert {len(v) for k, v in sets.items() if k != "all_training"} == {50}
    train = prepared.train
    near = train.iloc[sets["map_neighbours"]]
    assert near["Latitude"].between(37.3, 37.6).all()
    bay = train.iloc[sets["random_bay_area"]]
    assert bay["Latitude"].between(36.8, 39.0).all() and bay["Longitude"].lt(-121.2).all()
    assert len(set(sets["random_bay_area"])) == 50
    # the feature neighbours are, in standardised features, at least as close as any others
    X, Q = prepared.X_train, prepared.features(houses)
    d = np.sqrt(((Q[:, None] - X[None]) ** 2).sum(-1)).min(0)
    assert d[sets["feature_neighbours"]].max() <= np.sort(d)[49] + 1e-9


def test_price_statistics_are_not_at_a_ceiling():
    train = pd.DataFrame({TARGET: [1.0, 2.0, 3.0, 5.00001]})
    out = pa.price_statistics(train, [2, 3])
    assert out == {
        "n": 2,
        "mean_price": pytest.approx(4.000005),
        "capped_share": 0.5,
        "mean_percentile": pytest.approx((62.5 + 87.5) / 2),
    }
    assert pa.price_percentile([2.0], [1.0, 2.0, 2.0, 3.0]).tolist() == [50.0]


def test_house_table_flags_the_east_palo_alto_houses(prepared, houses):
    per_house = [(int(houses["test_index"].iloc[0]), 7, "proponent")]
    table = pa.house_table(houses, np.zeros(11), _proponents([1], [2], per_house), prepared.train)
    assert list(table.columns[:11]) == ["test_index", "distance_km", *FEATURES, TARGET]
    assert table["proponents_mean_price"].iloc[0] == prepared.train[TARGET].iloc[7]
    odd = table[table["odd"]]
    assert len(odd) == 3
    assert odd["Latitude"].round(2).eq(37.46).all() and odd["Longitude"].round(2).eq(-122.13).all()
    text = pa.describe_selection(houses, *PALO_ALTO)
    assert "11 test-split houses" in text and "East Palo Alto" in text
