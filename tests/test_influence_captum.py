"""TracInCP engine against captum.influence.TracInCP on the same checkpoints."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from tracin_study.checkpoints import save_checkpoint
from tracin_study.influence import TracInCP
from tracin_study.model import build_mlp

captum_influence = pytest.importorskip("captum.influence")


def captum_tracin(model, checkpoints, X_train, y_train, layers=None):
    """Captum's TracInCP with the per-example loss (f(x) - y)^2, summed over a batch."""
    learning_rates = {str(c.path): c.learning_rate for c in checkpoints}

    def load(net, path):
        net.load_state_dict(torch.load(path, weights_only=True))
        net.double().eval()
        return learning_rates[path]

    return captum_influence.TracInCP(
        model.double(),
        TensorDataset(X_train, y_train.reshape(-1, 1)),
        list(learning_rates),
        checkpoints_load_func=load,
        layers=layers,
        loss_fn=nn.MSELoss(reduction="sum"),
        batch_size=64,
        sample_wise_grads_per_batch=True,
    )


def rel_error(actual, expected):
    return np.abs(actual - expected).max() / np.abs(expected).max()


@pytest.mark.parametrize(("ours", "theirs"), [("all", None), ("last", ["6"])])
def test_matches_captum(tmp_path, ours, theirs):
    torch.manual_seed(0)
    model = build_mlp(8, (32, 16, 8))
    checkpoints = []
    with torch.no_grad():
        for epoch, lr in enumerate((0.02, 0.01, 0.004)):
            for p in model.parameters():
                p.add_(0.2 * torch.randn_like(p))
            checkpoints.append(save_checkpoint(model, tmp_path / f"{epoch}.pt", epoch, epoch, lr))
    X = torch.randn(311, 8, dtype=torch.float64)
    y = X[:, 0].sin() + X[:, 1] * X[:, 2] + 0.1 * torch.randn(311, dtype=torch.float64)
    X_train, y_train, X_test, y_test = X[:300], y[:300], X[300:], y[300:]

    result = TracInCP(model, checkpoints, layers=ours, progress=False).compute(
        X_train, y_train, X_test, y_test
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # captum: "did not require gradients"
        tracin = captum_tracin(model, checkpoints, X_train, y_train, layers=theirs)
        self_captum = tracin.self_influence(outer_loop_by_checkpoints=True).numpy()
        influence_captum = tracin.influence((X_test, y_test.reshape(-1, 1)), k=None).numpy()

    assert influence_captum.shape == (11, 300)
    assert rel_error(result.self_influence.sum(0), self_captum) <= 1e-9
    assert rel_error(result.influence.sum(0), influence_captum) <= 1e-9
