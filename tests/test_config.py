import copy
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.utils import update_config

from tracin_study import config as config_module
from tracin_study import plan, statistics
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
from tracin_study.data import split_tables
from tracin_study.experiments import lds, removal
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
    [InfluenceConfig, PaloAltoConfig, CorruptionConfig, SweepConfig],
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


@pytest.mark.parametrize(
    ("section", "recipe"),
    [(RemovalConfig, "default"), (RemovalConfig, "closest"), (LdsConfig, "closest")],
)
def test_per_recipe_sections_hold_the_recipe_s_settings(default, section, recipe):
    params = default
    for key in section.KEYS:
        params = params[key]
    typed = section.from_config(default, recipe)
    plain = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(typed).items()}
    assert plain == params[recipe]
    with pytest.raises(TypeError):
        section.from_params({**params[recipe], "unknown": 1})


def test_influence_config_reads_the_influence_section(default):
    influence = InfluenceConfig.from_config(default)
    assert influence.epochs == tuple(range(20, 201, 20))
    assert (influence.top_k, influence.batch_size) == (50, 4096)


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
    lds = default["experiments"]["lds"]["recipes"]["closest"]
    lds["subsets"] = subsets
    message = rf"'experiments.lds.recipes.closest.subsets': {subsets} is less than the minimum"
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)
    lds["subsets"] = 5
    validate_config(default, SCHEMA)


@pytest.mark.parametrize(
    ("recipe", "source"),
    [("default", "seeds"), ("closest", "experiments.sweep.rerun_seeds")],
)
def test_removal_seeds_outside_the_recipe_s_seeds_are_refused(default, recipe, source):
    default["seeds"] = [0, 1]
    default["experiments"]["sweep"]["rerun_seeds"] = [0, 1]
    default["experiments"]["sweep"]["seeds"] = [0]
    default["experiments"]["corruption"]["seeds"] = [0]
    for section in default["experiments"]["removal"]["recipes"].values():
        section["seeds"] = [0, 1]
    default["experiments"]["removal"]["recipes"][recipe]["seeds"] = [1, 7]
    message = (
        rf"'experiments.removal.recipes.{recipe}.seeds': seeds \[7\] are not among the "
        rf"{recipe} recipe's seeds \[0, 1\] \(`{source}`\).*add \[7\] to `{source}`"
    )
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)
    default["experiments"]["removal"]["recipes"][recipe]["seeds"] = [1]
    validate_config(default, SCHEMA)


def test_corruption_seeds_outside_the_study_seeds_are_refused(default):
    default["experiments"]["corruption"]["seeds"] = [0, 9]
    with pytest.raises(ConfigError, match=r"'experiments.corruption.seeds': seeds \[9\]"):
        validate_config(default, SCHEMA)


def test_removal_and_lds_run_only_on_the_default_and_closest_recipes(default):
    default["experiments"]["removal"]["recipes"]["minmax"] = {}
    with pytest.raises(ConfigError, match=r"'experiments.removal.recipes'.*'minmax'"):
        validate_config(default, SCHEMA)


@pytest.mark.parametrize("name", ["smoke.yaml", "cluster.yaml"])
def test_configs_merged_over_the_default_are_valid(default, name):
    merged = copy.deepcopy(default)
    update_config(merged, _load(name))  # as `--configfile` does: key by key
    validate_config(merged, SCHEMA)


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


def test_the_default_grid_has_the_budgeted_retrainings(default):
    # removal: default recipe's noise alone, 2 draws of seed 0 in chunks of 1; closest
    # 8 seeds x 3 k x (2 scores x 2 aggregate sets + map + 4 draws) in chunks of 9
    assert plan.removal_jobs(default, "default") == {"seed": [0], "chunk": [0, 1]}
    assert plan.removal_jobs(default, "closest") == {"seed": list(range(8)), "chunk": [0, 1, 2]}
    closest = default["experiments"]["removal"]["recipes"]["closest"]
    assert plan.removal_retrainings(closest, n_houses=11, n_scores=2) == 27
    assert set(closest["seeds"]) <= set(default["experiments"]["sweep"]["rerun_seeds"])
    # LDS: 24 subsets and the ceiling's 24 in chunks of 12
    assert plan.lds_jobs(default, "closest") == {"chunk": [0, 1, 2, 3]}
    assert "default" not in default["experiments"]["lds"]["recipes"]


def _schema_section(schema: dict, section: type) -> dict:
    """The schema of a settings dataclass's config section: the node at its `KEYS`, and for
    a per-recipe section the schema every recipe's entry follows."""
    node = schema
    for key in section.KEYS:
        node = node["properties"][key]
    if issubclass(section, config_module._RecipeSection):
        node = node["additionalProperties"]
    return node


SECTIONS = [
    config_module.InfluenceConfig,
    config_module.PaloAltoConfig,
    config_module.CorruptionConfig,
    config_module.RemovalConfig,
    config_module.LdsConfig,
    config_module.SweepConfig,
]


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.__name__)
def test_each_settings_dataclass_has_the_keys_of_its_schema_section_and_documents_them(section):
    schema = _schema_section(yaml.safe_load(SCHEMA.read_text()), section)
    fields = {f.name for f in dataclasses.fields(section)}
    assert fields == set(schema["properties"]), f"{section.__name__} vs {section.KEYS}"
    assert set(schema["required"]) == fields
    undocumented = [name for name in fields if f"`{name}`" not in section.__doc__]
    assert not undocumented, f"{section.__name__}'s docstring does not describe {undocumented}"
    assert all(schema["properties"][name].get("description") for name in fields)


# Bounds that depend on the data's size, checked from the split the config implies.


def _sizes(config) -> tuple[int, int]:
    return plan.split_sizes(plan.N_ROWS, config["data"]["test_fraction"])


@pytest.mark.parametrize("recipe", ["default", "closest"])
@pytest.mark.parametrize("name", ["k", "noise_k"])
@pytest.mark.parametrize("fraction", [0.2, 0.5])
def test_removal_sizes_that_leave_no_training_row_are_refused(
    default, table, recipe, name, fraction
):
    default["data"]["test_fraction"] = fraction
    n_train, _ = _sizes(default)
    assert n_train == len(split_tables(table, fraction, 2020)[0])  # the split's own size
    section = default["experiments"]["removal"]["recipes"][recipe]
    section[name] = [n_train - 1] if name == "k" else n_train - 1
    validate_config(default, SCHEMA)
    section[name] = [10, n_train, 100000] if name == "k" else n_train
    too_big = "[16512, 100000]" if (name, fraction) == ("k", 0.2) else None
    message = (
        rf"'experiments.removal.recipes.{recipe}.{name}': "
        + (re.escape(too_big) if too_big else r"\[\d+(, \d+)*\]")
        + rf" remove all {n_train} training rows or more \(data.test_fraction={fraction} gives "
        rf"{n_train} training rows of 20640\); each size must lie in \[1, {n_train - 1}\]\. "
        r"Lower it, or lower data.test_fraction\."
    )
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)


def test_the_largest_accepted_removal_size_is_the_largest_the_experiment_draws(default):
    n_train, _ = _sizes(default)
    removal.random_houses(n_train, n_train - 1, 0, 0, 0)  # accepted by the config: runs
    with pytest.raises(ValueError):
        removal.random_houses(n_train, n_train + 1, 0, 0, 0)


@pytest.mark.parametrize("recipe", ["default", "closest"])
@pytest.mark.parametrize("n_queries", [5, 10, 4129, 100000])
def test_lds_query_counts_outside_the_palo_alto_houses_and_test_rows_are_refused(
    default, recipe, n_queries
):
    _, n_test = _sizes(default)
    assert (n_test, default["palo_alto"]["n_houses"]) == (4128, 11)
    recipes = default["experiments"]["lds"]["recipes"]
    section = recipes.setdefault(recipe, copy.deepcopy(recipes["closest"]))
    for accepted in (11, n_test):
        section["n_queries"] = accepted
        validate_config(default, SCHEMA)
    section["n_queries"] = n_queries
    message = (
        rf"'experiments.lds.recipes.{recipe}.n_queries': {n_queries} must lie in \[11, 4128\]: "
        r"the queries are the palo_alto.n_houses=11 Palo Alto houses plus random test houses, "
        r"of the 4128 test rows \(data.test_fraction=0.2 gives 4128 test rows of 20640\)\. "
        r"Choose a value in that range\."
    )
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)


def test_the_lds_query_range_the_config_accepts_is_the_one_the_experiment_draws(default):
    _, n_test = _sizes(default)
    palo_alto = np.arange(11)
    assert lds.query_houses(n_test, palo_alto, 11, 0).tolist() == list(range(11))
    assert np.unique(lds.query_houses(n_test, palo_alto, n_test, 0)).size == n_test
    for outside in (10, n_test + 1):
        with pytest.raises(ValueError, match="must lie between"):
            lds.query_houses(n_test, palo_alto, outside, 0)


def test_top_k_above_its_stated_cap_is_refused(default):
    default["experiments"]["approximation_chain"]["n_train"] = 16512
    default["influence"]["top_k"] = 1000
    validate_config(default, SCHEMA)
    for top_k in (1001, 100000):
        default["influence"]["top_k"] = top_k
        with pytest.raises(
            ConfigError, match=rf"'influence.top_k': {top_k} is greater than the maximum of 1000"
        ):
            validate_config(default, SCHEMA)


def test_top_k_above_the_approximation_chain_s_houses_is_refused(default):
    default["experiments"]["approximation_chain"]["n_train"] = 40
    default["experiments"]["approximation_chain"]["checkpoint_counts"] = [1, 2]
    default["influence"]["top_k"] = 40
    validate_config(default, SCHEMA)
    default["influence"]["top_k"] = 41
    message = (
        r"'influence.top_k': 41 exceeds the 40 training houses of "
        r"experiments.approximation_chain.n_train, .* Choose at most 40, or raise n_train\."
    )
    with pytest.raises(ConfigError, match=message):
        validate_config(default, SCHEMA)
    with pytest.raises(ValueError, match="k=41 must lie between 1 and the number of scores, 40"):
        statistics.top_k_overlap(np.arange(40.0), np.arange(40.0), 41)
