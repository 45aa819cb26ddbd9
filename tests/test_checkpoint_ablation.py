"""Main-model comparison of checkpoint and layer choices, on a tiny trained MLP."""

import numpy as np
import pandas as pd
import pytest
import torch

from tracin_study.checkpoints import read_manifest
from tracin_study.config import TrainingSettings
from tracin_study.experiments import checkpoint_ablation as ablation
from tracin_study.influence import ALL_TEST_POINTS, TracInCP
from tracin_study.training import train

TEST_INDEX = np.array([5, 0, 9])


@pytest.fixture(scope="module")
def trained(tiny_prepared, tmp_path_factory):
    """A model with checkpoints after epochs 0..4, and its variant scores (paper: 2 and 4)."""
    torch.set_num_threads(1)
    p = tiny_prepared
    config = TrainingSettings(
        hidden=(5, 3), epochs=4, batch_size=8, learning_rate=0.01, checkpoint_every=1
    )
    folder = tmp_path_factory.mktemp("ablation")
    train(p.X_train, p.y_train, p.X_test, p.y_test, config, 0, folder)
    manifest = read_manifest(folder / "manifest.json")
    variants = ablation.variant_scores(manifest, p, TEST_INDEX, [2, 4], 16, torch.float64)
    return manifest, variants


def _tracin(manifest, prepared, epochs, layers="all"):
    X_test, y_test = prepared.test_points(TEST_INDEX)
    engine = TracInCP(manifest.build_model(), manifest.select(epochs), layers=layers)
    return engine.compute(prepared.X_train, prepared.y_train, X_test, y_test)


def test_variants_sum_the_right_checkpoints_and_layers(trained, tiny_prepared):
    manifest, variants = trained
    assert [c.epoch for c in manifest.checkpoints] == [0, 1, 2, 3, 4]
    assert list(variants) == [ablation.PAPER, ablation.EVERY, ablation.LAST_LAYER]
    for self_influence, influence in variants.values():
        assert self_influence.shape == (40,) and influence.shape == (3, 40)
    expected = {
        ablation.PAPER: _tracin(manifest, tiny_prepared, [2, 4]),
        ablation.EVERY: _tracin(manifest, tiny_prepared, [1, 2, 3, 4]),  # not epoch 0
        ablation.LAST_LAYER: _tracin(manifest, tiny_prepared, [2, 4], "last"),
    }
    for name, result in expected.items():
        np.testing.assert_allclose(variants[name][0], result.self_influence.sum(0), rtol=1e-12)
        np.testing.assert_allclose(variants[name][1], result.influence.sum(0), rtol=1e-12)
    with_initial = _tracin(manifest, tiny_prepared, [0, 1, 2, 3, 4]).self_influence.sum(0)
    assert not np.allclose(variants[ablation.EVERY][0], with_initial)
    # the last layer holds only part of the gradient
    assert (variants[ablation.LAST_LAYER][0] <= variants[ablation.PAPER][0] + 1e-12).all()


def test_a_variant_compared_with_itself_agrees_perfectly(trained):
    _, variants = trained
    table = ablation.compare_variants(
        variants, TEST_INDEX, 5, seed=3, pairs=[(ablation.PAPER, ablation.PAPER)]
    )
    assert list(table.columns) == ablation.COLUMNS
    assert table["scope"].tolist() == ["self_influence", *["test_point"] * 3, "test_total"]
    assert table["test_index"].iloc[1:].tolist() == [5, 0, 9, ALL_TEST_POINTS]
    assert pd.isna(table["test_index"].iloc[0])
    assert (table["seed"] == 3).all() and (table["k"] == 5).all()
    np.testing.assert_allclose(table[["pearson", "spearman", "top_k_overlap"]], 1.0)


def test_default_comparisons_set_the_paper_variant_against_the_other_two(trained):
    _, variants = trained
    table = ablation.compare_variants(variants, TEST_INDEX, 5, seed=0)
    assert set(table["variant_a"]) == {ablation.PAPER}
    assert table["variant_b"].unique().tolist() == [ablation.EVERY, ablation.LAST_LAYER]
    assert len(table) == 2 * (1 + 3 + 1)
    assert table["pearson"].between(-1, 1).all()
    assert table["top_k_overlap"].between(0, 1).all()


def test_saved_scores_round_trip(trained, tmp_path):
    _, variants = trained
    ablation.save_variants(tmp_path / "scores.npz", variants, TEST_INDEX)
    saved = np.load(tmp_path / "scores.npz")
    assert saved["variants"].tolist() == list(variants)
    assert saved["test_index"].tolist() == TEST_INDEX.tolist()
    np.testing.assert_array_equal(saved["influence"][1], variants[ablation.EVERY][1])
    assert saved["self_influence"].shape == (3, 40)


def test_summary_averages_test_points_within_a_seed_before_the_seeds():
    def rows(seed, scope, pearsons):
        return pd.DataFrame(
            {
                "seed": seed,
                "variant_a": "a",
                "variant_b": "b",
                "scope": scope,
                "pearson": pearsons,
                "spearman": 1.0,
                "top_k_overlap": 0.5,
            }
        )

    frame = pd.concat(
        [rows(0, "test_point", [0.0, 0.2, 0.4]), rows(1, "test_point", [0.6]), rows(0, "x", [1])]
    )
    summary = ablation.summarise_over_seeds(frame).set_index(["scope", "metric"])
    point = summary.loc[("test_point", "pearson")]
    assert point["mean"] == pytest.approx(0.4)  # (0.2 + 0.6) / 2, not 1.2 / 4
    assert point["sd"] == pytest.approx(np.std([0.2, 0.6], ddof=1)) and point["n"] == 2
    assert summary.loc[("x", "pearson"), "n"] == 1
    assert np.isnan(summary.loc[("x", "pearson"), "sd"])
