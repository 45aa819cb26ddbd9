import json

import numpy as np
import pandas as pd
import pytest

from tracin_study import palo_alto as pa
from tracin_study import report_text, summary
from tracin_study.data import TARGET, PreparedData
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


def test_the_selection_flags_the_east_palo_alto_houses_and_says_so(houses):
    odd = pa.odd_houses(houses)
    assert odd.sum() == 3
    where = houses[odd]
    assert where["Latitude"].round(2).eq(37.46).all()
    assert where["Longitude"].round(2).eq(-122.13).all()
    selection = summary.palo_alto_selection(houses)
    json.dumps(selection)
    assert selection["n_houses"] == 11 and selection["n_odd"] == 3
    assert selection["odd"]["latitude"] == pytest.approx(where["Latitude"].mean())
    assert selection["others"]["price"] == pytest.approx(houses.loc[~odd, TARGET].mean())
    text = report_text.describe_selection(selection, *PALO_ALTO)
    assert text.startswith("The rule takes the 11 test-split houses")
    assert "(37.4419 N, 122.1430 W)" in text and "3 of them (around 37.46 N, 122.13 W)" in text
    assert text.endswith("very likely East Palo Alto, a different town.")
    none_odd = report_text.describe_selection(selection | {"n_odd": 0}, *PALO_ALTO)
    assert "East Palo Alto" not in none_odd and none_odd.endswith("at the price cap.")
