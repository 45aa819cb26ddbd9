import numpy as np
import pandas as pd
import pytest
import torch

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.config import TrainingSettings
from tracin_study.data import TARGET
from tracin_study.loss_rankings import (
    checkpoint_losses,
    compare_rankings,
    loss_scores,
    ranking_measures,
)
from tracin_study.training import predict, train


@pytest.fixture(scope="module")
def manifest(tiny_prepared, tmp_path_factory):
    """A tiny model with checkpoints after epochs 0, 2 and 3."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("losses")
    config = TrainingSettings(
        hidden=(5, 3), epochs=3, batch_size=8, learning_rate=0.01, checkpoint_every=2
    )
    p = tiny_prepared
    train(p.X_train, p.y_train, p.X_test, p.y_test, config, 3, folder)
    return read_manifest(folder / "manifest.json")


def test_loss_scores_are_the_final_and_the_summed_squared_residuals(manifest, tiny_prepared):
    X, y = tiny_prepared.X_train, tiny_prepared.y_train
    per_checkpoint = checkpoint_losses(manifest, [0, 2], X, y)
    assert per_checkpoint.shape == (2, 40)
    scores = loss_scores(manifest, [0, 2], X, y)
    np.testing.assert_allclose(scores["summed_loss"], per_checkpoint.sum(0))
    final = load_checkpoint(manifest.checkpoints[-1], manifest.build_model())
    np.testing.assert_allclose(scores["final_loss"], (predict(final, X) - y) ** 2)


def _table():
    n = 10
    return pd.DataFrame(
        {
            "self_influence": np.arange(n, 0, -1, dtype=float),  # house 0 highest
            "final_loss": np.arange(n, dtype=float),  # house 0 lowest
            "summed_loss": np.arange(n, 0, -1, dtype=float) ** 2,
            TARGET: [5.00001, 5.00001] + [2.0] * (n - 2),
        }
    )


def test_ranking_measures_compare_the_top_and_bottom_sets_with_everything():
    knn = np.array([4.0, 4.0] + [1.0] * 8)
    out = ranking_measures(_table(), knn, 2, "self_influence")
    assert out["capped_ratio_high"] == pytest.approx(5.0) and out["capped_ratio_low"] == 0.0
    assert out["knn_ratio_high"] == 4.0 and out["knn_ratio_low"] == 1.0
    flipped = ranking_measures(_table(), knn, 2, "final_loss")
    assert flipped["capped_ratio_low"] == pytest.approx(5.0) and flipped["capped_ratio_high"] == 0


def test_compare_rankings_names_every_score_and_correlation():
    out = compare_rankings(_table(), np.ones(10), 3)
    assert out["spearman__final_loss"] == pytest.approx(-1.0)
    assert out["spearman__summed_loss"] == pytest.approx(1.0)
    assert out["capped_ratio_high__self_influence"] == out["capped_ratio_high__summed_loss"]
    with pytest.raises(KeyError, match="summed_loss"):
        compare_rankings(_table().drop(columns="summed_loss"), np.ones(10), 3)
