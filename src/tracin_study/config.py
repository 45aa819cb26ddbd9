"""Validation of the study's configuration against its JSON schema and cross-key rules."""

from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml


@dataclass(frozen=True)
class TrainingConfig:
    """The training recipe: Adam at a constant `learning_rate`, mean squared error."""

    hidden: tuple[int, ...]
    epochs: int
    batch_size: int
    learning_rate: float
    checkpoint_every: int

    @classmethod
    def from_config(cls, config: dict) -> "TrainingConfig":
        """The recipe of a validated config (its `model` and `training` sections)."""
        t = config["training"]
        return cls(
            hidden=tuple(config["model"]["hidden"]),
            epochs=t["epochs"],
            batch_size=t["batch_size"],
            learning_rate=t["learning_rate"],
            checkpoint_every=t["checkpoint_every"],
        )

    def checkpoint_epochs(self) -> list[int]:
        """Epochs after which a checkpoint is saved: 0 (the initial model), every
        `checkpoint_every`, and the last."""
        return sorted({0, self.epochs, *range(0, self.epochs + 1, self.checkpoint_every)})


class ConfigError(ValueError):
    """A configuration that the study refuses to run."""


def canonical(value):
    """`value` with the keys of every dict in it sorted: equal configs, equal reprs."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return type(value)(canonical(v) for v in value)
    return value


def validate_config(config: dict, schema_path: Path) -> None:
    """Raise `ConfigError` naming the first offending key (as a dotted path) and the fix."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        key = ".".join(str(p) for p in err.absolute_path) or "<top level>"
        raise ConfigError(
            f"invalid config at '{key}': {err.message}. See {schema_path} for what each key "
            f"accepts."
        )
    saved = set(TrainingConfig.from_config(config).checkpoint_epochs())
    unsaved = sorted(set(config["influence"]["epochs"]) - saved)
    if unsaved:
        raise ConfigError(
            f"invalid config at 'influence.epochs': epochs {unsaved} have no checkpoint; "
            f"training saves epochs {sorted(saved)} (training.checkpoint_every="
            f"{config['training']['checkpoint_every']}, training.epochs="
            f"{config['training']['epochs']})."
        )
