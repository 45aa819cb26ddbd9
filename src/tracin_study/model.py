"""The paper's regression model: an MLP with ReLU hidden layers."""

from collections.abc import Sequence

from torch import nn

PAPER_HIDDEN = (512, 256, 128)


def build_mlp(n_features: int = 8, hidden: Sequence[int] = PAPER_HIDDEN) -> nn.Sequential:
    """An MLP mapping (batch, n_features) to (batch, 1) with one ReLU after each hidden layer.

    The default widths give 168,961 parameters, the paper's "about 168K".
    """
    if n_features < 1 or not hidden or any(int(w) < 1 for w in hidden):
        raise ValueError(
            f"build_mlp needs n_features >= 1 and positive hidden widths, got "
            f"n_features={n_features}, hidden={list(hidden)}"
        )
    layers: list[nn.Module] = []
    width = n_features
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.ReLU()]
        width = int(h)
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
