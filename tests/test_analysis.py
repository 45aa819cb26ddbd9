import numpy as np
import pandas as pd
import pytest

from tracin_study import analysis
from tracin_study.data import TARGET
from tracin_study.influence import ALL_TEST_POINTS


def test_mean_sd_ci_is_the_t_interval():
    out = analysis.mean_sd_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert out["mean"] == 3.0 and out["sd"] == pytest.approx(np.sqrt(2.5))
    half = 2.7764451 * np.sqrt(2.5) / np.sqrt(5)  # t(0.975, 4)
    assert out["ci95"] == pytest.approx([3 - half, 3 + half], rel=1e-6)


def test_neighbour_distances_on_a_line():
    X = np.array([[0.0], [1.0], [3.0], [7.0]])
    out = analysis.neighbour_distances(X, k=2)
    assert out["nn_distance"].tolist() == [1.0, 1.0, 2.0, 4.0]
    assert out["knn_distance"].tolist() == [2.0, 1.5, 2.5, 5.0]


def _houses(n=10):
    return pd.DataFrame(
        {
            "train_index": np.arange(n),
            "self_influence": np.arange(n, 0, -1, dtype=float),  # house 0 highest
            TARGET: [5.00001, 5.00001] + [2.0] * (n - 2),
            "Latitude": [37.44] * 2 + [34.0] * (n - 2),
            "Longitude": [-122.14] * 2 + [-118.2] * (n - 2),
        }
    )


def test_self_influence_measures_compare_the_top_set_with_everything():
    houses = _houses()
    neighbours = pd.DataFrame({"nn_distance": [4.0] * 2 + [1.0] * 8, "knn_distance": 1.0})
    out = analysis.self_influence_measures(houses, neighbours, n=2)
    assert out["capped_share_high"] == 1.0 and out["capped_share_all"] == 0.2
    assert out["capped_ratio_high"] == pytest.approx(5.0)
    assert out["capped_ratio_low"] == 0.0
    assert out["nn_distance_ratio_high"] == 4.0 and out["knn_distance_ratio_low"] == 1.0


def test_proponent_measures_use_the_aggregate_rows_only():
    houses = _houses()
    proponents = pd.DataFrame(
        {
            "test_index": [ALL_TEST_POINTS] * 3 + [7],
            "train_index": [0, 1, 5, 9],
            "influence": [3.0, 2.0, -1.0, 9.0],
            "rank": [1, 2, 1, 1],
            "kind": ["proponent", "proponent", "opponent", "proponent"],
        }
    )
    out = analysis.proponent_measures(proponents, houses, 37.4419, -122.1430)
    assert out["n_proponents"] == 2 and out["n_opponents"] == 1
    assert out["price_ratio_proponents"] == pytest.approx(5.00001 / 2.0)
    assert out["bay_area_share_proponents"] == 1.0 and out["bay_area_share_opponents"] == 0.0
    assert out["median_distance_km_proponents"] < 1 and out["distance_ratio_opponents"] == 1.0


def test_pairwise_matrix_and_its_pairs():
    matrix = analysis.pairwise({0: 1.0, 1: 2.0, 2: 4.0}, lambda a, b: a * b)
    assert matrix.loc[1, 2] == matrix.loc[2, 1] == 8.0
    assert sorted(analysis.off_diagonal(matrix)) == [2.0, 4.0, 8.0]


def test_proponent_set_overlap_counts_shared_training_houses():
    def table(ids):
        return pd.DataFrame(
            {"test_index": ALL_TEST_POINTS, "train_index": ids, "kind": "proponent"}
        )

    assert analysis.proponent_set_overlap(table([1, 2, 3, 4]), table([3, 4, 5, 6])) == 0.5
