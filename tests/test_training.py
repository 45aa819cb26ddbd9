import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tracin_study.checkpoints import (
    CheckpointError,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
    sha256_file,
    write_manifest,
)
from tracin_study.config import PROTOCOLS, TrainingSettings
from tracin_study.model import build_mlp
from tracin_study.provenance import PINNED_KERNELS
from tracin_study.training import (
    TrainingError,
    fit,
    house_losses,
    predict,
    regression_metrics,
    retrain_without,
    train,
    train_and_evaluate,
)

CONFIG = TrainingSettings(
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


# sha256 of the files `train` writes for seed 7 on `_toy_75` (and of the loss curve's
# values), with the CPU kernels pinned as the pipeline pins them (`provenance.PINNED_KERNELS`)
# and Adam's fused step (issue 28; the multi-tensor step before it gave other bits). A change
# of the training loop that moves any of them changes every number of the study.
REFERENCE_SHA256 = {
    "epoch_0000.pt": "fcc68ceb31bb502b17f4fd23bfb8503fee4755a63f35ed82cbfedd2ecff273f3",
    "epoch_0002.pt": "d8d7ebad66d0ab55bd3abd1da199c3912f9ab323aa6c6b0d7ee898c53b4b27a4",
    "epoch_0004.pt": "3de6040ed5481bc81fa8e8bf1947aef1f22f4a9a5dd2fde25edca6106779ea53",
    "epoch_0005.pt": "ae6ce770c70894cb7ebafec2dcb3d8be0e44ef0ea6df152a8295934b6607bc77",
    "epoch_0002.adam.pt": "c29922e904d7fe251e19b409cf6bf2a65e9fffe8f1181ff2cd77be1ff1deb6e3",
    "epoch_0004.adam.pt": "f29249b9e81b472274016d8d7afb6dd4da7cd73d83d87281e90bb8321149091d",
    "epoch_0005.adam.pt": "5244f5b05d635473bb12d3b34021315498a4d6208b475112e32fb9e63595ed95",
    "curve": "9d4b5da7012dfca78cd1e17911af5206ea4cde401cfdf14a71b3a0572f59d1e9",
}

PINNED_RUN = """
import hashlib, json, sys, tempfile
from pathlib import Path
import torch
sys.path.insert(0, {tests!r})
from test_training import CONFIG, _digests, _toy_75
from tracin_study.training import train
torch.set_num_threads(1)
with tempfile.TemporaryDirectory() as folder:
    _, curve = train(*_toy_75(), CONFIG, 7, Path(folder))
    digests = _digests(folder)
    digests["curve"] = hashlib.sha256(curve.to_numpy().tobytes()).hexdigest()
print(json.dumps(digests))
"""


def _toy_75():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=100)).astype(np.float32)
    return X[:75], y[:75], X[80:], y[80:]  # 75 = 4 batches of 16 and one of 11


def _digests(folder) -> dict:
    manifest = read_manifest(Path(folder) / "manifest.json")
    out = {c.path.name: c.sha256 for c in manifest.checkpoints}
    return out | {
        c.optimizer_path.name: c.optimizer_sha256 for c in manifest.checkpoints if c.optimizer_path
    }


def test_train_writes_the_reference_checkpoints_bit_for_bit():
    code = PINNED_RUN.format(tests=str(Path(__file__).parent))
    env = {**os.environ, **PINNED_KERNELS, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == REFERENCE_SHA256


def _save_every_epoch(folder, config):
    """An `after_epoch` that saves checkpoints as `train` does, and the list it fills."""
    saved = []
    save_at = set(config.checkpoint_epochs())

    def after_epoch(epoch, step, model, optimizer, _train_mse):
        if epoch in save_at:
            path = Path(folder) / f"epoch_{epoch:04d}.pt"
            lr = optimizer.param_groups[0]["lr"]
            saved.append(save_checkpoint(model, path, epoch, step, lr, optimizer))

    return saved, after_epoch


def test_fixed_order_removing_nothing_gives_the_reference_checkpoints(tmp_path):
    torch.set_num_threads(1)
    X, y, X_test, y_test = _toy_75()
    train(X, y, X_test, y_test, CONFIG, 7, tmp_path / "reference")
    saved, after_epoch = _save_every_epoch(tmp_path / "replay", CONFIG)
    (tmp_path / "replay").mkdir()
    fit(X, y, CONFIG, 7, removed=[], after_epoch=after_epoch)
    write_manifest(tmp_path / "replay/manifest.json", 7, {}, saved)
    assert _digests(tmp_path / "replay") == _digests(tmp_path / "reference")
    assert len(_digests(tmp_path / "replay")) == 7  # 4 state_dicts, 3 Adam states


def _brute_force(X, y, config, seed, removed, epochs):
    """The fixed-order counterfactual written out: every batch of the reference order
    through the model, each house weighted 1 or 0, loss = sum of weighted squared errors /
    batch size, and Adam's update by hand. The parameters after each epoch."""
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    weight = torch.ones(len(X))
    weight[list(removed)] = 0.0
    torch.manual_seed(seed)
    model = build_mlp(X.shape[1], config.hidden)
    params = list(model.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    order = torch.Generator().manual_seed(seed)
    beta1, beta2, eps, lr, t = 0.9, 0.999, 1e-8, config.learning_rate, 0
    after = []
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=order)
        for i in range(0, len(X), config.batch_size):
            idx = perm[i : i + config.batch_size]
            loss = (weight[idx] * (model(X[idx]).squeeze(1) - y[idx]) ** 2).sum() / len(idx)
            grads = torch.autograd.grad(loss, params)
            t += 1
            with torch.no_grad():
                for p, g, m_, v_ in zip(params, grads, m, v, strict=True):
                    m_.mul_(beta1).add_((1 - beta1) * g)
                    v_.mul_(beta2).add_((1 - beta2) * g * g)
                    m_hat, v_hat = m_ / (1 - beta1**t), v_ / (1 - beta2**t)
                    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
        after.append([p.detach().clone() for p in params])
    return after


@pytest.mark.parametrize("batch_size", [75, 16])
def test_fixed_order_matches_brute_force_masking(batch_size):
    """batch 75: one step per epoch, so epoch by epoch is step by step; batch 16: the
    removed set empties the second batch of epoch 1 and splits others."""
    torch.set_num_threads(1)
    X, y, _, _ = _toy_75()
    config = replace(CONFIG, batch_size=batch_size, epochs=4)
    first = torch.randperm(75, generator=torch.Generator().manual_seed(3))
    removed = sorted({*first[16:32].tolist(), 0, 5, 40, 41, 60})
    expected = _brute_force(X, y, config, 3, removed, config.epochs)
    got = []
    fit(
        X,
        y,
        config,
        3,
        removed=removed,
        after_epoch=lambda e, s, model, o, mse: (
            e and got.append([p.detach().clone() for p in model.parameters()])
        ),
    )
    assert len(got) == len(expected) == 4
    for epoch, (a, b) in enumerate(zip(got, expected, strict=True)):
        for p, q in zip(a, b, strict=True):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=f"epoch {epoch + 1}")
    plain = _brute_force(X, y, config, 3, [], config.epochs)
    assert not torch.allclose(plain[-1][0], expected[-1][0], atol=1e-4)


def test_an_emptied_batch_still_steps_adam():
    torch.set_num_threads(1)
    X, y, _, _ = _toy_75()
    config = replace(CONFIG, batch_size=75, epochs=2)
    states = []
    fit(
        X,
        y,
        config,
        3,
        removed=range(75),
        after_epoch=lambda e, s, model, o, mse: states.append(
            (s, mse, [p.detach().clone() for p in model.parameters()])
        ),
    )
    assert [s for s, _, _ in states] == [0, 1, 2]
    assert math.isnan(states[1][1])
    # first step: zero gradient, zero moments, no move; every step is counted
    assert all(torch.equal(p, q) for p, q in zip(states[0][2], states[2][2], strict=True))


def test_column_major_input_trains_as_row_major():
    """Tables from pandas come column-major; the batches must not inherit that layout,
    which would change the kernels' sums."""
    torch.set_num_threads(1)
    X, y, _, _ = _toy_75()
    rows = fit(np.ascontiguousarray(X), y, CONFIG, 7)[0]
    columns = fit(np.asfortranarray(X), y, CONFIG, 7)[0]
    for p, q in zip(rows.parameters(), columns.parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_non_finite_loss_names_its_epoch_and_batch_and_reaches_no_callback():
    torch.set_num_threads(1)
    X, y, _, _ = _toy_75()
    row = int(torch.randperm(75, generator=torch.Generator().manual_seed(7))[40])
    y = y.copy()
    y[row] = np.nan  # epoch 1 puts this house at position 40: batch 3 of 16 houses
    epochs = []
    with pytest.raises(TrainingError, match=r"seed 7: training loss is nan at epoch 1, batch 3;"):
        fit(X, y, CONFIG, 7, after_epoch=lambda e, *_: epochs.append(e))
    assert epochs == [0]  # the diverged model reached no callback


TINY = TrainingSettings(
    hidden=(5, 3), epochs=3, batch_size=8, learning_rate=0.01, checkpoint_every=1
)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_retraining_without_nothing_reproduces_the_trained_model(tiny_prepared, tmp_path, protocol):
    torch.set_num_threads(1)
    p = tiny_prepared
    train(p.X_train, p.y_train, p.X_test, p.y_test, TINY, 5, tmp_path)
    manifest = read_manifest(tmp_path / "manifest.json")
    reference = load_checkpoint(manifest.checkpoints[-1], manifest.build_model())
    model = retrain_without(p, TINY, 5, [], protocol)
    for name, value in model.state_dict().items():
        assert torch.equal(value, reference.state_dict()[name]), name


def test_the_protocols_differ_once_houses_are_removed(tiny_prepared):
    torch.set_num_threads(1)
    X = tiny_prepared.X_test
    fixed, new = (
        predict(retrain_without(tiny_prepared, TINY, 5, [1, 2, 3], p), X) for p in PROTOCOLS
    )
    nothing = predict(retrain_without(tiny_prepared, TINY, 5, [], "fixed_order"), X)
    assert not np.array_equal(fixed, nothing) and not np.array_equal(fixed, new)
    kept = np.setdiff1d(np.arange(40), [1, 2, 3])
    only_kept = fit(tiny_prepared.X_train[kept], tiny_prepared.y_train[kept], TINY, 5)[0]
    np.testing.assert_array_equal(new, predict(only_kept, X))
    with pytest.raises(ValueError, match="'same_order'.*fixed_order"):
        retrain_without(tiny_prepared, TINY, 5, [], "same_order")


def test_house_losses_are_the_squared_errors_of_the_chosen_test_houses(tiny_prepared):
    model = build_mlp(8, (4,))
    prices = tiny_prepared.test["MedHouseVal"].to_numpy(np.float64)[[3, 0]]  # $100,000
    expected = (predict(model, tiny_prepared.X_test[[3, 0]]) - prices) ** 2
    np.testing.assert_array_equal(house_losses(model, tiny_prepared, [3, 0]), expected)
