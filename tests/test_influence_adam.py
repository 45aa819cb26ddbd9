"""Adam-preconditioned TracInCP against brute force: one autograd.grad per example, times P."""

import copy
import json

import numpy as np
import pytest
import torch
from torch import nn

from tracin_study.checkpoints import (
    CheckpointError,
    load_adam_state,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
    write_manifest,
)
from tracin_study.influence import InfluenceError, TracInCP, algebra
from tracin_study.model import build_mlp

LEARNING_RATES = (0.01, 0.004, 0.002)
SPEC = {"n_features": 5, "hidden": [7, 6, 5]}


def _adam_checkpoints(model, directory, X, y):
    """Train with Adam (5 steps per checkpoint, rate per `LEARNING_RATES`); the initial
    checkpoint (no Adam state) first, then one with state after each segment."""
    optimizer = torch.optim.Adam(model.parameters())
    checkpoints = [save_checkpoint(model, directory / "epoch_0000.pt", 0, 0, 0.01, optimizer)]
    for epoch, lr in enumerate(LEARNING_RATES, start=1):
        optimizer.param_groups[0]["lr"] = lr
        for step in range(5):
            idx = torch.arange(8 * step, 8 * step + 8) % len(X)
            optimizer.zero_grad()
            (model(X[idx]).reshape(-1) - y[idx]).square().mean().backward()
            optimizer.step()
        path = directory / f"epoch_{epoch:04d}.pt"
        checkpoints.append(save_checkpoint(model, path, epoch, 5 * epoch, lr, optimizer))
    return checkpoints


@pytest.fixture
def data():
    """Training (N=40) and test (M=6) sets, float32 tensors."""
    torch.manual_seed(1)
    return torch.randn(40, 5), torch.randn(40), torch.randn(6, 5), torch.randn(6)


@pytest.fixture(params=["relu", "tanh"])
def trained(tmp_path, request, data):
    """A small MLP and its checkpoints with a real Adam state."""
    torch.manual_seed(0)
    model = build_mlp(5, (7, 6, 5))
    if request.param == "tanh":
        model = nn.Sequential(*(nn.Tanh() if isinstance(m, nn.ReLU) else m for m in model))
    return model, _adam_checkpoints(model, tmp_path, data[0], data[1])


def brute_force(model, checkpoints, X_train, y_train, X_test, y_test):
    """(self (K, N), influence (K, M, N)) from explicit per-example gradients times P."""
    net = copy.deepcopy(model).double()
    names = [n for n, _ in net.named_parameters()]

    def gradients(X, y):
        rows = []
        for x, t in zip(X.double(), y.double(), strict=True):
            loss = (net(x[None]).reshape(()) - t) ** 2
            rows.append(
                torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, net.parameters())])
            )
        return torch.stack(rows)

    selfs, influences = [], []
    for ckpt in checkpoints:
        load_checkpoint(ckpt, net)
        state = load_adam_state(ckpt)
        beta2 = state.betas[1]
        p = torch.cat(
            [
                1.0
                / (
                    (state.exp_avg_sq[n].double() / (1 - beta2 ** state.step[n])).sqrt() + state.eps
                ).reshape(-1)
                for n in names
            ]
        )
        g_train, g_test = gradients(X_train, y_train), gradients(X_test, y_test)
        selfs.append(ckpt.learning_rate * (g_train**2 * p).sum(1))
        influences.append(ckpt.learning_rate * (g_test * p) @ g_train.T)
    return torch.stack(selfs).numpy(), torch.stack(influences).numpy()


def rel_error(actual, expected):
    return np.abs(actual - expected).max() / np.abs(expected).max()


@pytest.mark.parametrize("method", ["auto", "hooks", "generic"])
def test_adam_scores_match_brute_force(trained, data, method):
    model, checkpoints = trained
    tracin = TracInCP(
        model, checkpoints[1:], batch_size=16, progress=False, method=method, preconditioner="adam"
    )
    result = tracin.compute(*data)
    self_expected, influence_expected = brute_force(model, checkpoints[1:], *data)
    assert rel_error(result.self_influence, self_expected) <= 1e-6
    assert rel_error(result.influence, influence_expected) <= 1e-6
    assert rel_error(result.self_total(epochs=[3]), self_expected[2]) <= 1e-6
    plain = TracInCP(model, checkpoints[1:], progress=False).compute(*data)
    assert rel_error(plain.self_influence, self_expected) > 1e-2  # P is not the identity


@pytest.mark.parametrize("budget", [1, 16 * 7 * 4])
def test_adam_cross_term_in_chunks_of_test_rows_matches_brute_force(
    trained, data, budget, monkeypatch
):
    """budget 1: one test row per chunk; 16 x 7 x 4: chunks of 4 rows of the 7-wide layer
    (the last one shorter), of other sizes elsewhere."""
    monkeypatch.setattr(algebra, "CROSS_BUDGET", budget)
    model, checkpoints = trained
    tracin = TracInCP(model, checkpoints[1:], batch_size=16, progress=False, preconditioner="adam")
    result = tracin.compute(*data)
    _, influence_expected = brute_force(model, checkpoints[1:], *data)
    assert rel_error(result.influence, influence_expected) <= 1e-6


def test_adam_float32_stays_close(trained, data):
    model, checkpoints = trained
    tracin = TracInCP(
        model, checkpoints[1:], progress=False, dtype=torch.float32, preconditioner="adam"
    )
    result = tracin.compute(*data)
    self_expected, influence_expected = brute_force(model, checkpoints[1:], *data)
    assert rel_error(result.self_influence, self_expected) <= 1e-5
    assert rel_error(result.influence, influence_expected) <= 1e-5


def test_missing_state_names_the_checkpoint(trained):
    model, checkpoints = trained
    with pytest.raises(InfluenceError, match=r"epoch_0000\.pt \(epoch 0\)"):
        TracInCP(model, checkpoints, preconditioner="adam")
    with pytest.raises(InfluenceError, match="preconditioner must be one of"):
        TracInCP(model, checkpoints, preconditioner="sgd")


def test_changed_state_file_is_named(trained, data):
    model, checkpoints = trained
    path = checkpoints[2].optimizer_path
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(CheckpointError, match=rf"{path.name} has sha256 .* the manifest says"):
        TracInCP(model, checkpoints[1:], progress=False, preconditioner="adam").compute(*data)


def test_manifest_lists_the_state_and_old_manifests_still_load(trained, tmp_path):
    _, checkpoints = trained
    manifest = tmp_path / "manifest.json"
    write_manifest(manifest, 0, SPEC, checkpoints)
    entries = json.loads(manifest.read_text())["checkpoints"]
    assert "optimizer_file" not in entries[0]
    assert entries[1]["optimizer_file"] == "epoch_0001.adam.pt"
    assert read_manifest(manifest).checkpoints == tuple(checkpoints)
    for entry in entries:
        entry.pop("optimizer_file", None)
        entry.pop("optimizer_sha256", None)
    manifest.write_text(json.dumps({"format": 1, "seed": 0, "model": SPEC, "checkpoints": entries}))
    old = read_manifest(manifest)
    assert all(c.optimizer_path is None for c in old.checkpoints)
    assert [c.sha256 for c in old.checkpoints] == [c.sha256 for c in checkpoints]
    with pytest.raises(InfluenceError, match=r"epoch_0003\.pt \(epoch 3\)"):
        TracInCP(old.build_model(), old.checkpoints[1:], preconditioner="adam")


def test_saving_the_state_leaves_adam_untouched(data, tmp_path):
    """Two runs, one saving the state after every step, end with equal weights."""
    X, y = data[0], data[1]
    finals = []
    for save in (False, True):
        torch.manual_seed(0)
        model = build_mlp(5, (7, 6, 5))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        for step in range(6):
            optimizer.zero_grad()
            (model(X).reshape(-1) - y).square().mean().backward()
            optimizer.step()
            if save:
                save_checkpoint(model, tmp_path / f"{step}.pt", 0, step, 0.01, optimizer)
        finals.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*finals, strict=True))


def test_adam_layer_subset_equals_that_layers_term(trained, data):
    model, checkpoints = trained
    full = TracInCP(model, checkpoints[1:], progress=False, preconditioner="adam")
    last = TracInCP(model, checkpoints[1:], layers="last", progress=False, preconditioner="adam")
    full_result, last_result = full.compute(*data), last.compute(*data)
    assert rel_error(full_result.self_total(layers=["6"]), last_result.self_total()) <= 1e-12
    assert (
        rel_error(full_result.influence_total(layers=["6"]), last_result.influence_total()) <= 1e-12
    )
