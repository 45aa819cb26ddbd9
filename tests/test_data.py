import hashlib

import numpy as np
import pandas as pd
import pytest

from tracin_study import data
from tracin_study.geo import nearest_houses
from tracin_study.housing_table import N_ROWS

PREPARED_NAMES = ("train.parquet", "test.parquet", "scaler.json", "source.json")


def test_snapshot_matches_the_published_column_means(table):
    assert table.shape == (N_ROWS, 9)
    assert table["MedInc"].mean() == pytest.approx(3.870671, abs=1e-6)
    assert table["MedHouseVal"].mean() == pytest.approx(2.068558, abs=1e-6)


def test_checksum_check_fails_on_a_corrupted_table(table):
    corrupted = table.copy()
    corrupted.loc[123, "AveRooms"] += 1e-9
    with pytest.raises(data.DataError, match="content sha256 is .* expected dfc7196b"):
        data.verify_table(corrupted, "corrupted copy", "restore it")


def test_checksum_check_names_missing_columns(table):
    with pytest.raises(data.DataError, match=r"\['MedHouseVal'\] are missing"):
        data.verify_table(table.drop(columns="MedHouseVal"), "cut copy", "restore it")


def test_split_is_8_to_2_disjoint_complete_and_fixed_by_the_split_seed(table, split):
    train, test, _ = split
    assert (len(train), len(test)) == (16_512, 4_128)
    rows = np.concatenate([train["row"], test["row"]])
    assert np.array_equal(np.sort(rows), np.arange(N_ROWS))
    again, _, _ = data.split_tables(table, 0.2, 2020)
    other, _, _ = data.split_tables(table, 0.2, 2021)
    assert train["row"].equals(again["row"])
    assert not train["row"].equals(other["row"])
    assert np.array_equal(train["train_index"], np.arange(len(train)))


def test_raw_values_are_kept_with_their_original_rows(table, split):
    train, test, _ = split
    for part in (train, test):
        original = table.iloc[part["row"]][data.COLUMNS].reset_index(drop=True)
        pd.testing.assert_frame_equal(part[data.COLUMNS], original)


def test_scaler_is_fitted_on_the_training_split_only(split):
    train, test, scaler = split
    raw = train[data.FEATURES].to_numpy(np.float64)
    np.testing.assert_allclose(scaler["mean"], raw.mean(0), rtol=1e-12)
    np.testing.assert_allclose(scaler["scale"], raw.std(0), rtol=1e-12)
    prepared = data.PreparedData(train, test, np.array(scaler["mean"]), np.array(scaler["scale"]))
    np.testing.assert_allclose(prepared.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(prepared.X_train.std(0), 1, atol=1e-5)
    assert np.abs(prepared.X_test.mean(0)).max() > 1e-3  # the test split was not used


def test_prepared_files_round_trip(tmp_path, split):
    train, test, scaler = split
    files = data.PreparedFiles(*(tmp_path / n for n in PREPARED_NAMES))
    data.write_prepared(files, train, test, scaler, {"source": "snapshot"})
    prepared = data.load_prepared(files)
    pd.testing.assert_frame_equal(prepared.train, train)
    assert prepared.X_test.shape == (4_128, 8) and prepared.y_test.dtype == np.float32


def test_load_prepared_names_the_missing_file(tmp_path):
    with pytest.raises(data.DataError, match="train.parquet does not exist; run the prepare"):
        data.load_prepared(data.PreparedFiles(*(tmp_path / n for n in PREPARED_NAMES)))


def test_offline_auto_falls_back_to_the_snapshot(monkeypatch, tmp_path):
    def offline(_):
        raise OSError("Name or service not known")

    monkeypatch.setattr(data, "fetch_sklearn", offline)
    table, source = data.load_table("auto", tmp_path)
    assert source == "snapshot" and len(table) == N_ROWS
    with pytest.raises(data.DataError, match="set data.source to 'snapshot'"):
        data.load_table("sklearn", tmp_path)


def test_a_fetched_table_with_other_content_is_refused(monkeypatch, tmp_path, table):
    monkeypatch.setattr(data, "fetch_sklearn", lambda _: table.iloc[:-1])
    with pytest.raises(
        data.DataError, match=r"scikit-learn cache .*cal_housing_py3.pkz: content sha256"
    ):
        data.load_table("auto", tmp_path)


def test_unknown_source_is_named():
    with pytest.raises(data.DataError, match="'web' is not one of"):
        data.load_table("web", None)


def test_test_points_are_the_houses_at_those_positions_with_float64_prices(split):
    train, test, scaler = split
    prepared = data.PreparedData(train, test, np.array(scaler["mean"]), np.array(scaler["scale"]))
    houses = nearest_houses(test, 37.4419, -122.1430, 11)
    X, y = prepared.test_points(houses["test_index"].to_numpy())
    assert X.dtype == np.float32 and y.dtype == np.float64
    np.testing.assert_array_equal(X, prepared.features(houses))
    np.testing.assert_array_equal(X, prepared.X_test[houses["test_index"]])
    np.testing.assert_array_equal(y, houses[data.TARGET].to_numpy(np.float64))


# sha256 of the standardised inputs (float32, C order) and of the training rows of the
# default split (0.2, seed 2020), as produced before the split and preprocessing choices.
STANDARDISED_SHA256 = {
    "X_train": "ffb42a72c8d62ad61ef49ffd220a2a7ff5dceeb90317428cc2acd2f13372ecc2",
    "X_test": "138e7786e6516b8682f70fcd9fe5c6fb94556e9327d7f82a1db7f82aaa71011c",
    "train_rows": "28586d475eea92db2be29414525e1d88a4046cb21f5075da0c7744768c090a0c",
}


def _prepared(table, **choices) -> data.PreparedData:
    train, test, scaler = data.split_tables(table, 0.2, 2020, **choices)
    mean, scale = np.array(scaler["mean"]), np.array(scaler["scale"])
    return data.PreparedData(train, test, mean, scale, scaler["preprocessing"])


def _sha256(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def test_standardised_random_split_is_unchanged(table):
    explicit = _prepared(table, split="random", preprocessing="standardised")
    digests = {
        "X_train": _sha256(explicit.X_train),
        "X_test": _sha256(explicit.X_test),
        "train_rows": _sha256(explicit.train["row"].to_numpy()),
    }
    assert digests == STANDARDISED_SHA256
    assert np.array_equal(_prepared(table).X_train, explicit.X_train)  # the defaults


def test_ordered_split_tests_on_the_last_fifth_in_table_order(table):
    train, test, _ = data.split_tables(table, 0.2, 2020, split="ordered")
    assert np.array_equal(test["row"], np.arange(16_512, 20_640))
    assert np.array_equal(train["row"], np.arange(16_512))
    expected = table.iloc[16_512:][data.COLUMNS].reset_index(drop=True)
    pd.testing.assert_frame_equal(test[data.COLUMNS], expected)
    again, _, _ = data.split_tables(table, 0.2, 7, split="ordered")  # no seed involved
    assert again["row"].equals(train["row"])


def test_raw_features_skip_the_scaler(tmp_path, table):
    train, test, scaler = data.split_tables(table, 0.2, 2020, preprocessing="raw")
    files = data.PreparedFiles(*(tmp_path / n for n in PREPARED_NAMES))
    data.write_prepared(files, train, test, scaler, {"source": "snapshot"})
    prepared = data.load_prepared(files)
    assert prepared.preprocessing == "raw"
    raw = train[data.FEATURES].to_numpy(np.float32)
    assert np.array_equal(prepared.X_train, raw)
    skipped = data.PreparedData(train, test, np.ones(8), np.full(8, 3.0), "raw")
    assert np.array_equal(skipped.X_train, raw)  # whatever the stored scaler says


def test_minmax_maps_the_training_features_onto_0_1(table):
    prepared = _prepared(table, preprocessing="minmax")
    assert prepared.X_train.min() == 0 and prepared.X_train.max() == 1
    np.testing.assert_array_equal(prepared.X_train.min(0), 0)
    np.testing.assert_allclose(prepared.X_train.max(0), 1, rtol=1e-6)
    low = prepared.train[data.FEATURES].min().to_numpy()  # fitted on the training rows only
    np.testing.assert_array_equal(prepared.mean, low)


@pytest.mark.parametrize(
    ("choice", "value"), [("split", "sorted"), ("preprocessing", "standardized")]
)
def test_an_unknown_choice_is_named(table, choice, value):
    with pytest.raises(ValueError, match=rf"data.{choice}='{value}' is not one of"):
        data.split_tables(table, 0.2, 2020, **{choice: value})


def test_neighbour_distances_on_a_line():
    X = np.array([[0.0], [1.0], [3.0], [7.0]])
    out = data.neighbour_distances(X, k=2)
    assert out["nn_distance"].tolist() == [1.0, 1.0, 2.0, 4.0]
    assert out["knn_distance"].tolist() == [2.0, 1.5, 2.5, 5.0]
