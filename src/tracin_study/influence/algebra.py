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
    # P-weighted test gradients (M, out, in), contracted with delta (B, out) then a (B, in)
    weighted = p.weight * (test.delta[:, :, None] * test.a[:, None, :])
    m, n_out, n_in = weighted.shape
    left = train.delta @ weighted.transpose(0, 1).reshape(n_out, m * n_in)
    total = (left.view(-1, m, n_in) * train.a[:, None, :]).sum(2, dtype=torch.float64).T
    if p.bias is not None:
        total = total + ((test.delta * p.bias) @ train.delta.T).double()
    return total


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
