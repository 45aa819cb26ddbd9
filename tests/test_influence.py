"""TracInCP engine against brute force: one autograd.grad per example, float64."""

import copy
import json
import logging

import numpy as np
import pytest
import torch
from torch import nn

from tracin_study.checkpoints import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
    write_manifest,
)
from tracin_study.influence import ALL_TEST_POINTS, InfluenceError, TracInCP, top_k
from tracin_study.model import build_mlp

LEARNING_RATES = (0.1, 0.03, 0.005)


def _perturbed_checkpoints(model, directory, learning_rates=LEARNING_RATES):
    """Save `model` after a random perturbation per checkpoint, as if training moved it."""
    checkpoints = []
    with torch.no_grad():
        for epoch, lr in enumerate(learning_rates):
            for p in model.parameters():
                p.add_(0.3 * torch.randn_like(p))
            path = directory / f"epoch_{epoch:04d}.pt"
            checkpoints.append(save_checkpoint(model, path, epoch, 10 * epoch, lr))
    return checkpoints


def brute_force(model, checkpoints, X_train, y_train, X_test, y_test, params=None):
    """(self (K, N), influence (K, M, N)) from explicit per-example gradients over the
    parameters named in `params` (default: all)."""
    net = copy.deepcopy(model).double()
    chosen = [p for n, p in net.named_parameters() if params is None or n in params]

    def gradients(X, y):
        rows = []
        targets = torch.as_tensor(y).double().reshape(-1)
        for x, t in zip(torch.as_tensor(X).double(), targets, strict=True):
            loss = (net(x[None]).reshape(()) - t) ** 2
            rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, chosen)]))
        return torch.stack(rows).numpy()

    selfs, influences = [], []
    for ckpt in checkpoints:
        load_checkpoint(ckpt, net)
        g_train, g_test = gradients(X_train, y_train), gradients(X_test, y_test)
        selfs.append(ckpt.learning_rate * (g_train**2).sum(1))
        influences.append(ckpt.learning_rate * g_test @ g_train.T)
    return np.array(selfs), np.array(influences)


def rel_error(actual, expected):
    """Largest absolute difference relative to the largest expected magnitude."""
    return np.abs(actual - expected).max() / np.abs(expected).max()


@pytest.fixture(params=["relu", "tanh"])
def mlp(tmp_path, request):
    """A small MLP, three checkpoints with distinct learning rates. The ReLU MLP takes the
    engine's explicit forward/backward recurrence, the Tanh one its hooks-and-autograd path."""
    torch.manual_seed(0)
    model = build_mlp(5, (7, 6, 5))
    if request.param == "tanh":
        model = nn.Sequential(*(nn.Tanh() if isinstance(m, nn.ReLU) else m for m in model))
    return model, _perturbed_checkpoints(model, tmp_path)


@pytest.fixture
def data():
    """Training (N=40, torch float32, y (N,)) and test (M=6, numpy, y (M, 1)) sets."""
    rng = np.random.default_rng(1)
    X_test = rng.normal(size=(6, 5))
    y_test = rng.normal(size=(6, 1))
    torch.manual_seed(1)
    return torch.randn(40, 5), torch.randn(40), X_test, y_test


@pytest.fixture
def expected(mlp, data):
    return brute_force(mlp[0], mlp[1], *data)


@pytest.mark.parametrize("method", ["auto", "relu_mlp", "hooks", "generic"])
def test_each_method_matches_brute_force(mlp, data, expected, method):
    model, checkpoints = mlp
    if method == "relu_mlp" and isinstance(model[1], nn.Tanh):
        with pytest.raises(InfluenceError, match="method='relu_mlp' needs an nn.Sequential"):
            TracInCP(model, checkpoints, method=method)
        return
    # batch_size 16 leaves a remainder batch of 8.
    tracin = TracInCP(model, checkpoints, batch_size=16, progress=False, method=method)
    auto = "relu_mlp" if isinstance(model[1], nn.ReLU) else "hooks"
    assert tracin.method == (auto if method == "auto" else method)
    result = tracin.compute(*data)
    self_expected, influence_expected = expected
    assert result.self_influence.shape == (3, 40) and result.influence.shape == (3, 6, 40)
    assert result.self_influence.dtype == np.float64
    for k in range(3):
        assert rel_error(result.self_influence[k], self_expected[k]) <= 1e-6
        assert rel_error(result.influence[k], influence_expected[k]) <= 1e-6
    assert rel_error(result.self_influence.sum(0), self_expected.sum(0)) <= 1e-6
    assert rel_error(result.influence.sum(0), influence_expected.sum(0)) <= 1e-6
    assert result.epochs == (0, 1, 2)
    np.testing.assert_array_equal(result.learning_rates, LEARNING_RATES)


def test_single_purpose_methods_agree_with_compute(mlp, data, expected):
    X_train, y_train, X_test, y_test = data
    tracin = TracInCP(*mlp, progress=False)
    assert rel_error(tracin.self_influence(X_train, y_train), expected[0]) <= 1e-6
    assert rel_error(tracin.influence(X_train, y_train, X_test, y_test), expected[1]) <= 1e-6


def test_top_k_matches_brute_force_order(mlp, data, expected):
    k = 4
    result = TracInCP(*mlp, progress=False).compute(*data)
    test_ids = [10, 11, 12, 13, 14, 15]
    table = top_k(result.influence.sum(0), k, test_ids=test_ids)
    truth = expected[1].sum(0)
    rows = [(i, truth[m]) for m, i in enumerate(test_ids)] + [(ALL_TEST_POINTS, truth.sum(0))]
    for test_index, row in rows:
        for kind, order in (("proponent", np.argsort(-row)), ("opponent", np.argsort(row))):
            want = [j for j in order[:k] if (row[j] > 0 if kind == "proponent" else row[j] < 0)]
            got = table[(table.test_index == test_index) & (table.kind == kind)]
            assert got.train_index.tolist() == want
            assert got["rank"].tolist() == list(range(1, len(want) + 1))
            np.testing.assert_allclose(got.influence, row[want], rtol=1e-9)
    assert list(table.columns) == ["test_index", "train_index", "influence", "rank", "kind"]


def test_top_k_keeps_only_scores_of_the_right_sign():
    scores = np.array([[3.0, -1.0, 2.0, 0.0]])
    table = top_k(scores, k=3)
    single = table[table.test_index == 0]
    assert single[single.kind == "proponent"].train_index.tolist() == [0, 2]
    assert single[single.kind == "opponent"].train_index.tolist() == [1]


@pytest.mark.parametrize(
    ("layers", "params"),
    [
        ("last", ["6.weight", "6.bias"]),
        (["0", "4"], ["0.weight", "0.bias", "4.weight", "4.bias"]),
    ],
)
def test_layer_subset_matches_brute_force(mlp, data, layers, params):
    self_expected, influence_expected = brute_force(*mlp, *data, params=params)
    result = TracInCP(*mlp, layers=layers, progress=False).compute(*data)
    assert rel_error(result.self_influence, self_expected) <= 1e-6
    assert rel_error(result.influence, influence_expected) <= 1e-6


def test_per_layer_terms_sum_to_layer_subsets(mlp, data):
    full = TracInCP(*mlp, progress=False).compute(*data)
    last = TracInCP(*mlp, layers="last", progress=False).compute(*data)
    assert full.layer_names == ("0", "2", "4", "6") and last.layer_names == ("6",)
    assert full.self_by_layer.shape == (3, 4, 40) and full.influence_by_layer.shape == (3, 4, 6, 40)
    assert rel_error(full.self_total(layers=["6"]), last.self_total()) <= 1e-12
    assert rel_error(full.influence_total(layers="6"), last.influence_total()) <= 1e-12


def test_totals_sum_the_chosen_checkpoints(mlp, data, expected):
    result = TracInCP(*mlp, progress=False).compute(*data)
    assert rel_error(result.self_total(), expected[0].sum(0)) <= 1e-6
    assert rel_error(result.self_total(epochs=[2, 0]), expected[0][[0, 2]].sum(0)) <= 1e-6
    assert rel_error(result.influence_total(epochs=[1]), expected[1][1]) <= 1e-6
    with pytest.raises(InfluenceError, match=r"no checkpoint for epoch\(s\) \[5\].*\[0, 1, 2\]"):
        result.self_total(epochs=[1, 5])
    with pytest.raises(InfluenceError, match="unknown layer"):
        result.self_total(layers=["9"])
    with pytest.raises(InfluenceError, match="no test set"):
        TracInCP(*mlp, progress=False).compute(data[0], data[1]).influence_total()


def test_model_with_conv_layer_matches_brute_force(tmp_path, data):
    """Conv1d parameters take the generic path, the Linear head the factored one."""
    torch.manual_seed(2)
    model = nn.Sequential(
        nn.Unflatten(1, (1, 5)), nn.Conv1d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6, 1)
    )
    checkpoints = _perturbed_checkpoints(model, tmp_path)
    tracin = TracInCP(model, checkpoints, progress=False)
    assert tracin.method == "hooks" and tracin.layer_names == ("1", "4")
    result = tracin.compute(*data)
    self_expected, influence_expected = brute_force(model, checkpoints, *data)
    assert rel_error(result.self_influence, self_expected) <= 1e-6
    assert rel_error(result.influence, influence_expected) <= 1e-6


def test_float32_option_stays_close(mlp, data, expected):
    result = TracInCP(*mlp, dtype=torch.float32, progress=False).compute(*data)
    assert rel_error(result.self_influence, expected[0]) <= 1e-5
    assert rel_error(result.influence, expected[1]) <= 1e-5


def test_callers_model_is_left_untouched(mlp, data):
    model, checkpoints = mlp
    before = {n: p.clone() for n, p in model.state_dict().items()}
    TracInCP(model, checkpoints[:1], progress=False).compute(*data)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) and p.requires_grad and p.dtype == torch.float32


def test_progress_logs_and_calls_back_once_per_checkpoint(mlp, data, caplog):
    calls = []
    tracin = TracInCP(*mlp, progress=lambda i, n, ckpt, s: calls.append((i, n, ckpt.epoch)))
    with caplog.at_level(logging.INFO, logger="tracin_study.influence"):
        tracin.self_influence(data[0], data[1])
    assert calls == [(0, 3, 0), (1, 3, 1), (2, 3, 2)]
    assert len(caplog.records) == 3 and "epoch 2" in caplog.records[-1].getMessage()


def test_corrupted_checkpoint_is_named(mlp, data):
    model, checkpoints = mlp
    path = checkpoints[1].path
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(CheckpointError, match=rf"{path.name} has sha256 .* the manifest says"):
        TracInCP(model, checkpoints, progress=False).self_influence(data[0], data[1])


def test_architecture_mismatch_is_named(mlp, data):
    other = build_mlp(5, (7, 6, 4))
    with pytest.raises(CheckpointError, match="epoch_0000.pt does not match the model"):
        TracInCP(other, mlp[1], progress=False).self_influence(data[0], data[1])


def test_wrong_test_width_says_expected_and_got(mlp, data):
    X_train, y_train, X_test, y_test = data
    with pytest.raises(
        InfluenceError, match="X_test has 4 feature columns but the model expects 5"
    ):
        TracInCP(*mlp, progress=False).compute(X_train, y_train, X_test[:, :4], y_test)


def test_mismatched_targets_are_rejected(mlp, data):
    with pytest.raises(InfluenceError, match=r"shape \(40,\) or \(40, 1\), got \(39,\)"):
        TracInCP(*mlp, progress=False).self_influence(data[0], data[1][:39])


def test_unknown_layer_lists_valid_names(mlp):
    with pytest.raises(
        InfluenceError, match=r"unknown layer name\(s\) \['7'\].*'0', '2', '4', '6'"
    ):
        TracInCP(*mlp, layers=["0", "7"])


def test_non_finite_input_names_checkpoint_and_row(mlp, data):
    X_train = data[0].clone()
    X_train[3, 2] = float("inf")
    with pytest.raises(InfluenceError, match=r"non-finite gradient at checkpoint epoch 0 .*\[3\]"):
        TracInCP(*mlp, progress=False).self_influence(X_train, data[1])


def test_nan_weights_name_the_checkpoint(mlp, data, tmp_path):
    model, checkpoints = mlp
    broken = copy.deepcopy(model)
    with torch.no_grad():
        broken[4].weight[0, 0] = float("nan")
    bad = save_checkpoint(broken, tmp_path / "nan.pt", 7, 70, 0.01)
    with pytest.raises(InfluenceError, match=r"epoch 7 \(.*nan\.pt\)"):
        TracInCP(model, [*checkpoints, bad], progress=False).compute(*data)


def test_missing_learning_rate_is_never_assumed(mlp, tmp_path):
    model, checkpoints = mlp
    manifest = tmp_path / "manifest.json"
    write_manifest(manifest, 0, {"n_features": 5, "hidden": [7, 6, 5]}, checkpoints)
    doc = json.loads(manifest.read_text())
    del doc["checkpoints"][1]["learning_rate"]
    manifest.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=r"entry 1: missing \['learning_rate'\]"):
        read_manifest(manifest)
    c = checkpoints[0]
    no_lr = Checkpoint(c.epoch, c.step, None, c.path, c.sha256)
    with pytest.raises(InfluenceError, match="learning_rate=None"):
        TracInCP(model, [no_lr])


def test_empty_checkpoint_list_is_rejected(mlp):
    with pytest.raises(InfluenceError, match="at least one checkpoint"):
        TracInCP(mlp[0], [])
