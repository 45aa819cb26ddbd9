"""Per-example loss gradients of a batch, three ways, as small typed records.

The loss is l(w, z) = (f_w(x) - y)^2 per example (squared error, not halved). For an
`nn.Linear` layer y = W a + b the per-example gradient factorises, dl/dW = delta a^T and
dl/db = delta with delta = dl/dy, so a layer is described by its input a (B, in) and its
output gradient delta (B, out) (`LayerFactors`). Parameters of other modules get explicit
per-example gradients (`ModuleGradients`).

- `relu_mlp_factors`: an `nn.Sequential` of Linear and ReLU, by the explicit forward and
  backward recurrence (no autograd);
- `hooked_factors`: any model whose selected Linear layers run once per forward, by forward
  hooks and one `torch.autograd.grad` of the summed loss;
- `generic_gradients`: any parameters, by `torch.func.vmap(grad)`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from tracin_study.influence.result import InfluenceError


@dataclass(frozen=True)
class LayerFactors:
    """One Linear layer's per-example gradient as factors: a (B, in), delta (B, out);
    dl/dW = delta a^T (B, out, in), dl/db = delta if `bias`."""

    a: torch.Tensor
    delta: torch.Tensor
    bias: bool


@dataclass(frozen=True)
class ModuleGradients:
    """One module's per-example gradients, its parameters flattened in order: (B, P_module)."""

    grads: torch.Tensor


Term = LayerFactors | ModuleGradients


@dataclass(frozen=True)
class Gradients:
    """Per-example loss gradients of a batch of B examples, one term per selected module."""

    terms: tuple[Term, ...]

    def rows(self, index) -> "Gradients":
        """The same record for the examples `index` (slice or index tensor)."""
        return Gradients(tuple(_rows(t, index) for t in self.terms))

    @staticmethod
    def concat(parts: Sequence["Gradients"]) -> "Gradients":
        """Records of consecutive batches joined along the examples."""
        return Gradients(tuple(_concat(ts) for ts in zip(*(p.terms for p in parts), strict=True)))


def _rows(term: Term, index) -> Term:
    if isinstance(term, LayerFactors):
        return LayerFactors(term.a[index], term.delta[index], term.bias)
    return ModuleGradients(term.grads[index])


def _concat(terms: Sequence[Term]) -> Term:
    first = terms[0]
    if isinstance(first, LayerFactors):
        a = torch.cat([t.a for t in terms])
        return LayerFactors(a, torch.cat([t.delta for t in terms]), first.bias)
    return ModuleGradients(torch.cat([t.grads for t in terms]))


def per_example(out: torch.Tensor, n: int) -> torch.Tensor:
    """Model output (n, 1) or (n,) as (n,)."""
    if out.numel() != n:
        raise InfluenceError(
            f"the model must output one value per example, got shape {tuple(out.shape)} "
            f"for {n} examples"
        )
    return out.reshape(n)


def relu_mlp_positions(model: nn.Module, selected: Sequence[str]) -> list[int] | None:
    """Positions (among the Linear layers) of the `selected` module names when `model` is an
    `nn.Sequential` alternating Linear and ReLU, ending with a Linear, and every selected
    module is one of its Linear layers; None otherwise."""
    if not selected or not isinstance(model, nn.Sequential):
        return None
    kinds = [type(m) for m in model]
    expected = [nn.Linear if i % 2 == 0 else nn.ReLU for i in range(len(kinds))]
    if kinds != expected or len(kinds) % 2 == 0:
        return None
    names = [name for name, m in model.named_children() if isinstance(m, nn.Linear)]
    if any(name not in names for name in selected):
        return None
    return [names.index(name) for name in selected]


@torch.no_grad()
def relu_mlp_factors(
    model: nn.Sequential, positions: Sequence[int], x: torch.Tensor, y: torch.Tensor
) -> tuple[LayerFactors, ...]:
    """Factors of the Linear layers at `positions` (ascending, see `relu_mlp_positions`) of a
    Linear/ReLU MLP, for inputs x (B, F) and targets y (B,), by the explicit recurrence
    delta_{j-1} = (delta_j W_j) * [h_{j-1} > 0]: the numbers autograd would give, without its
    bookkeeping."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    inputs, outputs = [], []
    a = x
    for layer in linears:
        inputs.append(a)
        outputs.append(layer(a))
        a = torch.relu(outputs[-1])
    delta = 2.0 * (per_example(outputs[-1], len(x)) - y)[:, None]
    deltas = {}
    for j in range(len(linears) - 1, positions[0] - 1, -1):
        deltas[j] = delta
        if j > positions[0]:
            # ReLU's backward (zero where h <= 0), fused in one pass
            delta = torch.ops.aten.threshold_backward(delta @ linears[j].weight, outputs[j - 1], 0)
    return tuple(LayerFactors(inputs[j], deltas[j], linears[j].bias is not None) for j in positions)


def hooked_factors(
    model: nn.Module, layers: Sequence[tuple[str, nn.Linear]], x: torch.Tensor, y: torch.Tensor
) -> tuple[tuple[LayerFactors, ...], torch.Tensor]:
    """Factors of the named Linear `layers` of any model, for inputs x (B, F) and targets
    y (B,), from forward hooks and one autograd pass of the summed loss; also the
    per-example losses (B,). Each layer must run exactly once per forward pass."""
    captured: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def capture(name: str):
        def hook(module, inputs, output):
            if name in captured:
                raise InfluenceError(
                    f"layer '{name}' runs more than once per forward pass, so its gradient "
                    f"does not factorise; use TracInCP(..., method='generic')"
                )
            if inputs[0].ndim != 2:
                raise InfluenceError(
                    f"layer '{name}' gets input of shape {tuple(inputs[0].shape)}; factors need "
                    f"(batch, features); use TracInCP(..., method='generic')"
                )
            captured[name] = (inputs[0].detach(), output)

        return hook

    hooks = [module.register_forward_hook(capture(name)) for name, module in layers]
    try:
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(True)
            losses = (per_example(model(x_in), len(x)) - y).square()
    finally:
        for hook in hooks:
            hook.remove()
    unused = [name for name, _ in layers if name not in captured]
    if unused:
        raise InfluenceError(f"selected layer(s) {unused} never ran in forward")
    outputs = [captured[name][1] for name, _ in layers]
    deltas = torch.autograd.grad(losses.sum(), outputs)
    factors = tuple(
        LayerFactors(captured[name][0], d, module.bias is not None)
        for (name, module), d in zip(layers, deltas, strict=True)
    )
    return factors, losses.detach()


def generic_gradients(
    model: nn.Module, names: Sequence[str], x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """Per-example gradients of the parameters `names` (dotted, as in `named_parameters`),
    flattened and concatenated in that order, for inputs x (B, F) and targets y (B,):
    (B, P_selected), by `torch.func.vmap(grad)`."""
    state = {n: p.detach() for n, p in model.named_parameters()}
    state.update(model.named_buffers())

    def loss(params, xi, yi):
        out = functional_call(model, {**state, **params}, (xi.unsqueeze(0),))
        return (per_example(out, 1)[0] - yi).square()

    grads = vmap(grad(loss), in_dims=(None, 0, 0))({n: state[n] for n in names}, x, y)
    return torch.cat([grads[n].reshape(len(x), -1) for n in names], dim=1)
