"""TracInCP (Pruthi et al., 2020) for a regression model, exact and fast.

With checkpoints w_1..w_K, learning rates eta_i and the per-example loss
l(w, z) = (f_w(x) - y)^2 (squared error, not halved), the influence of a training example z
on a test example z' is

    TracInCP(z, z') = sum_i eta_i grad l(w_i, z) . grad l(w_i, z'),

and the self-influence of z is TracInCP(z, z). A score is a learning rate times a product
of two loss gradients: comparable within one model and set of checkpoints, not across them.

For every `nn.Linear` layer y = W a + b the gradient factorises (dl/dW = delta a^T,
dl/db = delta, delta = dl/dy), so one forward and one backward pass of the summed loss over
a batch give all the dot products exactly, without any per-example gradient:

    grad l(z) . grad l(z') = sum over layers of (delta . delta') * (a . a' + 1),

the "+ 1" only for layers with a bias. Parameters of other module types go through a
generic path: per-example gradients with `torch.func.vmap(grad)`, a bounded chunk at a time.

Example::

    manifest = read_manifest("results/seed_0/manifest.json")
    tracin = TracInCP(manifest.build_model(), manifest.checkpoints)
    result = tracin.compute(X_train, y_train, X_test, y_test)
    self_influence = result.self_influence.sum(0)  # (N,)
    table = top_k(result.influence.sum(0), k=10)
"""

import copy
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from tracin_study.checkpoints import Checkpoint, load_checkpoint

logger = logging.getLogger(__name__)

# Most per-example gradient entries held at once by the generic path (float64: 32 MB).
GENERIC_BUDGET = 1 << 22

ProgressCallback = Callable[[int, int, Checkpoint, float], None]


class InfluenceError(ValueError):
    """Influence cannot be computed from these inputs, layers or checkpoints."""


@dataclass(frozen=True)
class InfluenceResult:
    """Per-checkpoint TracInCP contributions, learning rate included.

    `self_influence` is (K, N) for the N training examples, `influence` (K, M, N) for the
    M test examples (None without a test set); sum over axis 0 for TracInCP.
    `epochs` and `learning_rates` (K,) describe the checkpoints, in the order used.
    """

    self_influence: np.ndarray
    influence: np.ndarray | None
    epochs: tuple[int, ...]
    learning_rates: np.ndarray


# Per-batch quantities: (a, delta) per factored Linear layer, and the per-example gradients
# (B, P_generic) of the generic parameters (None if there are none).
_Features = tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor | None]


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
        factored: False sends every parameter through the generic per-example path (slow;
            for checking).
    """

    def __init__(
        self,
        model: nn.Module,
        checkpoints: Sequence[Checkpoint],
        layers: str | Sequence[str] = "all",
        batch_size: int = 1024,
        progress: bool | ProgressCallback = True,
        dtype: torch.dtype = torch.float64,
        factored: bool = True,
    ):
        self.checkpoints = tuple(checkpoints)
        if not self.checkpoints:
            raise InfluenceError("TracInCP needs at least one checkpoint, got an empty list")
        for c in self.checkpoints:
            lr = c.learning_rate
            if lr is None or not math.isfinite(lr) or lr <= 0:
                raise InfluenceError(
                    f"checkpoint {c.path} (epoch {c.epoch}) has learning_rate={lr!r}; TracInCP "
                    f"needs the positive learning rate in effect there (never assumed 1.0)"
                )
        if batch_size < 1:
            raise InfluenceError(f"batch_size must be >= 1, got {batch_size}")
        self.dtype = dtype
        self.progress = progress
        self._model = copy.deepcopy(model).to(dtype).eval().requires_grad_(False)
        modules = _select_modules(self._model, layers)
        self._linear = [(n, m) for n, m in modules if factored and isinstance(m, nn.Linear)]
        self._bias = [float(m.bias is not None) for _, m in self._linear]
        linear_names = {n for n, _ in self._linear}
        self._generic = [
            f"{n}.{p}" if n else p
            for n, m in modules
            if n not in linear_names
            for p, _ in m.named_parameters(recurse=False)
        ]
        n_generic = sum(self._model.get_parameter(p).numel() for p in self._generic)
        if n_generic:
            batch_size = min(batch_size, max(1, GENERIC_BUDGET // n_generic))
        self.batch_size = batch_size
        first = next(m for _, m in self._model.named_modules() if _has_own_parameters(m))
        self._n_features = first.in_features if isinstance(first, nn.Linear) else None
        self._captured: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None
        self._mlp = _relu_mlp_positions(self._model, [n for n, _ in self._linear], self._generic)
        if self._mlp is None:
            for name, module in self._linear:
                module.register_forward_hook(self._capture_hook(name))

    def self_influence(self, X, y) -> np.ndarray:
        """Self-influence contributions, float64 (K, N); `.sum(0)` is TracInCP(z, z).

        X: (N, F) array or tensor; y: (N,) or (N, 1) targets.
        """
        return self.compute(X, y).self_influence

    def influence(self, X_test, y_test, X_train, y_train) -> np.ndarray:
        """Influence contributions of each training on each test example, float64 (K, M, N)."""
        return self.compute(X_train, y_train, X_test, y_test).influence

    def compute(self, X_train, y_train, X_test=None, y_test=None) -> InfluenceResult:
        """Self-influence of the N training examples and, given M test examples, the test x
        train influence, in one pass over the checkpoints (one forward and backward per batch).
        """
        x_train, y_train = self._as_tensors(X_train, y_train, "X_train")
        has_test = X_test is not None or y_test is not None
        if has_test:
            if X_test is None or y_test is None:
                raise InfluenceError("give both X_test and y_test, or neither")
            x_test, y_test = self._as_tensors(X_test, y_test, "X_test")
        n_ckpt, n_train = len(self.checkpoints), len(x_train)
        self_inf = np.zeros((n_ckpt, n_train))
        infl = np.zeros((n_ckpt, len(x_test), n_train)) if has_test else None
        for i, ckpt in enumerate(self.checkpoints):
            start = time.perf_counter()
            load_checkpoint(ckpt, self._model)
            test = self._features_all(x_test, y_test) if has_test else None
            if has_test:
                _check_finite(self._self_terms(test).numpy(), ckpt, "test")
            for lo in range(0, n_train, self.batch_size):
                hi = min(lo + self.batch_size, n_train)
                feats = self._features(x_train[lo:hi], y_train[lo:hi])
                self_inf[i, lo:hi] = ckpt.learning_rate * self._self_terms(feats).numpy()
                if has_test:
                    infl[i, :, lo:hi] = ckpt.learning_rate * self._cross_terms(test, feats).numpy()
            _check_finite(self_inf[i], ckpt, "training")
            if has_test:
                _check_finite(infl[i].sum(0), ckpt, "training (influence on the test set)")
            self._report(i, ckpt, time.perf_counter() - start)
        return InfluenceResult(
            self_inf,
            infl,
            tuple(c.epoch for c in self.checkpoints),
            np.array([c.learning_rate for c in self.checkpoints], dtype=np.float64),
        )

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

    def _capture_hook(self, name: str):
        def hook(module, inputs, output):
            if self._captured is None:
                return
            if name in self._captured:
                raise InfluenceError(
                    f"layer '{name}' runs more than once per forward pass, so its gradient "
                    f"does not factorise; use TracInCP(..., factored=False)"
                )
            if inputs[0].ndim != 2:
                raise InfluenceError(
                    f"layer '{name}' gets input of shape {tuple(inputs[0].shape)}; the factored "
                    f"path needs (batch, features); use TracInCP(..., factored=False)"
                )
            self._captured[name] = (inputs[0].detach(), output)

        return hook

    def _features(self, x: torch.Tensor, y: torch.Tensor) -> _Features:
        """(a, delta) of each factored layer from one forward/backward, and generic grads."""
        if self._mlp is not None:
            return self._mlp_features(x, y), None
        linear = []
        if self._linear:
            self._captured = {}
            try:
                with torch.enable_grad():
                    x_in = x.detach().requires_grad_(True)
                    loss = (_per_example(self._model(x_in), len(x)) - y).square().sum()
                    unused = [n for n, _ in self._linear if n not in self._captured]
                    if unused:
                        raise InfluenceError(f"selected layer(s) {unused} never ran in forward")
                    a_out = [self._captured[name] for name, _ in self._linear]
                    deltas = torch.autograd.grad(loss, [out for _, out in a_out])
            finally:
                self._captured = None
            linear = [(a, d) for (a, _), d in zip(a_out, deltas, strict=True)]
        generic = self._generic_grads(x, y) if self._generic else None
        return linear, generic

    @torch.no_grad()
    def _mlp_features(self, x: torch.Tensor, y: torch.Tensor) -> list:
        """(a, delta) of the selected layers of a Linear/ReLU `nn.Sequential`, by the explicit
        forward and backward recurrence delta_{j-1} = (delta_j W_j) * [h_{j-1} > 0]: the
        numbers autograd would give, without its bookkeeping."""
        linears = [m for m in self._model if isinstance(m, nn.Linear)]
        inputs, outputs = [], []
        a = x
        for layer in linears:
            inputs.append(a)
            outputs.append(layer(a))
            a = torch.relu(outputs[-1])
        delta = 2.0 * (_per_example(outputs[-1], len(x)) - y)[:, None]
        deltas = {}
        for j in range(len(linears) - 1, self._mlp[0] - 1, -1):
            deltas[j] = delta
            if j > self._mlp[0]:
                # ReLU's backward (zero where h <= 0), fused in one pass
                delta = torch.ops.aten.threshold_backward(
                    delta @ linears[j].weight, outputs[j - 1], 0
                )
        return [(inputs[j], deltas[j]) for j in self._mlp]

    def _features_all(self, x: torch.Tensor, y: torch.Tensor) -> _Features:
        """`_features` of any number of examples, batch by batch, concatenated."""
        parts = [
            self._features(x[lo : lo + self.batch_size], y[lo : lo + self.batch_size])
            for lo in range(0, len(x), self.batch_size)
        ]
        linear = [
            (torch.cat([p[0][j][0] for p in parts]), torch.cat([p[0][j][1] for p in parts]))
            for j in range(len(self._linear))
        ]
        generic = torch.cat([p[1] for p in parts]) if self._generic else None
        return linear, generic

    def _generic_grads(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-example gradients of the generic parameters, flattened: (B, P_generic)."""
        state = {n: p.detach() for n, p in self._model.named_parameters()}
        state.update(self._model.named_buffers())

        def loss(params, xi, yi):
            out = functional_call(self._model, {**state, **params}, (xi.unsqueeze(0),))
            return (_per_example(out, 1)[0] - yi).square()

        grads = vmap(grad(loss), in_dims=(None, 0, 0))({n: state[n] for n in self._generic}, x, y)
        return torch.cat([grads[n].reshape(len(x), -1) for n in self._generic], dim=1)

    @torch.no_grad()
    def _self_terms(self, feats: _Features) -> torch.Tensor:
        """||grad l(z)||^2 for each example of a batch: (B,)."""
        linear, generic = feats
        total = _squared_norms(generic) if generic is not None else 0.0
        for (a, d), bias in zip(linear, self._bias, strict=True):
            total = total + _squared_norms(d) * (_squared_norms(a) + bias)
        return total

    @torch.no_grad()
    def _cross_terms(self, test: _Features, train: _Features) -> torch.Tensor:
        """grad l(z') . grad l(z) for test rows and training columns: (M, B)."""
        (lin_te, gen_te), (lin_tr, gen_tr) = test, train
        total = (gen_te @ gen_tr.T).double() if gen_te is not None else 0.0
        for (a_te, d_te), (a_tr, d_tr), bias in zip(lin_te, lin_tr, self._bias, strict=True):
            total = total + (d_te @ d_tr.T).double() * ((a_te @ a_tr.T).double() + bias)
        return total

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


def _squared_norms(x: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean norm of each row of x (B, D), accumulated in float64: (B,)."""
    return torch.linalg.vector_norm(x, dim=1, dtype=torch.float64).square()


def _per_example(out: torch.Tensor, n: int) -> torch.Tensor:
    """Model output (n, 1) or (n,) as (n,)."""
    if out.numel() != n:
        raise InfluenceError(
            f"the model must output one value per example, got shape {tuple(out.shape)} "
            f"for {n} examples"
        )
    return out.reshape(n)


def _has_own_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def _relu_mlp_positions(
    model: nn.Module, selected: list[str], generic: list[str]
) -> list[int] | None:
    """Positions (among the Linear layers) of the selected layers when `model` is an
    `nn.Sequential` alternating Linear and ReLU, ending with a Linear, and every selected
    parameter is in a Linear; None otherwise (then hooks and autograd are used)."""
    if generic or not selected or not isinstance(model, nn.Sequential):
        return None
    kinds = [type(m) for m in model]
    expected = [nn.Linear if i % 2 == 0 else nn.ReLU for i in range(len(kinds))]
    if kinds != expected or len(kinds) % 2 == 0:
        return None
    names = [name for name, m in model.named_children() if isinstance(m, nn.Linear)]
    return [names.index(name) for name in selected]


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


def top_k(influence, k: int, test_ids=None) -> pd.DataFrame:
    """Proponents and opponents of each test example and of the whole test set.

    influence: (M, N) TracInCP scores (test x train, summed over checkpoints).
    Returns one row per (test example, kind, rank) with columns `test_index` (from
    `test_ids`, default 0..M-1; -1 for the sum over all M test examples), `train_index`
    (column of `influence`), `influence`, `rank` (1..k) and `kind`: "proponent" for the k
    largest positive scores (descending), "opponent" for the k most negative (ascending).
    Fewer than k rows appear when fewer scores have that sign; ties keep the lower index.
    """
    scores = np.asarray(influence, dtype=np.float64)
    if scores.ndim != 2:
        raise InfluenceError(f"influence must be (tests, train) 2-D, got shape {scores.shape}")
    if k < 1:
        raise InfluenceError(f"k must be >= 1, got {k}")
    ids = np.arange(len(scores)) if test_ids is None else np.asarray(test_ids)
    if ids.shape != (len(scores),):
        raise InfluenceError(f"test_ids needs {len(scores)} entries, got shape {ids.shape}")
    rows = [*zip(ids.tolist(), scores, strict=True), (-1, scores.sum(0))]
    frames = []
    for test_index, row in rows:
        for kind, sign in (("proponent", 1.0), ("opponent", -1.0)):
            order = np.argsort(-sign * row, kind="stable")[:k]
            order = order[sign * row[order] > 0]
            frames.append(
                pd.DataFrame(
                    {
                        "test_index": test_index,
                        "train_index": order,
                        "influence": row[order],
                        "rank": np.arange(1, len(order) + 1),
                        "kind": kind,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
