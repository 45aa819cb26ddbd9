"""Deterministic training of the MLP with Adam and MSE, saving checkpoints and a manifest,
and its counterfactual retrainings without some training houses (`retrain_without`)."""

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import torch

from tracin_study.checkpoints import save_checkpoint, write_manifest
from tracin_study.config import PROTOCOLS, TrainingSettings
from tracin_study.data import PreparedData
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
    # imported here, as in `data.neighbour_distances`: the retraining jobs never need it
    from sklearn.metrics import explained_variance_score, mean_absolute_error, mean_squared_error

    return {
        "mse": float(mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "explained_variance": float(explained_variance_score(y_true, y_pred)),
    }


def explained_variances(
    model, X_train, y_train, X_test, y_test, config: TrainingSettings, epoch: int
) -> dict:
    """`train_explained_variance` and `test_explained_variance` of `model` after `epoch`:
    measured if `config.curve_every` divides it, else NaN."""
    every = config.curve_every
    if not every or epoch % every:
        return {"train_explained_variance": math.nan, "test_explained_variance": math.nan}
    from sklearn.metrics import explained_variance_score  # as in `regression_metrics`

    return {
        f"{split}_explained_variance": float(
            explained_variance_score(np.asarray(y), predict(model, X))
        )
        for split, X, y in (("train", X_train, y_train), ("test", X_test, y_test))
    }


def _nonfinite(seed: int, epoch: int, batch: int, loss: float) -> NoReturn:
    raise TrainingError(
        f"seed {seed}: training loss is {loss} at epoch {epoch}, batch {batch}; stopped. "
        f"Check the prepared data for non-finite values, or lower training.learning_rate."
    )


def _batch_loss(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean squared error of the model on x (b, features) against y (b,)."""
    return torch.mean((model(x).squeeze(1) - y) ** 2)


def _masked_loss(model, x: torch.Tensor, y: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """The loss of a batch x (b, features), y (b,) with removed houses: the sum of the
    squared errors of its `kept` houses (bool, (b,)) divided by b; 0 with zero gradients
    when every house of the batch is removed."""
    return torch.sum((model(x[kept]).squeeze(1) - y[kept]) ** 2) / len(x)


def fit(
    X_train,
    y_train,
    config: TrainingSettings,
    seed: int,
    removed=None,
    after_epoch: Callable | None = None,
) -> tuple[torch.nn.Module, torch.optim.Adam]:
    """The training loop shared by `train` and the counterfactual retrainings.

    X_train (N, features), y_train (N,). `seed` drives the initial weights
    (`torch.manual_seed`) and the batch order: a `torch.Generator` seeded with it draws a
    permutation of all N houses per epoch, cut into batches of `config.batch_size`.
    Adam runs its fused implementation (`fused=True`, one kernel over all parameters).
    `removed` (row positions in X_train, or None): the fixed-order counterfactual of Hara et
    al. (2019). The run is replayed with the same initial weights, permutations and batch
    boundaries, and each batch's loss is the sum of the squared errors of its kept houses
    divided by the batch's original size b, so a kept house contributes exactly what it
    did in the reference run. A batch whose houses are all removed still makes its Adam
    step (zero gradient; the moments still move the weights), so the step count and the
    schedule stay those of the reference run. A batch with no removed house takes the
    plain mean, so removing nothing gives the reference run bit for bit.
    `after_epoch(epoch, step, model, optimizer, train_mse)` is called before the first
    step (epoch 0, step 0, train_mse NaN) and after each epoch; train_mse is the mean
    squared error over the epoch's kept houses, as the batches saw them. It must draw no
    random numbers. Returns the final model and its optimizer. A non-finite batch loss
    raises `TrainingError` naming the epoch and batch (checked once per epoch, before
    `after_epoch`, so no diverged model reaches it).
    """
    torch.use_deterministic_algorithms(True)
    # row-major, as the batches the previous loop gathered: a layout changes the kernels' sums
    X, y = _as_tensor(X_train).contiguous(), _as_tensor(y_train).reshape(-1).contiguous()
    n, size = len(X), config.batch_size
    keep = None
    if removed is not None:
        keep = torch.ones(n, dtype=torch.bool)
        keep[torch.as_tensor(np.asarray(removed, dtype=np.int64))] = False
    n_kept = n if keep is None else int(keep.sum())
    torch.manual_seed(seed)
    model = build_mlp(X.shape[1], config.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, fused=True)
    batch_order = torch.Generator().manual_seed(seed)
    after = after_epoch or (lambda *_: None)
    after(0, 0, model, optimizer, math.nan)
    starts = list(range(0, n, size))
    sizes = [min(size, n - i) for i in starts]
    # the epoch's houses in batch order, gathered once per epoch into reused buffers
    X_epoch, y_epoch = torch.empty_like(X), torch.empty_like(y)
    losses = torch.empty(len(starts), dtype=torch.float32)
    step = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=batch_order)
        torch.index_select(X, 0, perm, out=X_epoch)
        torch.index_select(y, 0, perm, out=y_epoch)
        masked, keep_epoch = set(), None
        if keep is not None:
            keep_epoch = keep[perm]
            removed_per_batch = np.add.reduceat((~keep_epoch).numpy(), starts)
            masked = set(np.flatnonzero(removed_per_batch).tolist())
        for j, i in enumerate(starts):
            optimizer.zero_grad(set_to_none=True)
            x_batch, y_batch = X_epoch[i : i + size], y_epoch[i : i + size]
            if j in masked:
                loss = _masked_loss(model, x_batch, y_batch, keep_epoch[i : i + size])
            else:
                loss = _batch_loss(model, x_batch, y_batch)
            loss.backward()
            optimizer.step()
            losses[j] = loss.detach()
            step += 1
        values = losses.tolist()
        if not torch.isfinite(losses).all():
            bad = next(j for j, v in enumerate(values) if not math.isfinite(v))
            _nonfinite(seed, epoch, bad + 1, values[bad])
        total = 0.0
        for value, b in zip(values, sizes, strict=True):
            total += value * b
        after(epoch, step, model, optimizer, total / n_kept if n_kept else math.nan)
    return model, optimizer


def train(
    X_train,
    y_train,
    X_test,
    y_test,
    config: TrainingSettings,
    seed: int,
    checkpoint_dir: Path,
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Train one model (`fit`) and save its checkpoints plus `manifest.json` in
    `checkpoint_dir`.

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
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    for stale in [*checkpoint_dir.glob("epoch_*.pt"), checkpoint_dir / "manifest.json"]:
        stale.unlink(missing_ok=True)
    save_at = set(config.checkpoint_epochs())
    saved, curve = [], []
    start = time.perf_counter()

    def after_epoch(epoch, step, model, optimizer, train_mse):
        if epoch > 0:
            test_mse = float(np.mean((predict(model, X_test) - np.asarray(y_test)) ** 2))
            row = {"epoch": epoch, "train_mse": train_mse, "test_mse": test_mse}
            measured = explained_variances(model, X_train, y_train, X_test, y_test, config, epoch)
            curve.append(row | measured)
        if epoch in save_at:
            lr = optimizer.param_groups[0]["lr"]
            path = checkpoint_dir / f"epoch_{epoch:04d}.pt"
            saved.append(save_checkpoint(model, path, epoch, step, lr, optimizer))
        if epoch > 0:
            log.info(
                "seed %d epoch %d/%d  train MSE %.4f  test MSE %.4f  (%.0f s)",
                seed,
                epoch,
                config.epochs,
                train_mse,
                test_mse,
                time.perf_counter() - start,
            )

    try:
        model, _ = fit(X_train, y_train, config, seed, after_epoch=after_epoch)
    except TrainingError as err:
        for checkpoint in saved:
            for path in (checkpoint.path, checkpoint.optimizer_path):
                if path is not None:
                    Path(path).unlink(missing_ok=True)
        raise TrainingError(f"{err} Removed this run's checkpoints.") from err
    model_spec = {"n_features": int(np.shape(X_train)[1]), "hidden": list(config.hidden)}
    write_manifest(checkpoint_dir / "manifest.json", seed, model_spec, saved)
    return model, pd.DataFrame(curve)


def train_and_evaluate(
    X_train,
    y_train,
    X_test,
    y_test,
    config: TrainingSettings,
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


# Counterfactual retraining -----------------------------------------------------------------


def retrain_without(
    prepared: PreparedData, config: TrainingSettings, seed: int, removed, protocol: str
) -> torch.nn.Module:
    """The final model of training settings `config` and `seed` retrained without the
    training houses `removed` (train_index) under `protocol`. Nothing is written to disk.

    - fixed_order: the reference run replayed (same initial weights, same permutation of
      all N houses per epoch, same batch boundaries) with the removed houses weighted 0 in
      each batch's loss (`fit`'s `removed`); removing nothing is the reference run.
    - new_order: a run of the same seed on the kept houses only, so the batch order is
      drawn afresh over the N - |removed| houses and every batch differs from the
      reference run.
    """
    removed = np.asarray(removed, dtype=np.int64)
    if protocol == "fixed_order":
        return fit(prepared.X_train, prepared.y_train, config, seed, removed=removed)[0]
    if protocol == "new_order":
        kept = np.setdiff1d(np.arange(len(prepared.train)), removed)
        return fit(prepared.X_train[kept], prepared.y_train[kept], config, seed)[0]
    raise ValueError(f"unknown retraining protocol {protocol!r}; choose one of {PROTOCOLS}")


def house_losses(model: torch.nn.Module, prepared: PreparedData, test_index) -> np.ndarray:
    """Squared error of `model` on the test houses at `test_index` (M,): (M,), in
    ($100,000)^2."""
    X, y = prepared.test_points(test_index)
    return (predict(model, X) - y) ** 2
