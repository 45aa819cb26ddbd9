"""Dot products of per-example gradients from their factors, optionally preconditioned.

For a Linear layer with per-example gradients g = delta a^T (and delta for the bias),

    g . g'        = (delta . delta') (a . a' + 1)
    g^T P g'      = (delta * delta')^T P_W (a * a') + Pb . (delta * delta')

for a diagonal preconditioner with entries P_W (out, in) and Pb (out,) (`*` elementwise),
so no per-example gradient matrix is formed. Within-layer products run in the dtype of the
factors; every result is float64.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from tracin_study.checkpoints import AdamState
from tracin_study.influence.gradients import Gradients, ModuleGradients, Term
from tracin_study.influence.result import InfluenceError


@dataclass(frozen=True)
class LayerPreconditioner:
    """Diagonal preconditioner of a Linear layer: weight (out, in), bias (out,) or None."""

    weight: torch.Tensor
    bias: torch.Tensor | None


@dataclass(frozen=True)
class ModulePreconditioner:
    """Diagonal preconditioner of a module's flattened parameters: (P_module,)."""

    diagonal: torch.Tensor


ScalePart = LayerPreconditioner | ModulePreconditioner
# One part per term of `Gradients`, or None for the identity (plain TracInCP).
Preconditioner = tuple[ScalePart, ...] | None
# Most numbers of the (training, test x in) product the preconditioned cross term holds at
# once (float64: 64 MB).
CROSS_BUDGET = 1 << 23


def squared_norms(x: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean norm of each row of x (B, D), accumulated in float64: (B,)."""
    return torch.linalg.vector_norm(x, dim=1, dtype=torch.float64).square()


@torch.no_grad()
def self_terms(grads: Gradients, scale: Preconditioner = None) -> torch.Tensor:
    """g^T P g for each example and term (layer): float64 (L, B)."""
    parts = scale or (None,) * len(grads.terms)
    return torch.stack([_self(t, p) for t, p in zip(grads.terms, parts, strict=True)])


@torch.no_grad()
def cross_terms(test: Gradients, train: Gradients, scale: Preconditioner = None) -> torch.Tensor:
    """g'^T P g for each term (layer), test row and training column: float64 (L, M, B)."""
    parts = scale or (None,) * len(test.terms)
    return torch.stack(
        [_cross(te, tr, p) for te, tr, p in zip(test.terms, train.terms, parts, strict=True)]
    )


def _self(term: Term, p: ScalePart | None) -> torch.Tensor:
    if isinstance(term, ModuleGradients):
        if p is None:
            return squared_norms(term.grads)
        return (term.grads.square() * p.diagonal).sum(1, dtype=torch.float64)
    if p is None:
        return squared_norms(term.delta) * (squared_norms(term.a) + float(term.bias))
    d2 = term.delta.square()
    total = ((d2 @ p.weight) * term.a.square()).sum(1, dtype=torch.float64)
    if p.bias is not None:
        total = total + (d2 @ p.bias).double()
    return total


def _cross(test: Term, train: Term, p: ScalePart | None) -> torch.Tensor:
    if isinstance(test, ModuleGradients):
        scaled = test.grads if p is None else test.grads * p.diagonal
        return (scaled @ train.grads.T).double()
    if p is None:
        a_dot = (test.a @ train.a.T).double() + float(test.bias)
        return (test.delta @ train.delta.T).double() * a_dot
    total = _preconditioned_weight_cross(test.a, test.delta, train.a, train.delta, p.weight)
    if p.bias is not None:
        total = total + ((test.delta * p.bias) @ train.delta.T).double()
    return total


def _preconditioned_weight_cross(
    a_test: torch.Tensor,
    d_test: torch.Tensor,
    a_train: torch.Tensor,
    d_train: torch.Tensor,
    weight: torch.Tensor,
) -> torch.Tensor:
    """sum_{o,i} d_test[m,o] a_test[m,i] P[o,i] d_train[b,o] a_train[b,i]: float64 (M, B).

    a_* (., in), d_* (., out), P = `weight` (out, in). Each chunk of test rows forms its
    P-weighted gradients (m, out, in) and contracts them with the training factor of the
    larger side in one matrix product (B x m x out x in multiply-adds, the floor), then
    with the other side's factor by a batched dot product; chunks keep the product under
    `CROSS_BUDGET` numbers."""
    if a_train.shape[1] > d_train.shape[1]:  # reduce over the smaller side
        a_test, d_test, a_train, d_train = d_test, a_test, d_train, a_train
        weight = weight.T
    n_train, n_out = d_train.shape
    n_in = a_train.shape[1]
    step = max(1, CROSS_BUDGET // (n_train * n_in))
    parts = []
    for lo in range(0, len(a_test), step):
        weighted = weight * (d_test[lo : lo + step, :, None] * a_test[lo : lo + step, None, :])
        m = len(weighted)
        left = d_train @ weighted.transpose(0, 1).reshape(n_out, m * n_in)  # (B, m * in)
        dots = torch.bmm(left.view(n_train, m, n_in), a_train[:, :, None])  # (B, m, 1)
        parts.append(dots.view(n_train, m).T.double())
    return torch.cat(parts)


def adam_diagonal(state: AdamState, name: str) -> torch.Tensor:
    """Adam's preconditioner 1 / (sqrt(v_hat) + eps) for parameter `name`, with the
    bias-corrected v_hat = exp_avg_sq / (1 - beta2^step): float64, the parameter's shape."""
    if name not in state.step:
        raise InfluenceError(f"the Adam state has no entry for parameter '{name}'")
    step = state.step[name]
    v_hat = state.exp_avg_sq[name].double() / (1.0 - state.betas[1] ** step)
    return 1.0 / (v_hat.sqrt() + state.eps)


def adam_preconditioner(
    state: AdamState,
    modules: Sequence[tuple[str, nn.Module]],
    factored: Sequence[bool],
    dtype: torch.dtype,
) -> tuple[ScalePart, ...]:
    """One part per selected module (name, module), in the order of the `Gradients` terms:
    a `LayerPreconditioner` where `factored`, else a `ModulePreconditioner`."""

    def diag(module_name: str, param: str) -> torch.Tensor:
        return adam_diagonal(state, f"{module_name}.{param}" if module_name else param).to(dtype)

    parts = []
    for (name, module), is_factored in zip(modules, factored, strict=True):
        if is_factored:
            bias = diag(name, "bias") if module.bias is not None else None
            parts.append(LayerPreconditioner(diag(name, "weight"), bias))
        else:
            own = [diag(name, p).reshape(-1) for p, _ in module.named_parameters(recurse=False)]
            parts.append(ModulePreconditioner(torch.cat(own)))
    return tuple(parts)
