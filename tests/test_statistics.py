"""The statistics module against scipy and hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from tracin_study import statistics
from tracin_study.influence import ALL_TEST_POINTS
from tracin_study.statistics import (
    compare,
    compare_rows,
    mean_sd,
    pearson,
    spearman,
    top_k_overlap,
    top_k_positions,
)


def test_correlations_match_scipy_and_hand_values():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(50), rng.standard_normal(50)
    assert pearson(a, b) == pytest.approx(stats.pearsonr(a, b).statistic, abs=1e-12)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # monotone but not linear: rank correlation 1, linear correlation below 1
    assert spearman([1, 2, 3, 4], [1, 10, 100, 1000]) == pytest.approx(1.0)
    assert pearson([1, 2, 3, 4], [1, 10, 100, 1000]) < 0.9
    # ranks (1, 2, 3) vs (1, 3, 2): 1 - 6 * 2 / (3 * 8) = 0.5
    assert spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)


def test_constant_scores_give_nan_and_bad_shapes_raise():
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
    assert math.isnan(spearman([1, 2, 3], [4, 4, 4]))
    with pytest.raises(ValueError, match="equal length"):
        pearson([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="non-finite"):
        spearman([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="k=4"):
        top_k_overlap([1, 2, 3], [1, 2, 3], 4)


def test_top_k_overlap_by_largest_values():
    a = np.array([5.0, 4, 3, 2, 1])
    b = a[::-1].copy()
    assert top_k_positions(a, 2).tolist() == [0, 1]
    assert top_k_positions([1.0, 3, 3, 0], 2).tolist() == [1, 2]  # ties keep the lower position
    assert top_k_overlap(a, b, 2) == 0.0
    assert top_k_overlap(a, b, 3) == pytest.approx(1 / 3)  # only position 2 is shared
    assert top_k_overlap(a, b, 5) == 1.0
    assert top_k_overlap(a, 10 * a + 3, 2) == 1.0
    assert top_k_overlap(-a, -b, 2) == 0.0  # most negative: {3, 4} vs {0, 1}


def test_compare_and_compare_rows():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 20)), rng.standard_normal((3, 20))
    single = compare(a[0], b[0], 5)
    assert set(single) == {"pearson", "spearman", "top_k_overlap", "k"} and single["k"] == 5
    table = compare_rows(a, b, 5, row_ids=[7, 8, 9])
    assert table["row"].tolist() == [7, 8, 9, ALL_TEST_POINTS]
    assert table.loc[0, "pearson"] == pytest.approx(single["pearson"])
    assert table.loc[3, "spearman"] == pytest.approx(spearman(a.sum(0), b.sum(0)))
    assert len(compare_rows(a, a, 5, total=False)) == 3
    assert (compare_rows(a, a, 5)["top_k_overlap"] == 1.0).all()


def test_mean_sd_over_groups():
    frame = pd.DataFrame(
        {"score": ["x", "x", "y", "y"], "auc": [0.2, 0.4, 1.0, 1.0], "recall": [0, 1, 1, 1]}
    )
    out = mean_sd(frame, ["score"], ["auc", "recall"]).set_index(["score", "metric"])
    assert out.loc[("x", "auc"), "mean"] == pytest.approx(0.3)
    assert out.loc[("x", "auc"), "sd"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert out.loc[("y", "recall"), "sd"] == 0.0 and out.loc[("y", "recall"), "n"] == 2


def test_mean_sd_ci_is_the_t_interval():
    out = statistics.mean_sd_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert out["mean"] == 3.0 and out["sd"] == pytest.approx(np.sqrt(2.5))
    half = 2.7764451 * np.sqrt(2.5) / np.sqrt(5)  # t(0.975, 4)
    assert out["ci95"] == pytest.approx([3 - half, 3 + half], rel=1e-6)


def test_proponent_set_overlap_counts_shared_training_houses():
    def table(ids):
        return pd.DataFrame(
            {"test_index": ALL_TEST_POINTS, "train_index": ids, "kind": "proponent"}
        )

    assert statistics.proponent_set_overlap(table([1, 2, 3, 4]), table([3, 4, 5, 6])) == 0.5


def test_pairwise_matrix_is_symmetric():
    matrix = statistics.pairwise({0: 1.0, 1: 2.0, 2: 4.0}, lambda a, b: a * b)
    assert matrix.loc[1, 2] == matrix.loc[2, 1] == 8.0
    assert np.diag(matrix).tolist() == [1.0, 4.0, 16.0]


def test_n_for_half_width_scales_as_one_over_root_n():
    assert statistics.n_for_half_width(0.25, 24, 0.05) == 600
    assert statistics.n_for_half_width(0.26, 24, 0.05) == math.ceil(24 * (0.26 / 0.05) ** 2)
    assert statistics.n_for_half_width(0.01, 24, 0.05) == 24  # already narrow enough
    assert statistics.n_for_half_width(0.0, 24, 0.05) == 24
    with pytest.raises(ValueError, match="half_width >= 0"):
        statistics.n_for_half_width(math.nan, 24, 0.05)


def test_averaged_reliability_is_the_correlation_of_means_of_noisy_copies():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=200_000)
    r = 0.2  # two single copies correlate r: noise variance (1 - r) / r per copy
    noise_sd = math.sqrt((1 - r) / r)

    def mean_of(models):
        return signal + rng.normal(size=(models, signal.size)).mean(0) * noise_sd

    for models in (1, 4):
        measured = np.corrcoef(mean_of(models), mean_of(models))[0, 1]
        assert measured == pytest.approx(statistics.averaged_reliability(r, models), abs=0.01)


def test_column_spearman_equals_scipy_column_by_column():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
    a[:3, 1] = a[0, 1]  # ties
    b[:, 3] = 1.0  # constant
    got = statistics.column_spearman(a, b)
    assert got.shape == (4,)
    for j in range(3):
        assert got[j] == pytest.approx(stats.spearmanr(a[:, j], b[:, j]).statistic, abs=1e-12)
    assert np.isnan(got[3])


def test_spearman_standard_error():
    assert statistics.spearman_se(103) == pytest.approx(0.1)
    assert statistics.spearman_se(7) == 0.5
    assert math.isnan(statistics.spearman_se(3))


def test_bootstrap_draws_the_resamples_of_a_brute_force_loop():
    values = np.random.default_rng(5).normal(size=(11, 2))
    got = statistics.bootstrap(lambda idx: values[idx].mean(0), 11, 30, 9)
    draw = np.random.default_rng(9)
    resamples = [draw.integers(0, 11, size=11) for _ in range(30)]
    assert got.shape == (30, 2) and got.dtype == np.float64
    np.testing.assert_array_equal(got, [values[idx].mean(0) for idx in resamples])
    first = statistics.bootstrap(lambda idx: idx[0], 11, 30, 9)  # any statistic, same resamples
    np.testing.assert_array_equal(first, [idx[0] for idx in resamples])


def test_percentile_interval_is_the_2_5th_and_97_5th_percentile_without_nans():
    replicates = np.r_[np.arange(201.0), np.nan]
    assert statistics.percentile_interval(replicates) == [5.0, 195.0]
    values = np.random.default_rng(1).normal(size=50)
    assert statistics.percentile_interval(values) == [
        np.percentile(values, 2.5),
        np.percentile(values, 97.5),
    ]


def test_pooled_sd_pools_the_squared_deviations_within_groups():
    assert statistics.pooled_sd([1.0, 3.0, 10.0, 14.0], [0, 0, 1, 1]) == pytest.approx(
        math.sqrt((2 + 8) / 2)
    )
    rng = np.random.default_rng(4)
    groups = [rng.normal(g, 1 + g, size=n) for g, n in enumerate((3, 5, 4))]
    squares = sum(((x - x.mean()) ** 2).sum() for x in groups)
    labels = np.repeat(["a", "b", "c"], [3, 5, 4])
    assert statistics.pooled_sd(np.concatenate(groups), labels) == pytest.approx(
        math.sqrt(squares / (2 + 4 + 3)), rel=1e-12
    )
    assert math.isnan(statistics.pooled_sd([1.0, 2.0], [0, 1]))  # no group of two


def test_perfect_and_worst_rankings():
    n, c = 1000, 100
    mask = np.zeros(n, bool)
    mask[np.random.default_rng(0).choice(n, c, replace=False)] = True
    perfect = mask.astype(float)
    inspected, found = statistics.detection_curve(perfect, mask)
    assert inspected[0] == 0 and inspected[-1] == 1 and found[0] == 0 and found[-1] == 1
    assert np.all(np.diff(found) >= 0)
    assert statistics.detection_auc(perfect, mask) == pytest.approx(1 - c / (2 * n))
    assert statistics.detection_auc(-perfect, mask) == pytest.approx(c / (2 * n))
    assert statistics.recall_at(perfect, mask, 0.1) == 1.0
    assert statistics.recall_at(perfect, mask, 0.05) == 0.5
    assert statistics.recall_at(perfect, mask, 0.2) == 1.0
    assert statistics.recall_at(-perfect, mask, 0.9) == 0.0


def test_hand_made_ranking():
    # order by score: positions 3, 0, 2, 1; marked: 0 and 1
    scores, mask = np.array([0.9, 0.1, 0.5, 1.0]), np.array([True, True, False, False])
    inspected, found = statistics.detection_curve(scores, mask)
    assert found.tolist() == [0, 0, 0.5, 0.5, 1.0]
    # trapezoids of width 1/4: (0 + 0 + 0.25 + 0.5 + 0.75) / 4
    assert statistics.detection_auc(scores, mask) == pytest.approx(1.5 / 4)
    assert statistics.recall_at(scores, mask, 0.5) == 0.5
    with pytest.raises(ValueError, match="marks no item"):
        statistics.detection_curve([1.0, 2.0], [False, False])
    with pytest.raises(ValueError, match=r"fraction=1.5 must lie in \[0, 1\]"):
        statistics.recall_at(scores, mask, 1.5)


def test_detection_auc_is_the_roc_auc_rescaled_by_the_marked_share():
    rng = np.random.default_rng(6)
    n, c = 500, 60
    mask = np.zeros(n, bool)
    mask[rng.choice(n, c, replace=False)] = True
    scores = rng.normal(size=n) + 1.5 * mask  # distinct scores: no ties
    expected = c / (2 * n) + (n - c) / n * roc_auc_score(mask, scores)
    assert statistics.detection_auc(scores, mask) == pytest.approx(expected, abs=1e-12)
