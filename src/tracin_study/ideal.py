"""Ground truth for TracIn: plain SGD with one example per step, every step recorded.

In this idealised setting (Pruthi et al., 2020, section 3.1) each step t uses one training
point z_t and moves the weights by w_{t+1} = w_t - eta grad l(w_t, z_t), with the loss
l(w, z) = (f_w(x) - y)^2. For each test point z' the recorder keeps

    exact[t]       = l(w_t, z') - l(w_{t+1}, z')                  (the actual loss drop)
    first_order[t] = eta grad l(w_t, z_t) . grad l(w_t, z')       (its first-order estimate)

in float64. Summed over the steps that used z they give TracInIdeal(z, z') and first-order
TracIn(z, z') (`per_pair`); TracInCP over checkpoints saved along the way approximates both.

Every parameter must live in an `nn.Linear` layer y = W a + b that runs once per forward
pass. Then, exactly, dl/dW = delta a^T and dl/db = delta with delta = dl/dy, so one forward
and one backward pass over the batch [z_t, z'_1..z'_M] (the engine's `hooked_factors`) give
the SGD update and all M dot products (the engine's `cross_terms`):
grad l(z) . grad l(z') = sum over layers of (delta . delta') (a . a' + 1).

The Adam case (`record_adam`) takes Adam steps at batch size 1 with beta1 = 0, so that each
step still moves by one example's gradient, preconditioned: w_{t+1} = w_t - eta P_t g_t with
P_t = diag(1 / (sqrt(v_hat_t) + eps)) and v_hat_t the bias-corrected second moment after
g_t is folded in. Its first-order estimate is eta grad l(w_t, z')^T P_t g_t, the change along
the step actually taken; raw TracIn, eta g_t . grad l(w_t, z'), is recorded beside it.
"""

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tracin_study.checkpoints import Checkpoint, save_checkpoint, write_manifest
from tracin_study.influence.algebra import cross_terms
from tracin_study.influence.gradients import Gradients, hooked_factors
from tracin_study.model import build_mlp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdealRun:
    """What the recorder saw over T = epochs x N steps, for M test points.

    train_index: (T,) int64, the training point z_t used at step t (0..N-1).
    exact: (T, M) float64, l(w_t, z') - l(w_{t+1}, z').
    first_order: (T, M) float64, eta grad l(w_t, z_t) . grad l(w_t, z') (for Adam steps
    eta grad l(w_t, z')^T P_t grad l(w_t, z_t), the first-order change along the step).
    test_loss: (T + 1, M) float64, l(w_t, z') for t = 0..T.
    checkpoints: the saved states in step order (empty when none were saved).
    first_order_raw: (T, M) float64, eta grad l(w_t, z_t) . grad l(w_t, z') when the steps
    were preconditioned (`record_adam`, where `first_order` holds the preconditioned
    estimate), else None.
    """

    train_index: np.ndarray
    exact: np.ndarray
    first_order: np.ndarray
    test_loss: np.ndarray
    checkpoints: tuple[Checkpoint, ...]
    first_order_raw: np.ndarray | None = None


def _linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The model's Linear layers as (name, layer); raises if any parameter lives elsewhere."""
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    owned = {id(p) for _, m in layers for p in m.parameters(recurse=False)}
    stray = [n for n, p in model.named_parameters() if id(p) not in owned]
    if stray:
        raise ValueError(f"the SGD recorder handles nn.Linear parameters only, not {stray}")
    if not layers:
        raise ValueError("the model has no nn.Linear layer")
    return layers


def record_sgd(
    model: nn.Module,
    X_train,
    y_train,
    X_test,
    y_test,
    learning_rate: float,
    epochs: int,
    seed: int,
    checkpoint_dir: Path | None = None,
    checkpoint_every_steps: int = 0,
    model_spec: dict | None = None,
) -> IdealRun:
    """Train `model` in place (cast to float64) by SGD with batch size 1 and record each step.

    X_train (N, F), y_train (N,); X_test (M, F), y_test (M,). Each epoch visits every
    training point once, in an order drawn from `np.random.default_rng(seed)`.
    With `checkpoint_dir`, the state is saved after every `checkpoint_every_steps` steps and
    after the last one, as `step_<t>.pt` (float64) with `manifest.json` (seed, `model_spec`,
    learning_rate = eta; `epoch` is the number of completed epochs).
    """
    if checkpoint_dir is not None and checkpoint_every_steps < 1:
        raise ValueError(f"checkpoint_every_steps={checkpoint_every_steps} must be at least 1")
    checkpoints: list[Checkpoint] = []
    after_step = None
    if checkpoint_dir is not None:
        checkpoint_dir = Path(checkpoint_dir)
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        for stale in checkpoint_dir.glob("step_*.pt"):
            stale.unlink()

        def after_step(done: int, steps: int, n: int) -> None:
            if done % checkpoint_every_steps == 0 or done == steps:
                path = checkpoint_dir / f"step_{done:07d}.pt"
                checkpoints.append(save_checkpoint(model, path, done // n, done, learning_rate))

    run = _record(
        model, (X_train, y_train, X_test, y_test), learning_rate, epochs, seed, None, after_step
    )
    if checkpoint_dir is not None:
        write_manifest(checkpoint_dir / "manifest.json", seed, model_spec or {}, checkpoints)
    return dataclasses.replace(run, checkpoints=tuple(checkpoints))


def record_adam(
    model: nn.Module,
    X_train,
    y_train,
    X_test,
    y_test,
    learning_rate: float,
    beta2: float,
    eps: float,
    epochs: int,
    seed: int,
) -> IdealRun:
    """As `record_sgd` (no checkpoints), but each step is Adam's with beta1 = 0: the step
    w_{t+1} = w_t - eta P_t g_t moves by one example's preconditioned gradient g_t, with
    P_t = diag(1 / (sqrt(v_t / (1 - beta2^t)) + eps)) and v_t = beta2 v_{t-1} +
    (1 - beta2) g_t^2, v_0 = 0 (`torch.optim.Adam` with betas (0, beta2)). `first_order` is
    eta grad l(w_t, z')^T P_t g_t, the first-order change along that step, and
    `first_order_raw` eta grad l(w_t, z') . g_t."""
    if not 0 <= beta2 < 1:
        raise ValueError(f"beta2={beta2} must lie in [0, 1)")
    if not eps > 0:
        raise ValueError(f"eps={eps} must be positive")
    model.double()
    precondition = _AdamNoMomentum(_linear_layers(model), beta2, eps)
    return _record(
        model, (X_train, y_train, X_test, y_test), learning_rate, epochs, seed, precondition
    )


class _AdamNoMomentum:
    """Adam's second-moment state v of each Linear layer (weight, bias) at batch size 1."""

    def __init__(self, layers: list[tuple[str, nn.Linear]], beta2: float, eps: float):
        self.beta2, self.eps, self.t = beta2, eps, 0
        self.v = [
            (torch.zeros_like(m.weight), None if m.bias is None else torch.zeros_like(m.bias))
            for _, m in layers
        ]

    def __call__(self, factors) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """Fold the step's gradient g_t (row 0 of `factors`) into v and return the step
        direction P_t g_t of each layer: (weight (out, in), bias (out,) or None)."""
        self.t += 1
        correction = 1.0 - self.beta2**self.t
        directions = []
        for (v_weight, v_bias), f in zip(self.v, factors, strict=True):
            g = torch.outer(f.delta[0], f.a[0])
            bias = None
            if v_bias is not None:
                bias = self._direction(v_bias, f.delta[0], correction)
            directions.append((self._direction(v_weight, g, correction), bias))
        return directions

    def _direction(self, v: torch.Tensor, g: torch.Tensor, correction: float) -> torch.Tensor:
        """v <- beta2 v + (1 - beta2) g^2, then g / (sqrt(v / correction) + eps)."""
        v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
        return g / (v / correction).sqrt_().add_(self.eps)


def _along(test: Gradients, directions) -> torch.Tensor:
    """grad l(z')^T d for each test row of `test` and the step direction d (per layer,
    weight and bias as from `_AdamNoMomentum`): float64 (M,)."""
    total = 0
    for f, (weight, bias) in zip(test.terms, directions, strict=True):
        total = total + ((f.delta @ weight) * f.a).sum(1)
        if bias is not None:
            total = total + f.delta @ bias
    return total


def _record(
    model: nn.Module,
    data: tuple,
    learning_rate: float,
    epochs: int,
    seed: int,
    precondition=None,
    after_step=None,
) -> IdealRun:
    """The step loop of `record_sgd` and `record_adam`: `precondition(factors)` gives the
    step direction P_t g_t of each layer (None: plain SGD, P_t = I); `after_step(done,
    steps, n)` runs after each step."""
    if not learning_rate > 0:
        raise ValueError(f"learning_rate={learning_rate} must be positive")
    if epochs < 1:
        raise ValueError(f"epochs={epochs} must be at least 1")
    X_train, y_train, X_test, y_test = data
    model.double().eval()
    layers = _linear_layers(model)
    x = torch.as_tensor(np.asarray(X_train, dtype=np.float64))
    y = torch.as_tensor(np.asarray(y_train, dtype=np.float64)).reshape(-1)
    n, m = len(x), len(X_test)
    if len(y) != n or len(y_test) != m:
        raise ValueError(
            f"{n} training inputs with {len(y)} targets, {m} test inputs with {len(y_test)}"
        )
    batch_x = torch.cat([x[:1], torch.as_tensor(np.asarray(X_test, dtype=np.float64))])
    batch_y = torch.cat([y[:1], torch.as_tensor(np.asarray(y_test, dtype=np.float64))])
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(n) for _ in range(epochs)])
    steps = len(order)
    exact_loss = torch.empty(steps + 1, m, dtype=torch.float64)
    first_order = torch.empty(steps, m, dtype=torch.float64)
    first_order_raw = torch.empty(steps, m, dtype=torch.float64) if precondition else None
    start = time.perf_counter()
    for t, i in enumerate(order.tolist()):
        batch_x[0], batch_y[0] = x[i], y[i]
        factors, losses = hooked_factors(model, layers, batch_x, batch_y)
        with torch.no_grad():
            exact_loss[t] = losses[1:]
            grads = Gradients(factors)
            test, train = grads.rows(slice(1, None)), grads.rows(slice(0, 1))
            raw = learning_rate * cross_terms(test, train).sum(0)[:, 0]  # eta g' . g
            directions = precondition(factors) if precondition else None
            if directions is None:
                first_order[t] = raw
            else:
                first_order[t] = learning_rate * _along(test, directions)  # eta g' P g
                first_order_raw[t] = raw
            _step(layers, factors, learning_rate, directions)
        done = t + 1
        if after_step is not None:
            after_step(done, steps, n)
        if done % n == 0:
            log.info("epoch %d/%d done (%.1f s)", done // n, epochs, time.perf_counter() - start)
    with torch.no_grad():
        exact_loss[steps] = (model(batch_x[1:]).reshape(-1) - batch_y[1:]).square()
    loss = exact_loss.numpy()
    raw_estimates = None if first_order_raw is None else first_order_raw.numpy()
    return IdealRun(order, loss[:-1] - loss[1:], first_order.numpy(), loss, (), raw_estimates)


def _step(layers, factors, learning_rate: float, directions) -> None:
    """w <- w - eta d for each Linear layer: d = g(w, z_0) from the factors of row 0 when
    `directions` is None (plain SGD), else the given step direction."""
    for j, ((_, layer), f) in enumerate(zip(layers, factors, strict=True)):
        if directions is None:
            layer.weight.addr_(f.delta[0], f.a[0], alpha=-learning_rate)
            if layer.bias is not None:
                layer.bias.add_(f.delta[0], alpha=-learning_rate)
            continue
        weight, bias = directions[j]
        layer.weight.add_(weight, alpha=-learning_rate)
        if bias is not None:
            layer.bias.add_(bias, alpha=-learning_rate)


def train_ideal(
    X_train,
    y_train,
    X_test,
    y_test,
    hidden,
    learning_rate: float,
    epochs: int,
    seed: int,
    checkpoint_dir: Path,
    checkpoint_every_steps: int,
) -> IdealRun:
    """`record_sgd` on the study's MLP (`build_mlp`), initialised from `torch.manual_seed(seed)`;
    `seed` also draws the visiting order."""
    torch.manual_seed(seed)
    spec = {"n_features": int(np.shape(X_train)[1]), "hidden": [int(h) for h in hidden]}
    model = build_mlp(**spec)
    return record_sgd(
        model,
        X_train,
        y_train,
        X_test,
        y_test,
        learning_rate,
        epochs,
        seed,
        checkpoint_dir,
        checkpoint_every_steps,
        spec,
    )


def per_pair(train_index, values, n_train: int) -> np.ndarray:
    """Sum per-step values (T, M) over the steps that used each training point: (M, n_train).

    With `IdealRun.exact` this is TracInIdeal, with `IdealRun.first_order` first-order TracIn.
    """
    train_index, values = np.asarray(train_index), np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != train_index.shape[0]:
        raise ValueError(f"values {values.shape} need one row per step ({train_index.shape[0]})")
    out = np.zeros((values.shape[1], n_train))
    np.add.at(out.T, train_index, values)
    return out
