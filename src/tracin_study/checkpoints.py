"""Checkpoints as `state_dict` files, listed in a `manifest.json` with their checksums.

Manifest layout (file paths are relative to the manifest's folder)::

    {"format": 1, "seed": 0, "model": {"n_features": 8, "hidden": [512, 256, 128]},
     "checkpoints": [{"epoch": 0, "step": 0, "learning_rate": 0.001,
                      "file": "epoch_0000.pt", "sha256": "...", "bytes": 1234},
                     {"epoch": 5, ..., "optimizer_file": "epoch_0005.adam.pt",
                      "optimizer_sha256": "...", "optimizer_bytes": 2345}, ...]}

`optimizer_file` (Adam's state when the weights were saved, see `AdamState`) is optional:
manifests without it still load, and the initial checkpoint (before any step) never has it.

Later stages read checkpoints only through `read_manifest` and `load_checkpoint`, which
verify the checksum and the architecture before any weight is used. The sizes (`bytes`,
`optimizer_bytes`) let every Snakemake invocation check the files cheaply
(`tracin_study.manifest_check`); manifests without them still load.
"""

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from tracin_study.manifest_check import sha256_file
from tracin_study.model import build_mlp

MANIFEST_FORMAT = 1
_ENTRY_KEYS = ("epoch", "step", "learning_rate", "file", "sha256")


class CheckpointError(ValueError):
    """A checkpoint or manifest that cannot be used as it is."""


@dataclass(frozen=True)
class Checkpoint:
    """One saved model state: after `epoch` epochs and `step` optimizer steps."""

    epoch: int
    step: int
    learning_rate: float
    path: Path
    sha256: str
    optimizer_path: Path | None = None
    optimizer_sha256: str | None = None


@dataclass(frozen=True)
class AdamState:
    """Adam's state after `step` updates, keyed by parameter name (`model.named_parameters()`).

    exp_avg (m) and exp_avg_sq (v): the moving averages of the gradient and of its square,
    each of its parameter's shape (float32 as trained); step: updates per parameter; betas
    and eps: the optimizer's hyperparameters.
    """

    step: dict[str, int]
    exp_avg: dict[str, torch.Tensor]
    exp_avg_sq: dict[str, torch.Tensor]
    betas: tuple[float, float]
    eps: float


@dataclass(frozen=True)
class Manifest:
    """All checkpoints of one training run, in training order."""

    path: Path
    seed: int
    model: dict
    checkpoints: tuple[Checkpoint, ...]

    def build_model(self) -> nn.Module:
        """A freshly initialised model of the architecture the checkpoints were saved from."""
        return build_mlp(**self.model)

    def select(self, epochs: Iterable[int]) -> list[Checkpoint]:
        """The checkpoints saved after the given epochs, in the order given."""
        by_epoch = {c.epoch: c for c in self.checkpoints}
        epochs = list(epochs)
        missing = [e for e in epochs if e not in by_epoch]
        if missing:
            raise CheckpointError(
                f"{self.path}: no checkpoint for epoch(s) {missing}; saved epochs are "
                f"{sorted(by_epoch)}. Choose influence epochs among them, or save "
                f"checkpoints more often (training.checkpoint_every)."
            )
        return [by_epoch[e] for e in epochs]


def adam_state(model: nn.Module, optimizer: torch.optim.Adam) -> AdamState | None:
    """The Adam state of `model`'s parameters, or None before the first step (read only)."""
    groups = optimizer.param_groups
    if any(g.get("amsgrad") for g in groups):
        raise CheckpointError("Adam with amsgrad=True is not supported (v is its running max)")
    hyper = {(tuple(g["betas"]), g["eps"]) for g in groups}
    if len(hyper) != 1:
        raise CheckpointError(f"Adam parameter groups differ in betas or eps: {sorted(hyper)}")
    ((betas, eps),) = hyper
    state = {n: optimizer.state[p] for n, p in model.named_parameters() if p in optimizer.state}
    if not state:
        return None
    return AdamState(
        step={n: int(s["step"]) for n, s in state.items()},
        exp_avg={n: s["exp_avg"].detach().clone() for n, s in state.items()},
        exp_avg_sq={n: s["exp_avg_sq"].detach().clone() for n, s in state.items()},
        betas=(float(betas[0]), float(betas[1])),
        eps=float(eps),
    )


def save_checkpoint(
    model: nn.Module,
    path: Path,
    epoch: int,
    step: int,
    learning_rate: float,
    optimizer: torch.optim.Adam | None = None,
):
    """Save `model.state_dict()` to `path` and, given an Adam `optimizer` that has stepped,
    its `AdamState` to `<stem>.adam.pt` next to it; returns the manifest entry."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    state = adam_state(model, optimizer) if optimizer is not None else None
    if state is None:
        return Checkpoint(epoch, step, float(learning_rate), path, sha256_file(path))
    adam_path = path.with_name(f"{path.stem}.adam.pt")
    torch.save(vars(state), adam_path)
    return Checkpoint(
        epoch,
        step,
        float(learning_rate),
        path,
        sha256_file(path),
        adam_path,
        sha256_file(adam_path),
    )


def write_manifest(path: Path, seed: int, model: dict, checkpoints: Iterable[Checkpoint]) -> None:
    """Write the manifest; checkpoint files must sit in the manifest's folder or below it."""
    path = Path(path)
    entries = [
        {
            "epoch": c.epoch,
            "step": c.step,
            "learning_rate": c.learning_rate,
            "file": Path(c.path).resolve().relative_to(path.parent.resolve()).as_posix(),
            "sha256": c.sha256,
            "bytes": Path(c.path).stat().st_size,
            **_optimizer_entry(c, path.parent),
        }
        for c in checkpoints
    ]
    doc = {"format": MANIFEST_FORMAT, "seed": seed, "model": model, "checkpoints": entries}
    path.write_text(json.dumps(doc, indent=2) + "\n")


def _optimizer_entry(c: Checkpoint, folder: Path) -> dict:
    """The manifest keys of a checkpoint's optimizer state ({} when it has none)."""
    if c.optimizer_path is None:
        return {}
    relative = Path(c.optimizer_path).resolve().relative_to(folder.resolve()).as_posix()
    return {
        "optimizer_file": relative,
        "optimizer_sha256": c.optimizer_sha256,
        "optimizer_bytes": Path(c.optimizer_path).stat().st_size,
    }


def read_manifest(path: Path) -> Manifest:
    """Parse and check a manifest (`path`, or the manifest.json in the folder `path`): every
    entry needs all keys and a finite learning rate."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise CheckpointError(f"checkpoint manifest {path} does not exist; run the training stage")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"checkpoint manifest {path} is not valid JSON: {err}") from err
    for key in ("seed", "model", "checkpoints"):
        if key not in doc:
            raise CheckpointError(f"checkpoint manifest {path} lacks the key '{key}'")
    checkpoints = []
    for i, entry in enumerate(doc["checkpoints"]):
        missing = [k for k in _ENTRY_KEYS if entry.get(k) is None]
        if missing:
            raise CheckpointError(
                f"checkpoint manifest {path}, entry {i}: missing {missing}. A learning rate is "
                f"never assumed; rewrite the manifest by re-running training."
            )
        lr = entry["learning_rate"]
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr < math.inf:
            raise CheckpointError(
                f"checkpoint manifest {path}, entry {i} ({entry['file']}): learning_rate={lr!r} "
                f"must be a positive finite number; rewrite the manifest by re-running training."
            )
        lr = float(lr)
        checkpoints.append(
            Checkpoint(
                int(entry["epoch"]),
                int(entry["step"]),
                lr,
                path.parent / entry["file"],
                str(entry["sha256"]),
                *_optimizer_fields(entry, path, i),
            )
        )
    return Manifest(path, int(doc["seed"]), dict(doc["model"]), tuple(checkpoints))


def _optimizer_fields(entry: dict, path: Path, i: int) -> tuple[Path | None, str | None]:
    """(optimizer_path, optimizer_sha256) of a manifest entry; (None, None) without state."""
    file, digest = entry.get("optimizer_file"), entry.get("optimizer_sha256")
    if file is None and digest is None:
        return None, None
    if file is None or digest is None:
        raise CheckpointError(
            f"checkpoint manifest {path}, entry {i}: optimizer_file and optimizer_sha256 "
            f"go together, got only one"
        )
    return path.parent / file, str(digest)


def _verified(path: Path, expected: str) -> Path:
    """`path` after checking that it exists and has the manifest's sha256."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} listed in the manifest does not exist")
    actual = sha256_file(path)
    if actual != expected:
        raise CheckpointError(
            f"checkpoint file {path} has sha256 {actual}, but the manifest says "
            f"{expected}: the file changed after training. Re-run training."
        )
    return path


def load_adam_state(checkpoint: Checkpoint) -> AdamState:
    """The verified `AdamState` saved with a checkpoint; `CheckpointError` naming the file
    when it has none, is missing, changed or cannot be read."""
    if checkpoint.optimizer_path is None:
        raise CheckpointError(
            f"checkpoint {checkpoint.path} (epoch {checkpoint.epoch}) has no optimizer state"
        )
    path = _verified(Path(checkpoint.optimizer_path), checkpoint.optimizer_sha256)
    try:
        return AdamState(**torch.load(path, map_location="cpu", weights_only=True))
    except Exception as err:
        raise CheckpointError(f"optimizer state file {path} cannot be read: {err}") from err


def load_checkpoint(checkpoint: Checkpoint, model: nn.Module) -> nn.Module:
    """Load a verified checkpoint into `model` (in place) and return it in eval mode.

    Raises `CheckpointError` naming the file when it is missing, its sha256 differs from the
    manifest, it cannot be read, or its tensors do not fit `model`'s architecture.
    """
    path = _verified(Path(checkpoint.path), checkpoint.sha256)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(f"checkpoint file {path} cannot be read: {err}") from err
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise CheckpointError(
            f"checkpoint file {path} does not match the model architecture: {err}"
        ) from err
    return model.eval()
