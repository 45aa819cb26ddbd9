import copy
from pathlib import Path

import pytest
import yaml

from tracin_study.config import ConfigError, validate_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


def _load(name):
    return yaml.safe_load((ROOT / "config" / name).read_text())


@pytest.fixture
def default():
    return _load("config.yaml")


def test_default_config_is_valid_and_paper_faithful(default):
    validate_config(default, SCHEMA)
    assert default["training"]["epochs"] == 200
    assert default["influence"]["epochs"] == list(range(20, 201, 20))
    assert default["data"]["test_fraction"] == 0.2


def test_smoke_config_merged_over_default_is_valid(default):
    merged = copy.deepcopy(default)
    for key, value in _load("smoke.yaml").items():
        merged[key] = value
    validate_config(merged, SCHEMA)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["training"].update(learning_rte=0.1), r"'training'.*'learning_rte'"),
        (lambda c: c["training"].update(batch_size=0), r"'training.batch_size': 0 is less"),
        (lambda c: c["data"].update(source="web"), r"'data.source': 'web' is not one of"),
        (lambda c: c.pop("seeds"), r"'seeds' is a required property"),
        (lambda c: c["seeds"].append(-1), r"'seeds.5': -1 is less than the minimum"),
    ],
)
def test_a_schema_rejection_names_the_key(default, edit, message):
    edit(default)
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)


def test_influence_epochs_without_checkpoints_are_refused(default):
    default["influence"]["epochs"] = [20, 42]
    with pytest.raises(ConfigError, match=r"'influence.epochs': epochs \[42\] have no checkpoint"):
        validate_config(default, SCHEMA)
