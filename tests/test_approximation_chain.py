"""The ground-truth recorder: first order vs exact loss change, bookkeeping, checkpoints."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.config import AdamStepSettings, ApproximationChainSettings
from tracin_study.experiments.approximation_chain import (
    adam_comparison,
    approximation_chain,
    evenly_spaced,
    record_ideal,
    record_ideal_adam,
    subsample,
    summarise_comparison,
)
from tracin_study.ideal import per_pair, record_adam, record_sgd, train_ideal
from tracin_study.influence import ALL_TEST_POINTS, TracInCP
from tracin_study.model import build_mlp


def data(n=8, m=3, features=3, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n, features)),
        rng.standard_normal(n),
        rng.standard_normal((m, features)),
        rng.standard_normal(m),
    )


def linear(features=3, seed=0):
    torch.manual_seed(seed)
    return nn.Linear(features, 1)


def test_first_order_error_shrinks_quadratically_with_the_learning_rate():
    X, y, Xt, yt = data()
    errors, changes = [], []
    for lr in 2e-3 / 2.0 ** np.arange(6):
        run = record_sgd(linear(), X, y, Xt, yt, lr, epochs=2, seed=0)
        errors.append(np.abs(run.exact - run.first_order).sum())
        changes.append(np.abs(run.exact).sum())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert ratios == pytest.approx(4.0, rel=0.02)
    # the loss change itself is first order: it only halves
    assert np.array(changes[:-1]) / np.array(changes[1:]) == pytest.approx(2.0, rel=0.05)
    assert errors[-1] / changes[-1] < 1e-3


def test_linear_model_second_order_term_is_exact():
    # l is quadratic in w for a linear model: exact - first order = -(eta g_z . (x', 1))^2,
    # i.e. minus the squared change of the test prediction.
    X, y, Xt, yt = data()
    model = linear()
    before = copy.deepcopy(model).double()
    run = record_sgd(model, X, y, Xt, yt, 0.05, epochs=1, seed=3)
    i = run.train_index[0]
    with torch.no_grad():
        x_test = torch.as_tensor(Xt)
        pred0 = before(x_test).squeeze(1)
        r = before(torch.as_tensor(X[i : i + 1])).squeeze() - y[i]
        step = 0.05 * 2 * r * torch.cat([torch.as_tensor(X[i]), torch.ones(1, dtype=torch.float64)])
        before.weight -= step[:-1]
        before.bias -= step[-1]
        change = before(x_test).squeeze(1) - pred0
    assert run.exact[0] - run.first_order[0] == pytest.approx(-(change.numpy() ** 2), rel=1e-9)


def test_recorder_matches_brute_force_autograd_on_a_small_mlp():
    X, y, Xt, yt = data(n=6, m=2, features=4, seed=1)
    torch.manual_seed(0)
    model = build_mlp(4, [5, 3])
    reference = copy.deepcopy(model).double()
    lr = 0.01
    run = record_sgd(model, X, y, Xt, yt, lr, epochs=2, seed=5)
    params = list(reference.parameters())

    def loss(x, target):
        return (reference(torch.as_tensor(x).reshape(1, -1)).squeeze() - target) ** 2

    for t, i in enumerate(run.train_index):
        g = torch.autograd.grad(loss(X[i], y[i]), params)
        for j in range(len(Xt)):
            g_test = torch.autograd.grad(loss(Xt[j], yt[j]), params)
            expected = lr * sum((a * b).sum() for a, b in zip(g, g_test, strict=True))
            assert run.first_order[t, j] == pytest.approx(expected.item(), rel=1e-10, abs=1e-15)
        with torch.no_grad():
            before = np.array([loss(Xt[j], yt[j]).item() for j in range(len(Xt))])
            for p, dp in zip(params, g, strict=True):
                p -= lr * dp
            after = np.array([loss(Xt[j], yt[j]).item() for j in range(len(Xt))])
        assert run.exact[t] == pytest.approx(before - after, rel=1e-9, abs=1e-15)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)


def test_bookkeeping_each_point_once_per_epoch_and_sums_telescope():
    X, y, Xt, yt = data(n=10, m=4)
    run = record_sgd(linear(), X, y, Xt, yt, 0.01, epochs=3, seed=2)
    assert run.exact.shape == run.first_order.shape == (30, 4)
    assert run.test_loss.shape == (31, 4)
    for epoch in range(3):
        assert sorted(run.train_index[epoch * 10 : (epoch + 1) * 10]) == list(range(10))
    ideal = per_pair(run.train_index, run.exact, 10)
    first = per_pair(run.train_index, run.first_order, 10)
    assert ideal.shape == first.shape == (4, 10)
    # the per-point drops add up to the test loss drop over the whole run
    np.testing.assert_allclose(ideal.sum(1), run.test_loss[0] - run.test_loss[-1], rtol=1e-12)
    np.testing.assert_allclose(first.sum(1), run.first_order.sum(0), rtol=1e-12)
    mask = run.train_index == 7
    np.testing.assert_allclose(ideal[:, 7], run.exact[mask].sum(0), rtol=1e-12)
    again = record_sgd(linear(), X, y, Xt, yt, 0.01, epochs=3, seed=2)
    assert np.array_equal(again.train_index, run.train_index)
    assert np.array_equal(again.exact, run.exact)


def test_checkpoints_are_saved_every_k_steps_and_at_the_end(tmp_path):
    X, y, Xt, yt = data(n=10, m=2, features=8)
    run = train_ideal(X, y, Xt, yt, [4], 0.01, 2, 0, tmp_path, checkpoint_every_steps=3)
    manifest = read_manifest(tmp_path / "manifest.json")
    assert [c.step for c in manifest.checkpoints] == [3, 6, 9, 12, 15, 18, 20]
    assert [c.epoch for c in manifest.checkpoints] == [0, 0, 0, 1, 1, 1, 2]
    assert {c.learning_rate for c in manifest.checkpoints} == {0.01}
    assert tuple(manifest.checkpoints) == run.checkpoints
    model = load_checkpoint(manifest.checkpoints[-1], manifest.build_model().double())
    with torch.no_grad():
        final = (model(torch.as_tensor(Xt)).squeeze(1).numpy() - yt) ** 2
    np.testing.assert_allclose(final, run.test_loss[-1], rtol=1e-12)


def test_evenly_spaced_ends_with_the_last_checkpoint():
    assert evenly_spaced(60, 1).tolist() == [59]
    assert evenly_spaced(60, 2).tolist() == [29, 59]
    assert evenly_spaced(60, 5).tolist() == [11, 23, 35, 47, 59]
    assert evenly_spaced(6, 6).tolist() == list(range(6))
    with pytest.raises(ValueError, match="k=7"):
        evenly_spaced(6, 7)


def test_recorder_rejects_parameters_outside_linear_layers():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(3, 1)
            self.scale = nn.Parameter(torch.ones(1))

        def forward(self, x):
            return self.layer(x) * self.scale

    X, y, Xt, yt = data()
    with pytest.raises(ValueError, match="scale"):
        record_sgd(Scaled(), X, y, Xt, yt, 0.01, 1, 0)


def test_subsample_is_sorted_distinct_and_fixed_by_its_seed():
    chosen = subsample(100, 30, 4)
    assert chosen.shape == (30,) and len(set(chosen)) == 30
    assert np.all(np.diff(chosen) > 0) and chosen.max() < 100
    assert np.array_equal(chosen, subsample(100, 30, 4))
    assert not np.array_equal(chosen, subsample(100, 30, 5))
    with pytest.raises(ValueError, match="n_train=101 exceeds the 100"):
        subsample(100, 101, 0)


IDEAL = ApproximationChainSettings(
    n_train=12,
    subsample_seed=1,
    seed=0,
    epochs=2,
    learning_rate=1e-3,
    checkpoint_every_steps=6,
    checkpoint_counts=(1, 2),
    adam=AdamStepSettings(learning_rate=1e-5, beta2=0.999, eps=1e-8),
)


@pytest.fixture(scope="module")
def chain_run(tiny_prepared, tmp_path_factory):
    """An ideal run on 12 of the 40 training points against 3 test points (4 checkpoints),
    and its approximation chain for k in 1, 2 (and 4, all saved)."""
    folder = tmp_path_factory.mktemp("ideal")
    steps = record_ideal(tiny_prepared, np.array([7, 2, 11]), [4], IDEAL, folder)
    manifest = read_manifest(folder / "manifest.json")
    chain = approximation_chain(steps, manifest, tiny_prepared, [2, 1], 64)
    return steps, manifest, chain


def test_record_ideal_runs_on_the_subsample_against_the_test_points(chain_run, tiny_prepared):
    steps, manifest, _ = chain_run
    assert list(steps) == [
        "train_index",
        "test_index",
        "step_train_position",
        "exact",
        "first_order",
        "test_loss",
    ]
    assert np.array_equal(steps["train_index"], subsample(40, 12, 1))
    assert steps["test_index"].tolist() == [7, 2, 11]
    assert steps["exact"].shape == steps["first_order"].shape == (24, 3)
    assert [c.step for c in manifest.checkpoints] == [6, 12, 18, 24]
    # the recorded test losses are those of the test houses at the given positions
    X_test, y_test = tiny_prepared.test_points([7, 2, 11])
    model = load_checkpoint(manifest.checkpoints[-1], manifest.build_model().double())
    with torch.no_grad():
        final = model(torch.as_tensor(X_test, dtype=torch.float64)).squeeze(1).numpy() - y_test
    np.testing.assert_allclose(steps["test_loss"][-1], final**2, rtol=1e-10)


def test_approximation_chain_scores_and_comparison(chain_run, tiny_prepared):
    steps, manifest, chain = chain_run
    assert chain.checkpoint_counts.tolist() == [1, 2, 4]
    assert chain.ideal.shape == chain.first_order.shape == (3, 12)
    assert chain.tracin_cp.shape == (3, 3, 12)
    np.testing.assert_allclose(chain.ideal.sum(1), steps["exact"].sum(0), rtol=1e-12)
    tracin = TracInCP(manifest.build_model(), manifest.checkpoints)
    train_index, test_index = steps["train_index"], steps["test_index"]
    per_checkpoint = tracin.influence(
        tiny_prepared.X_train[train_index],
        tiny_prepared.y_train[train_index],
        tiny_prepared.X_test[test_index],
        tiny_prepared.y_test[test_index],
    )
    np.testing.assert_allclose(chain.tracin_cp[0], per_checkpoint[3], rtol=1e-12)  # the last
    np.testing.assert_allclose(chain.tracin_cp[1], per_checkpoint[[1, 3]].sum(0), rtol=1e-12)
    np.testing.assert_allclose(chain.tracin_cp[2], per_checkpoint.sum(0), rtol=1e-12)

    comparison = chain.comparison(top_k=3)
    # against ideal: first order and 3 TracInCP variants; against first order: 3 TracInCP;
    # each with 3 test points and the summed test loss
    assert len(comparison) == (4 + 3) * 4
    first = comparison[comparison["method"] == "first_order"]
    assert first["checkpoints"].isna().all() and (first["reference"] == "ideal").all()
    assert first["test_index"].tolist() == [7, 2, 11, ALL_TEST_POINTS]
    assert (first["pearson"] > 0.99).all()  # a small learning rate: first order is accurate
    summary = summarise_comparison(comparison)
    assert (summary["n"] == 3).all()  # the summed-loss rows are left out
    assert len(summary) == 7 * 3


def test_approximation_chain_saves_every_array(chain_run, tmp_path):
    *_, chain = chain_run
    chain.save_arrays(tmp_path / "scores.npz")
    saved = np.load(tmp_path / "scores.npz")
    assert sorted(saved.files) == sorted(
        ["train_index", "test_index", "ideal", "first_order", "checkpoint_counts", "tracin_cp"]
    )
    np.testing.assert_array_equal(saved["tracin_cp"], chain.tracin_cp)


def mlp(seed=0):
    torch.manual_seed(seed)
    return build_mlp(3, [5, 4])


def test_adam_recorder_follows_torch_adam_with_beta1_zero():
    X, y, Xt, yt = data(n=6)
    model = mlp()
    reference = copy.deepcopy(model).double()
    run = record_adam(model, X, y, Xt, yt, 0.01, beta2=0.99, eps=1e-8, epochs=2, seed=4)
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.01, betas=(0.0, 0.99), eps=1e-8)
    x, t = torch.as_tensor(X), torch.as_tensor(y)
    for i in run.train_index:
        optimizer.zero_grad()
        ((reference(x[i : i + 1]).squeeze() - t[i]) ** 2).backward()
        optimizer.step()
    for ours, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)
    assert run.first_order.shape == run.first_order_raw.shape == run.exact.shape == (12, 3)


def test_adam_first_order_matches_the_exact_change_and_raw_tracin_does_not():
    X, y, Xt, yt = data(n=6)
    run = record_adam(mlp(), X, y, Xt, yt, 1e-6, beta2=0.999, eps=1e-8, epochs=2, seed=1)
    scale = np.abs(run.exact).sum()
    preconditioned = np.abs(run.exact - run.first_order).sum() / scale
    raw = np.abs(run.exact - run.first_order_raw).sum() / scale
    assert preconditioned < 1e-4
    assert raw > 0.1 and raw > 1000 * preconditioned  # wrong direction, at any step size
    errors = []
    for lr in (1e-3, 5e-4):  # the preconditioned estimate is off by O(eta^2) only
        run = record_adam(mlp(), X, y, Xt, yt, lr, beta2=0.999, eps=1e-8, epochs=1, seed=1)
        errors.append(np.abs(run.exact - run.first_order).sum())
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.1)


def test_sgd_recorder_has_no_raw_estimate_and_adam_rejects_bad_settings():
    X, y, Xt, yt = data()
    assert record_sgd(linear(), X, y, Xt, yt, 1e-3, epochs=1, seed=0).first_order_raw is None
    with pytest.raises(ValueError, match="beta2=1.0"):
        record_adam(linear(), X, y, Xt, yt, 1e-3, beta2=1.0, eps=1e-8, epochs=1, seed=0)


def test_adam_chain_uses_the_sgd_runs_points_and_is_summarised_beside_it(chain_run, tiny_prepared):
    steps, _, chain = chain_run
    adam_steps = record_ideal_adam(tiny_prepared, np.array([7, 2, 11]), [4], IDEAL)
    for key in ("train_index", "test_index", "step_train_position"):
        np.testing.assert_array_equal(adam_steps[key], steps[key])
    np.testing.assert_allclose(adam_steps["test_loss"][0], steps["test_loss"][0], rtol=1e-12)
    assert adam_steps["first_order_raw"].shape == adam_steps["exact"].shape == (24, 3)
    table = adam_comparison(adam_steps, top_k=3)
    assert (table["optimizer"] == "adam").all() and (table["reference"] == "ideal").all()
    assert table["checkpoints"].isna().all()
    assert sorted(set(table["method"])) == ["first_order_adam", "first_order_raw"]
    adam_first = table[(table["method"] == "first_order_adam") & (table["test_index"] >= 0)]
    assert (adam_first["pearson"] > 0.99).all()  # a small step: the estimate is accurate
    comparison = pd.concat([chain.comparison(top_k=3), table], ignore_index=True)
    assert list(comparison.columns) == list(table.columns)
    summary = summarise_comparison(comparison)
    assert summary["optimizer"].value_counts().to_dict() == {"sgd": 7 * 3, "adam": 2 * 3}
