"""The benchmarks' shared set-up: housing-like synthetic data and a paper-size MLP trained
briefly with Adam, saving checkpoints (with Adam's state) to time influence on."""

import argparse
from pathlib import Path

import torch

from tracin_study.checkpoints import Checkpoint, save_checkpoint
from tracin_study.model import build_mlp


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The options every influence benchmark takes: threads, problem size and seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--n-train", type=int, default=16512, help="training points")
    parser.add_argument("--n-test", type=int, default=11, help="test points")
    parser.add_argument("--checkpoints", type=int, default=10, help="checkpoints to sum over")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def make_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 8) standard normal features and a nonlinear target (n,), float32."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 8, generator=gen)
    y = X[:, 0].sin() + X[:, 1] * X[:, 2] + 0.5 * X[:, 3].square() - 0.5 + X[:, 4:].sum(1) / 4
    return X, y + 0.1 * torch.randn(n, generator=gen)


def train_checkpoints(
    X, y, n_checkpoints: int, directory: Path, seed: int, decay: float = 1.0
) -> tuple[torch.nn.Module, list[Checkpoint]]:
    """The 168,961-parameter MLP trained with Adam, 20 steps of batch 256 between checkpoints,
    at rate 1e-3 times `decay` per checkpoint; each checkpoint saved with Adam's state."""
    torch.manual_seed(seed)
    model = build_mlp()
    optimizer = torch.optim.Adam(model.parameters())
    checkpoints, step = [], 0
    for epoch in range(1, n_checkpoints + 1):
        lr = 1e-3 * decay ** (epoch - 1)
        for group in optimizer.param_groups:
            group["lr"] = lr
        for _ in range(20):
            idx = torch.randint(len(X), (256,))
            loss = (model(X[idx]).squeeze(1) - y[idx]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        path = Path(directory) / f"epoch_{epoch:04d}.pt"
        checkpoints.append(save_checkpoint(model, path, epoch, step, lr, optimizer))
    return model, checkpoints
