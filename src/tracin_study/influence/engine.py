"""TracInCP (Pruthi et al., 2020) for a regression model, exact and fast.

With checkpoints w_1..w_K, learning rates eta_i and the per-example loss
l(w, z) = (f_w(x) - y)^2 (squared error, not halved), the influence of a training example z
on a test example z' is

    TracInCP(z, z') = sum_i eta_i grad l(w_i, z')^T P_i grad l(w_i, z),

and the self-influence of z is TracInCP(z, z). With `preconditioner="none"` P_i is the
identity (the paper's SGD form). With `preconditioner="adam"` it is Adam's diagonal
P_i = diag(1 / (sqrt(v_hat_i) + eps)), v_hat_i = exp_avg_sq_i / (1 - beta2^step_i), from the
optimizer state saved with checkpoint i: the step Adam would take is eta P grad, momentum
left out. A score is a learning rate times a (preconditioned) product of two loss
gradients: comparable within one model and set of checkpoints, not across them.

The gradients of a batch come from one of three methods (`gradients`), chosen at
construction; the dot products from their factors (`algebra`), without any per-example
gradient matrix for Linear layers.

Example::

    manifest = read_manifest("results/default/seed_0/checkpoints")
    tracin = TracInCP(manifest.build_model(), manifest.select(range(20, 201, 20)))
    result = tracin.compute(X_train, y_train, X_test, y_test)
    self_influence = result.self_total()  # (N,)
    table = top_k(result.influence_total(), k=10)
"""

import copy
import logging
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from tracin_study.checkpoints import Checkpoint, load_adam_state, load_checkpoint
from tracin_study.influence.algebra import (
    Preconditioner,
    adam_preconditioner,
    cross_terms,
    self_terms,
)
from tracin_study.influence.gradients import (
    Gradients,
    ModuleGradients,
    generic_gradients,
    hooked_factors,
    relu_mlp_factors,
    relu_mlp_positions,
)
from tracin_study.influence.result import InfluenceError, InfluenceResult

logger = logging.getLogger(__name__)

# Most per-example gradient entries held at once by the generic path (float64: 32 MB).
GENERIC_BUDGET = 1 << 22
METHODS = ("auto", "relu_mlp", "hooks", "generic")
PRECONDITIONERS = ("none", "adam")

ProgressCallback = Callable[[int, int, Checkpoint, float], None]
GradientMethod = Callable[[torch.Tensor, torch.Tensor], Gradients]


class TracInCP:
    """TracInCP scores of a model over its saved checkpoints.

    Args:
        model: a module of the checkpoints' architecture mapping (B, F) to (B, 1) or (B,).
            It is copied (and cast to `dtype`); the original is left untouched.
        checkpoints: the checkpoints to sum over, each with its learning rate eta_i.
        layers: "all" parameters, the "last" module with parameters, or a list of module
            names as in `model.named_modules()` (their parameters, recursively).
        batch_size: examples per forward/backward pass.
        progress: True logs one INFO line per checkpoint (logger "tracin_study.influence");
            a callable is also called as `progress(i, K, checkpoint, seconds)`.
        dtype: dtype of the forward/backward passes and of the dot products within a layer;
            per-example squared norms and every sum over layers, batches and checkpoints
            are float64 always.
            float64 matches brute force to ~1e-15; float32 is about 2x faster on CPU, within
            ~1e-7 of the largest score but with larger relative error on near-zero scores.
        method: how per-example gradients are obtained: "relu_mlp" (explicit recurrence, an
            `nn.Sequential` of Linear and ReLU only), "hooks" (Linear layers by hooks and
            autograd, other modules generic), "generic" (`torch.func.vmap(grad)` for every
            parameter; slow, for checking) or "auto" ("relu_mlp" where it applies, else
            "hooks").
        preconditioner: "none" (raw gradients, as for SGD) or "adam" (Adam's diagonal
            preconditioner from the optimizer state saved with each checkpoint; every
            checkpoint needs one, so the initial checkpoint, saved before any step, is an
            error).
    """

    def __init__(
        self,
        model: nn.Module,
        checkpoints: Sequence[Checkpoint],
        layers: str | Sequence[str] = "all",
        batch_size: int = 1024,
        progress: bool | ProgressCallback = True,
        dtype: torch.dtype = torch.float64,
        method: str = "auto",
        preconditioner: str = "none",
    ):
        self.checkpoints = _checked_checkpoints(checkpoints, preconditioner)
        if batch_size < 1:
            raise InfluenceError(f"batch_size must be >= 1, got {batch_size}")
        if method not in METHODS:
            raise InfluenceError(f"method must be one of {METHODS}, got {method!r}")
        self.dtype = dtype
        self.progress = progress
        self.preconditioner = preconditioner
        self._model = copy.deepcopy(model).to(dtype).eval().requires_grad_(False)
        self._modules = _select_modules(self._model, layers)
        self.layer_names = tuple(name for name, _ in self._modules)
        self.method, self._gradients, self._factored = _choose_method(
            self._model, self._modules, method
        )
        n_generic = sum(
            p.numel()
            for (_, m), f in zip(self._modules, self._factored, strict=True)
            if not f
            for p in m.parameters(recurse=False)
        )
        if n_generic:
            batch_size = min(batch_size, max(1, GENERIC_BUDGET // n_generic))
        self.batch_size = batch_size
        first = next(m for _, m in self._model.named_modules() if _has_own_parameters(m))
        self._n_features = first.in_features if isinstance(first, nn.Linear) else None

    def self_influence(self, X_train, y_train) -> np.ndarray:
        """Self-influence contributions, float64 (K, N); `.sum(0)` is TracInCP(z, z).

        X_train: (N, F) array or tensor; y_train: (N,) or (N, 1) targets.
        """
        return self.compute(X_train, y_train).self_influence

    def influence(self, X_train, y_train, X_test, y_test) -> np.ndarray:
        """Influence contributions of each training on each test example, float64 (K, M, N)."""
        return self.compute(X_train, y_train, X_test, y_test).influence

    def compute(self, X_train, y_train, X_test=None, y_test=None) -> InfluenceResult:
        """Self-influence of the N training examples and, given M test examples, the test x
        train influence, per checkpoint and layer, in one pass over the checkpoints (one
        forward and backward per batch)."""
        x_train, y_train = self._as_tensors(X_train, y_train, "X_train")
        has_test = X_test is not None or y_test is not None
        if has_test:
            if X_test is None or y_test is None:
                raise InfluenceError("give both X_test and y_test, or neither")
            x_test, y_test = self._as_tensors(X_test, y_test, "X_test")
        shape = (len(self.checkpoints), len(self.layer_names))
        self_inf = np.zeros((*shape, len(x_train)))
        infl = np.zeros((*shape, len(x_test), len(x_train))) if has_test else None
        for i, ckpt in enumerate(self.checkpoints):
            start = time.perf_counter()
            load_checkpoint(ckpt, self._model)
            scale = self._scale(ckpt)
            test = self._gradients_all(x_test, y_test) if has_test else None
            if has_test:
                _check_finite(self_terms(test, scale).sum(0).numpy(), ckpt, "test")
            for lo in range(0, len(x_train), self.batch_size):
                hi = min(lo + self.batch_size, len(x_train))
                grads = self._gradients(x_train[lo:hi], y_train[lo:hi])
                self_inf[i, :, lo:hi] = ckpt.learning_rate * self_terms(grads, scale).numpy()
                if has_test:
                    cross = cross_terms(test, grads, scale).numpy()
                    infl[i, :, :, lo:hi] = ckpt.learning_rate * cross
            _check_finite(self_inf[i].sum(0), ckpt, "training")
            if has_test:
                _check_finite(infl[i].sum((0, 1)), ckpt, "training (influence on the test set)")
            self._report(i, ckpt, time.perf_counter() - start)
        return InfluenceResult(
            self_inf,
            infl,
            tuple(c.epoch for c in self.checkpoints),
            np.array([c.learning_rate for c in self.checkpoints], dtype=np.float64),
            self.layer_names,
        )

    def _scale(self, ckpt: Checkpoint) -> Preconditioner:
        """The preconditioner at a checkpoint whose weights are loaded: None for "none"."""
        if self.preconditioner == "none":
            return None
        return adam_preconditioner(load_adam_state(ckpt), self._modules, self._factored, self.dtype)

    def _gradients_all(self, x: torch.Tensor, y: torch.Tensor) -> Gradients:
        """Gradients of any number of examples, batch by batch, concatenated."""
        size = self.batch_size
        parts = [
            self._gradients(x[lo : lo + size], y[lo : lo + size]) for lo in range(0, len(x), size)
        ]
        return Gradients.concat(parts)

    def _as_tensors(self, X, y, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = X.detach() if isinstance(X, torch.Tensor) else torch.tensor(np.asarray(X))
        t = y.detach() if isinstance(y, torch.Tensor) else torch.tensor(np.asarray(y))
        if x.ndim != 2:
            raise InfluenceError(f"{name} must be 2-D (examples, features), got {tuple(x.shape)}")
        if self._n_features is not None and x.shape[1] != self._n_features:
            raise InfluenceError(
                f"{name} has {x.shape[1]} feature columns but the model expects "
                f"{self._n_features}; pass the same (scaled) feature columns used in training"
            )
        if t.numel() != len(x) or (t.ndim == 2 and t.shape[1] != 1) or t.ndim > 2:
            raise InfluenceError(
                f"targets for {name} must have shape ({len(x)},) or ({len(x)}, 1), "
                f"got {tuple(t.shape)}"
            )
        return x.to(self.dtype), t.reshape(-1).to(self.dtype)

    def _report(self, i: int, ckpt: Checkpoint, seconds: float) -> None:
        if not self.progress:
            return
        logger.info(
            "checkpoint %d/%d (epoch %d, lr %g, %s) done in %.2f s",
            i + 1,
            len(self.checkpoints),
            ckpt.epoch,
            ckpt.learning_rate,
            ckpt.path,
            seconds,
        )
        if callable(self.progress):
            self.progress(i, len(self.checkpoints), ckpt, seconds)


def _checked_checkpoints(checkpoints: Sequence[Checkpoint], preconditioner: str) -> tuple:
    """The checkpoints as a tuple, each with a usable learning rate and, for "adam", state."""
    checkpoints = tuple(checkpoints)
    if not checkpoints:
        raise InfluenceError("TracInCP needs at least one checkpoint, got an empty list")
    if preconditioner not in PRECONDITIONERS:
        raise InfluenceError(
            f"preconditioner must be one of {PRECONDITIONERS}, got {preconditioner!r}"
        )
    for c in checkpoints:
        lr = c.learning_rate
        if lr is None or not math.isfinite(lr) or lr <= 0:
            raise InfluenceError(
                f"checkpoint {c.path} (epoch {c.epoch}) has learning_rate={lr!r}; TracInCP "
                f"needs the positive learning rate in effect there (never assumed 1.0)"
            )
    missing = [f"{c.path} (epoch {c.epoch})" for c in checkpoints if c.optimizer_path is None]
    if preconditioner == "adam" and missing:
        raise InfluenceError(
            f"preconditioner='adam' needs the Adam state saved with each checkpoint; none for "
            f"{', '.join(missing)}. The initial checkpoint (epoch 0) never has one (no step "
            f"yet); checkpoints from older training runs lack it: re-run training."
        )
    return checkpoints


def _choose_method(
    model: nn.Module, modules: list[tuple[str, nn.Module]], method: str
) -> tuple[str, GradientMethod, list[bool]]:
    """The resolved method name, its batch function (x (B, F), y (B,)) -> `Gradients` with
    one term per selected module, and which modules it factorises."""
    names = [name for name, _ in modules]
    positions = relu_mlp_positions(model, names) if method in ("auto", "relu_mlp") else None
    if positions is not None:

        def relu_mlp(x, y):
            return Gradients(relu_mlp_factors(model, positions, x, y))

        return "relu_mlp", relu_mlp, [True] * len(modules)
    if method == "relu_mlp":
        raise InfluenceError(
            "method='relu_mlp' needs an nn.Sequential alternating Linear and ReLU, ending with "
            "a Linear, and only its Linear layers selected; use method='hooks'"
        )
    chosen = "generic" if method == "generic" else "hooks"
    factored = [chosen == "hooks" and isinstance(m, nn.Linear) for _, m in modules]
    return chosen, _mixed_method(model, modules, factored), factored


def _mixed_method(
    model: nn.Module, modules: list[tuple[str, nn.Module]], factored: list[bool]
) -> GradientMethod:
    """Batch function: hooks for the factored modules, `generic_gradients` for the rest."""
    linear = [nm for nm, f in zip(modules, factored, strict=True) if f]
    own = [
        [f"{name}.{p}" if name else p for p, _ in module.named_parameters(recurse=False)]
        for (name, module), f in zip(modules, factored, strict=True)
        if not f
    ]
    sizes = [sum(model.get_parameter(p).numel() for p in params) for params in own]
    generic_names = [p for params in own for p in params]

    def gradients(x: torch.Tensor, y: torch.Tensor) -> Gradients:
        factors = iter(hooked_factors(model, linear, x, y)[0] if linear else ())
        blocks = iter(())
        if generic_names:
            flat = generic_gradients(model, generic_names, x, y)
            blocks = (ModuleGradients(b) for b in torch.split(flat, sizes, dim=1))
        return Gradients(tuple(next(factors) if f else next(blocks) for f in factored))

    return gradients


def _has_own_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def _select_modules(model: nn.Module, layers: str | Sequence[str]) -> list[tuple[str, nn.Module]]:
    """The modules owning the selected parameters, in model order: [(name, module)]."""
    owners = [(n, m) for n, m in model.named_modules() if _has_own_parameters(m)]
    if not owners:
        raise InfluenceError("the model has no parameters")
    if layers == "all":
        return owners
    if layers == "last":
        return owners[-1:]
    names = [layers] if isinstance(layers, str) else list(layers)
    valid = [n for n, m in model.named_modules() if n and any(True for _ in m.parameters())]
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        raise InfluenceError(
            f"unknown layer name(s) {unknown or names}; valid names are 'all', 'last' or a list "
            f"of {valid}"
        )
    prefixes = tuple(f"{n}." for n in names)
    return [(n, m) for n, m in owners if n in names or n.startswith(prefixes)]


def _check_finite(values: np.ndarray, ckpt: Checkpoint, which: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InfluenceError(
            f"non-finite gradient at checkpoint epoch {ckpt.epoch} ({ckpt.path}) for "
            f"{bad.size} {which} example(s), first rows {bad[:5].tolist()}; check those "
            f"inputs and targets for NaN/inf and the checkpoint's weights"
        )
