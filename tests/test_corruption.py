"""Target corruption and detection metrics on hand-made cases."""

import numpy as np
import pandas as pd
import pytest
import torch

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.config import CorruptionSettings, TrainingSettings
from tracin_study.experiments.corruption import (
    SCORES,
    corrupt_targets,
    curves_on_grid,
    detection_results,
    detection_scores,
    detection_table,
    final_loss,
    random_scores,
    recall_by_change,
    summarise_detection,
    train_corrupted,
)
from tracin_study.influence import TracInCP
from tracin_study.statistics import detection_auc
from tracin_study.training import predict, regression_metrics


def test_corruption_changes_exactly_the_chosen_fraction_to_other_targets():
    y = np.random.default_rng(0).normal(2, 1, size=1000).astype(np.float32)
    y_bad, mask = corrupt_targets(y, 0.1, np.random.default_rng(1))
    assert mask.dtype == bool and mask.sum() == 100
    assert y_bad.dtype == y.dtype
    assert np.array_equal(mask, y_bad != y)
    assert np.isin(y_bad[mask], y).all()  # new targets are existing targets
    again, mask_again = corrupt_targets(y, 0.1, np.random.default_rng(1))
    assert np.array_equal(again, y_bad) and np.array_equal(mask_again, mask)
    assert corrupt_targets(y, 0.123, np.random.default_rng(2))[1].sum() == 123


def test_duplicate_targets_are_redrawn_so_every_chosen_target_changes():
    y = np.r_[np.zeros(95), np.ones(5)]
    y_bad, mask = corrupt_targets(y, 0.5, np.random.default_rng(3))
    assert mask.sum() == 50 and np.array_equal(mask, y_bad != y)


def test_corruption_rejects_bad_input():
    with pytest.raises(ValueError, match="fraction=1.5"):
        corrupt_targets(np.arange(10.0), 1.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="all targets are equal"):
        corrupt_targets(np.ones(10), 0.5, np.random.default_rng(0))


def test_random_order_has_auc_near_one_half():
    n = 20_000
    mask = np.zeros(n, bool)
    mask[: n // 10] = True
    aucs = [detection_auc(random_scores(n, np.random.default_rng(s)), mask) for s in range(5)]
    assert np.mean(aucs) == pytest.approx(0.5, abs=0.01)
    assert np.array_equal(
        random_scores(5, np.random.default_rng(7)), random_scores(5, np.random.default_rng(7))
    )


def test_tables_and_final_loss():
    mask = np.array([True, False, False, False])
    scores = {"good": np.array([4.0, 3, 2, 1]), "bad": np.array([1.0, 2, 3, 4])}
    table = detection_table(scores, mask).set_index("score")
    assert list(table.columns) == ["auc", "recall_at_0.1", "recall_at_0.2"]
    assert table.loc["good", "auc"] > table.loc["bad", "auc"]
    curves = curves_on_grid(scores, mask, np.linspace(0, 1, 5))
    assert len(curves) == 10 and curves["fraction_found"].between(0, 1).all()
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight[:] = torch.tensor([[1.0, -1.0]])
        model.bias[:] = 0.5
    X, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 0.0])
    assert final_loss(model, X, y) == pytest.approx([0.25, 2.25])


@pytest.fixture(scope="module")
def corrupted_run(tiny_prepared, tmp_path_factory):
    """A tiny model trained on 25% corrupted targets, checkpoints after epochs 0, 2, 3."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("corrupted")
    config = TrainingSettings(
        hidden=(5, 3), epochs=3, batch_size=8, learning_rate=0.01, checkpoint_every=2
    )
    targets, metrics = train_corrupted(tiny_prepared, config, 4, 0.25, 9, folder)
    return targets, metrics, read_manifest(folder / "manifest.json")


def test_training_on_corrupted_targets_records_targets_and_metrics(corrupted_run, tiny_prepared):
    targets, metrics, manifest = corrupted_run
    assert list(targets.columns) == ["train_index", "target", "corrupted_target", "corrupted"]
    assert targets["corrupted"].sum() == metrics["n_corrupted"] == 10
    np.testing.assert_array_equal(targets["target"], tiny_prepared.y_train)
    assert (targets["corrupted"] == (targets["corrupted_target"] != targets["target"])).all()
    expected, _ = corrupt_targets(tiny_prepared.y_train, 0.25, np.random.default_rng([9, 4]))
    np.testing.assert_array_equal(targets["corrupted_target"], expected)
    assert list(metrics) == [
        "seed",
        "n_corrupted",
        "train_corrupted_targets",
        "test",
        "wall_seconds",
    ]
    assert metrics["seed"] == 4 and manifest.seed == 4
    final = load_checkpoint(manifest.checkpoints[-1], manifest.build_model())
    fitted = predict(final, tiny_prepared.X_train)
    assert metrics["train_corrupted_targets"] == regression_metrics(expected, fitted)
    assert metrics["test"] == regression_metrics(
        tiny_prepared.y_test, predict(final, tiny_prepared.X_test)
    )


def test_detection_scores_are_the_five_named_rankings(corrupted_run, tiny_prepared):
    targets, _, manifest = corrupted_run
    X, y = tiny_prepared.X_train, targets["corrupted_target"].to_numpy()
    scores = detection_scores(manifest, X, y, [2], 16, torch.float64, np.random.default_rng(1))
    assert tuple(scores) == SCORES
    for values in scores.values():
        assert values.shape == (40,) and np.isfinite(values).all()

    def self_influence(epochs, layers="all"):
        engine = TracInCP(manifest.build_model(), manifest.select(epochs), layers=layers)
        return engine.self_influence(X, y).sum(0)

    # the paper's checkpoints (here epoch 2 only) exclude the last checkpoint (epoch 3)
    np.testing.assert_allclose(scores["self_influence_all_layers"], self_influence([2]))
    np.testing.assert_allclose(scores["self_influence_last_layer"], self_influence([2], "last"))
    np.testing.assert_allclose(scores["self_influence_last_checkpoint"], self_influence([3]))
    final = load_checkpoint(manifest.checkpoints[-1], manifest.build_model())
    np.testing.assert_allclose(scores["final_loss"], (predict(final, X) - y) ** 2)
    at_2 = load_checkpoint(manifest.select([2])[0], manifest.build_model())
    np.testing.assert_allclose(scores["summed_loss"], (predict(at_2, X) - y) ** 2)
    np.testing.assert_array_equal(scores["random"], np.random.default_rng(1).random(40))


def test_detection_results_and_summary_over_seeds():
    mask = np.array([True, False, False, False])
    scores = {"good": np.array([4.0, 3, 2, 1]), "bad": np.array([1.0, 2, 3, 4])}
    detection, curves = detection_results(scores, mask, seed=7, grid_points=11)
    assert (detection["seed"] == 7).all() and detection["score"].tolist() == ["good", "bad"]
    assert len(curves) == 22 and (curves["seed"] == 7).all()
    corruption = CorruptionSettings(seeds=(7, 8), fraction=0.25, corruption_seed=3)
    summary, doc = summarise_detection(detection, corruption)
    assert list(doc) == ["seeds", "corruption", "scores"]
    assert doc["seeds"] == [7]
    assert doc["corruption"] == {"corruption_seed": 3, "fraction": 0.25, "seeds": [7, 8]}
    good = doc["scores"]["good"]
    assert set(good) == {"auc", "recall_at_0.1", "recall_at_0.2"}
    assert good["auc"] == {"mean": detection_auc(scores["good"], mask), "sd": None, "n": 1}
    other = detection.assign(seed=8, auc=detection["auc"] + 0.1)
    summary, doc = summarise_detection(pd.concat([detection, other]), corruption)
    auc = summary.set_index(["score", "metric"]).loc[("bad", "auc")]
    assert auc["n"] == 2 and auc["sd"] == pytest.approx(np.std([0, 0.1], ddof=1))
    assert doc["seeds"] == [7, 8] and doc["scores"]["bad"]["auc"]["n"] == 2


def test_recall_by_change_splits_small_and_large_changes():
    change = np.array([0.0, 0.2, -3.0, 0.0, 2.5, -0.1])
    scores = {"perfect_on_large": np.array([0, 1, 9, 2, 8, 3.0])}
    table = recall_by_change(scores, change, threshold=1.0, fractions=(1 / 3, 1.0))
    small = table[table["change"] == "small"].iloc[0]
    large = table[table["change"] == "large"].iloc[0]
    assert small["n_corrupted"] == 2 and large["n_corrupted"] == 2
    assert large["recall_at_0.333333"] == 1.0 and small["recall_at_0.333333"] == 0.0
    assert small["recall_at_1"] == large["recall_at_1"] == 1.0
    empty = recall_by_change(scores, np.zeros(6), threshold=1.0)
    assert empty["recall_at_0.1"].isna().all()
