"""Deterministic training of the MLP with Adam and MSE, saving checkpoints and a manifest."""

import logging
import math
import time
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import explained_variance_score, mean_absolute_error, mean_squared_error

from tracin_study.checkpoints import save_checkpoint, write_manifest
from tracin_study.config import TrainingConfig
from tracin_study.model import build_mlp, count_parameters

log = logging.getLogger(__name__)


class TrainingError(RuntimeError):
    """Training diverged: a non-finite loss."""


def _as_tensor(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float32))


def predict(model: torch.nn.Module, X, batch_size: int = 8192) -> np.ndarray:
    """Model output for X of shape (n, features), as a float64 array of shape (n,)."""
    model.eval()
    X = _as_tensor(X)
    with torch.no_grad():
        out = [model(X[i : i + batch_size]).squeeze(1) for i in range(0, len(X), batch_size)]
    return torch.cat(out).double().numpy()


def regression_metrics(y_true, y_pred) -> dict:
    """MSE, MAE (both in units of the target) and explained variance."""
    return {
        "mse": float(mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "explained_variance": float(explained_variance_score(y_true, y_pred)),
    }


def explained_variances(
    model, X_train, y_train, X_test, y_test, config: TrainingConfig, epoch: int
) -> dict:
    """`train_explained_variance` and `test_explained_variance` of `model` after `epoch`:
    measured if `config.curve_every` divides it, else NaN."""
    every = config.curve_every
    if not every or epoch % every:
        return {"train_explained_variance": math.nan, "test_explained_variance": math.nan}
    return {
        f"{split}_explained_variance": float(
            explained_variance_score(np.asarray(y), predict(model, X))
        )
        for split, X, y in (("train", X_train, y_train), ("test", X_test, y_test))
    }


def _diverged(seed: int, epoch: int, batch: int, loss: float, saved) -> NoReturn:
    """Remove the run's checkpoints and raise `TrainingError` for a non-finite loss."""
    for checkpoint in saved:
        for path in (checkpoint.path, checkpoint.optimizer_path):
            if path is not None:
                Path(path).unlink(missing_ok=True)
    raise TrainingError(
        f"seed {seed}: training loss is {loss} at epoch {epoch}, batch {batch}; stopped and "
        f"removed this run's checkpoints. Check the prepared data for non-finite values, or "
        f"lower training.learning_rate."
    )


def train(
    X_train,
    y_train,
    X_test,
    y_test,
    config: TrainingConfig,
    seed: int,
    checkpoint_dir: Path,
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Train one model and save its checkpoints plus `manifest.json` in `checkpoint_dir`.

    Each checkpoint after the first step comes with Adam's state (`epoch_XXXX.adam.pt`);
    the initial one (epoch 0) has none.

    X_* have shape (n, features) (scaled, or raw: `data.PreparedData`), y_* shape (n,)
    (prices in $100,000).
    `seed` alone drives the initial weights and the batch order, so the same seed on the same
    machine and thread count gives bit-identical checkpoints. Returns the trained model and
    the loss curve: one row per epoch with the mean training-batch MSE and the test MSE,
    and the explained variance on both splits after every `config.curve_every`-th epoch
    (NaN after the others; measuring it draws no random numbers).
    A non-finite batch loss raises `TrainingError` before the manifest is written and
    removes the checkpoints saved so far.
    """
    torch.use_deterministic_algorithms(True)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    for stale in [*checkpoint_dir.glob("epoch_*.pt"), checkpoint_dir / "manifest.json"]:
        stale.unlink(missing_ok=True)
    X, y = _as_tensor(X_train), _as_tensor(y_train).reshape(-1)
    n = len(X)
    torch.manual_seed(seed)
    model = build_mlp(X.shape[1], config.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    batch_order = torch.Generator().manual_seed(seed)
    save_at = set(config.checkpoint_epochs())

    def checkpoint(epoch: int, step: int):
        lr = optimizer.param_groups[0]["lr"]
        path = checkpoint_dir / f"epoch_{epoch:04d}.pt"
        return save_checkpoint(model, path, epoch, step, lr, optimizer)

    saved = [checkpoint(0, 0)]
    curve = []
    step = 0
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=batch_order)
        total = 0.0
        for i in range(0, n, config.batch_size):
            idx = perm[i : i + config.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = torch.mean((model(X[idx]).squeeze(1) - y[idx]) ** 2)
            if not math.isfinite(loss.item()):
                _diverged(seed, epoch, i // config.batch_size + 1, loss.item(), saved)
            loss.backward()
            optimizer.step()
            step += 1
            total += loss.item() * len(idx)
        test_mse = float(np.mean((predict(model, X_test) - np.asarray(y_test)) ** 2))
        row = {"epoch": epoch, "train_mse": total / n, "test_mse": test_mse}
        curve.append(row | explained_variances(model, X, y, X_test, y_test, config, epoch))
        if epoch in save_at:
            saved.append(checkpoint(epoch, step))
        log.info(
            "seed %d epoch %d/%d  train MSE %.4f  test MSE %.4f  (%.0f s)",
            seed,
            epoch,
            config.epochs,
            total / n,
            test_mse,
            time.perf_counter() - start,
        )
    model_spec = {"n_features": int(X.shape[1]), "hidden": list(config.hidden)}
    write_manifest(checkpoint_dir / "manifest.json", seed, model_spec, saved)
    return model, pd.DataFrame(curve)


def train_and_evaluate(
    X_train,
    y_train,
    X_test,
    y_test,
    config: TrainingConfig,
    seed: int,
    checkpoint_dir: Path,
) -> tuple[torch.nn.Module, pd.DataFrame, dict]:
    """`train`, then score the trained model on both splits.

    Arguments as for `train` (y_train is the target the model was fitted to, corrupted or
    not). Returns the model, the loss curve and a metrics dict: `n_parameters`, `train` and
    `test` (`regression_metrics`, in units of the target) and `wall_seconds` (training and
    evaluation).
    """
    start = time.perf_counter()
    model, curve = train(X_train, y_train, X_test, y_test, config, seed, checkpoint_dir)
    metrics = {
        "n_parameters": count_parameters(model),
        "train": regression_metrics(y_train, predict(model, X_train)),
        "test": regression_metrics(y_test, predict(model, X_test)),
        "wall_seconds": time.perf_counter() - start,
    }
    return model, curve, metrics
