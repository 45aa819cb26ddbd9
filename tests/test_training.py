import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from tracin_study.checkpoints import CheckpointError, load_checkpoint, read_manifest, sha256_file
from tracin_study.config import TrainingConfig
from tracin_study.training import predict, regression_metrics, train, train_and_evaluate

CONFIG = TrainingConfig(
    hidden=(6, 5), epochs=5, batch_size=16, learning_rate=0.01, checkpoint_every=2
)


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=100)).astype(np.float32)
    return X[:80], y[:80], X[80:], y[80:]


def _train(toy, seed, directory):
    torch.set_num_threads(1)
    return train(*toy, CONFIG, seed, directory)


def test_same_seed_gives_bit_identical_checkpoints(toy, tmp_path):
    _train(toy, 7, tmp_path / "a")
    _train(toy, 7, tmp_path / "b")
    _train(toy, 8, tmp_path / "c")
    a, b, c = (read_manifest(tmp_path / d / "manifest.json") for d in "abc")
    assert [x.sha256 for x in a.checkpoints] == [x.sha256 for x in b.checkpoints]
    assert a.checkpoints[-1].sha256 != c.checkpoints[-1].sha256


def test_manifest_lists_epochs_steps_learning_rates_and_true_checksums(toy, tmp_path):
    _, curve = _train(toy, 0, tmp_path)
    manifest = read_manifest(tmp_path / "manifest.json")
    assert read_manifest(tmp_path) == manifest  # the folder names its manifest.json
    assert [c.epoch for c in manifest.checkpoints] == [0, 2, 4, 5]
    assert [c.step for c in manifest.checkpoints] == [0, 10, 20, 25]  # 80 / 16 = 5 steps/epoch
    assert all(c.learning_rate == 0.01 for c in manifest.checkpoints)
    assert all(sha256_file(c.path) == c.sha256 for c in manifest.checkpoints)
    assert manifest.model == {"n_features": 3, "hidden": [6, 5]}
    assert list(curve["epoch"]) == [1, 2, 3, 4, 5]
    assert curve["train_mse"].iloc[-1] < curve["train_mse"].iloc[0]


def test_retraining_removes_checkpoints_of_an_earlier_run(toy, tmp_path):
    (tmp_path / "epoch_0099.pt").write_bytes(b"stale")
    _train(toy, 0, tmp_path)
    assert not (tmp_path / "epoch_0099.pt").exists()


def test_a_manifest_without_learning_rate_is_refused(toy, tmp_path):
    _train(toy, 0, tmp_path)
    doc = json.loads((tmp_path / "manifest.json").read_text())
    del doc["checkpoints"][1]["learning_rate"]
    (tmp_path / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=r"entry 1: missing \['learning_rate'\]"):
        read_manifest(tmp_path / "manifest.json")


def test_a_changed_checkpoint_file_is_refused(toy, tmp_path):
    _train(toy, 0, tmp_path)
    manifest = read_manifest(tmp_path / "manifest.json")
    target = manifest.checkpoints[1]
    torch.save({"junk": torch.zeros(1)}, target.path)
    with pytest.raises(CheckpointError, match="epoch_0002.pt has sha256 .* the manifest says"):
        load_checkpoint(target, manifest.build_model())


def test_selecting_an_unsaved_epoch_names_it_and_the_saved_ones(toy, tmp_path):
    _train(toy, 0, tmp_path)
    manifest = read_manifest(tmp_path / "manifest.json")
    assert [c.epoch for c in manifest.select([4, 2])] == [4, 2]
    with pytest.raises(CheckpointError, match=r"epoch\(s\) \[3\]; saved epochs are \[0, 2, 4, 5\]"):
        manifest.select([2, 3])


def test_train_and_evaluate_trains_as_train_and_scores_the_final_model(toy, tmp_path):
    torch.set_num_threads(1)
    model, curve, metrics = train_and_evaluate(*toy, CONFIG, 3, tmp_path / "a")
    _, plain_curve = _train(toy, 3, tmp_path / "b")
    a, b = read_manifest(tmp_path / "a/manifest.json"), read_manifest(tmp_path / "b/manifest.json")
    assert [c.sha256 for c in a.checkpoints] == [c.sha256 for c in b.checkpoints]
    pd.testing.assert_frame_equal(curve, plain_curve)
    assert list(metrics) == ["n_parameters", "train", "test", "wall_seconds"]
    assert metrics["n_parameters"] == (3 * 6 + 6) + (6 * 5 + 5) + (5 + 1)
    X_train, y_train, X_test, y_test = toy
    final = load_checkpoint(a.checkpoints[-1], a.build_model())
    assert metrics["train"] == regression_metrics(y_train, predict(final, X_train))
    assert metrics["test"] == regression_metrics(y_test, predict(final, X_test))
    np.testing.assert_array_equal(predict(model, X_test), predict(final, X_test))
    assert metrics["wall_seconds"] > 0


def test_explained_variance_every_curve_every_epochs_leaves_training_unchanged(toy, tmp_path):
    torch.set_num_threads(1)
    every = replace(CONFIG, curve_every=2)
    model, curve, metrics = train_and_evaluate(*toy, every, 0, tmp_path / "every")
    _, plain = _train(toy, 0, tmp_path / "plain")
    measured = curve.dropna(subset=["train_explained_variance"])
    assert list(measured["epoch"]) == [2, 4]
    assert curve.loc[curve["epoch"] % 2 == 1, "test_explained_variance"].isna().all()
    pd.testing.assert_frame_equal(curve[plain.columns[:3]], plain[plain.columns[:3]])
    assert plain["train_explained_variance"].isna().all()
    a, b = (read_manifest(tmp_path / d / "manifest.json") for d in ("every", "plain"))
    assert [c.sha256 for c in a.checkpoints] == [c.sha256 for c in b.checkpoints]
    X_test, y_test = toy[2], toy[3]
    last = replace(CONFIG, curve_every=5)
    _, curve5, metrics5 = train_and_evaluate(*toy, last, 0, tmp_path / "last")
    assert curve5["test_explained_variance"].iloc[-1] == pytest.approx(
        metrics5["test"]["explained_variance"], abs=1e-12
    )
    assert metrics5["test"] == regression_metrics(y_test, predict(model, X_test))
