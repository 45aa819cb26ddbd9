import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.utils import update_config

from tracin_study.config import (
    ConfigError,
    CorruptionConfig,
    InfluenceConfig,
    LdsConfig,
    PaloAltoConfig,
    RemovalConfig,
    SweepConfig,
    validate_config,
)
from tracin_study.ideal import train_ideal
from tracin_study.plan import saved_steps

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


@pytest.mark.parametrize(
    "section",
    [InfluenceConfig, PaloAltoConfig, CorruptionConfig, RemovalConfig, LdsConfig, SweepConfig],
)
def test_typed_sections_hold_the_config_section(default, section):
    params = default
    for key in section.KEYS:
        params = params[key]
    typed = section.from_config(default)
    assert typed == section.from_params(params)
    plain = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(typed).items()}
    if section is SweepConfig:  # the list of named recipes becomes name -> overrides
        plain["recipes"] = [{"name": name, **o} for name, o in plain["recipes"].items()]
    assert plain == params
    with pytest.raises(TypeError):
        section.from_params({**params, "unknown": 1})


def test_influence_config_reads_the_influence_section(default):
    influence = InfluenceConfig.from_config(default)
    assert influence.epochs == tuple(range(20, 201, 20))
    assert (influence.top_k, influence.batch_size) == (50, 4096)


def test_smoke_config_merged_over_default_is_valid(default):
    merged = copy.deepcopy(default)
    update_config(merged, _load("smoke.yaml"))  # as `--configfile` does: key by key
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


@pytest.mark.parametrize("subsets", [2, 4])
def test_too_few_lds_subsets_for_a_spearman_correlation_are_refused(default, subsets):
    default["lds"]["subsets"] = subsets
    message = rf"'lds.subsets': {subsets} is less than the minimum of 5"
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)
    default["lds"]["subsets"] = 5
    validate_config(default, SCHEMA)


def test_removal_seeds_outside_the_study_seeds_are_refused(default):
    default["seeds"] = [0, 1]
    default["removal"]["seeds"] = [1, 7]
    default["sweep"]["seeds"] = [0]
    message = (
        r"'removal.seeds': seeds \[7\] are not among seeds \[0, 1\].*"
        r"Choose removal seeds among \[0, 1\], or add \[7\] to seeds"
    )
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)
    default["removal"]["seeds"] = [1]
    validate_config(default, SCHEMA)


def test_influence_epochs_without_checkpoints_are_refused(default):
    default["influence"]["epochs"] = [20, 42]
    with pytest.raises(ConfigError, match=r"'influence.epochs': epochs \[42\] have no checkpoint"):
        validate_config(default, SCHEMA)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (("training", "epochs"), 4.0, r"'training.epochs': 4.0 is not of type 'integer'"),
        (("seeds",), [0.0], r"'seeds.0': 0.0 is not of type 'integer'"),
        (("palo_alto", "n_houses"), 11.0, r"'palo_alto.n_houses': 11.0 is not of type"),
        (("training", "threads"), True, r"'training.threads': True is not of type 'integer'"),
    ],
)
def test_integers_written_as_floats_or_booleans_are_refused(default, key, value, message):
    *parents, last = key
    section = default
    for name in parents:
        section = section[name]
    section[last] = value
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)


@pytest.mark.parametrize(
    ("fraction", "message"),
    [
        (0.00001, r"'data.test_fraction': 1e-05 gives 20640 training and 0 test rows of 20640"),
        (0.99999, r"'data.test_fraction': 0.99999 gives 0 training and 20640 test rows"),
        (0.0005, r"'palo_alto.n_houses': 11 exceeds the 10 test rows \(data.test_fraction="),
        (0.95, r"'experiments.approximation_chain.n_train': 2000 exceeds the 1032 training rows"),
    ],
)
def test_a_test_fraction_leaving_too_few_rows_is_refused(default, fraction, message):
    default["data"]["test_fraction"] = fraction
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)


def test_more_palo_alto_houses_than_test_rows_are_refused(default):
    default["palo_alto"]["n_houses"] = 5000
    with pytest.raises(
        ConfigError, match=r"'palo_alto.n_houses': 5000 exceeds the 4128 test rows .* at most 4128"
    ):
        validate_config(default, SCHEMA)


def test_more_checkpoints_than_the_approximation_chain_saves_are_refused(default):
    default["experiments"]["approximation_chain"]["checkpoint_counts"] = [1, 1000]
    with pytest.raises(
        ConfigError,
        match=r"'experiments.approximation_chain.checkpoint_counts': \[1000\] exceed the 60 ",
    ):
        validate_config(default, SCHEMA)


@pytest.mark.parametrize(("epochs", "n_train", "every"), [(1, 60, 7), (2, 5, 3), (1, 20, 20)])
def test_saved_steps_are_the_steps_the_approximation_chain_saves(tmp_path, epochs, n_train, every):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(n_train, 2)), rng.normal(size=n_train)
    run = train_ideal(X, y, X[:1], y[:1], [2], 0.01, epochs, 0, tmp_path, every)
    assert [c.step for c in run.checkpoints] == saved_steps(n_train, epochs, every)
