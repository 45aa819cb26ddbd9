import copy
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.utils import update_config

from tracin_study import config as config_module
from tracin_study import run_plans, statistics
from tracin_study.config import (
    SECTIONS,
    ConfigError,
    InfluenceSettings,
    LdsSettings,
    RemovalSettings,
    StudySettings,
    TrainingSettings,
    validate_config,
)
from tracin_study.data import split_tables
from tracin_study.experiments import lds, removal
from tracin_study.housing_table import N_ROWS, split_sizes
from tracin_study.ideal import train_ideal
from tracin_study.run_plans import saved_steps

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


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_each_section_s_settings_hold_the_config_section_and_give_it_back(default, name):
    section = SECTIONS[name]
    node = default
    for key in name.split("."):
        node = node["closest"] if key == "*" else node[key]
    if section is TrainingSettings:
        node = {"model": default["model"], "training": default["training"]}
    elif name == "experiments":
        node = {"dtype": node["dtype"]}
    typed = section.from_params(node)
    assert typed.params() == config_module.canonical(node)
    assert section.from_params(typed.params()) == typed
    wrong = {**node, "unknown": 1}
    if section is TrainingSettings:
        wrong = {**node, "training": {**node["training"], "unknown": 1}}
    with pytest.raises(ConfigError, match=rf"{section.__name__}\): unknown keys \['unknown'\]"):
        section.from_params(wrong)


def test_the_study_settings_are_every_section_of_the_config(default):
    study = StudySettings.from_config(default)
    assert study.training == TrainingSettings.from_config(default)
    assert study.training.hidden == (512, 256, 128) and study.training.threads == 1
    assert study.removal == {"closest": RemovalSettings.from_config(default, "closest")}
    assert list(study.lds) == ["closest"] and isinstance(study.lds["closest"], LdsSettings)
    assert (
        study.approximation_chain.adam.beta2
        == default["experiments"]["approximation_chain"]["adam"]["beta2"]
    )
    assert study.sweep.params() == config_module.canonical(default["experiments"]["sweep"])
    assert study.recipe_seeds()["closest"] == default["experiments"]["sweep"]["rerun_seeds"]


def test_a_section_missing_a_key_is_refused_with_its_name(default):
    palo_alto = {k: v for k, v in default["palo_alto"].items() if k != "n_houses"}
    with pytest.raises(
        ConfigError, match=r"'palo_alto' \(PaloAltoSettings\).*missing keys \['n_houses'\]"
    ):
        config_module.PaloAltoSettings.from_params(palo_alto)


def test_influence_config_reads_the_influence_section(default):
    influence = InfluenceSettings.from_config(default)
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


def _removal_section(config: dict, recipe: str) -> dict:
    """The removal section of `recipe`, a copy of the closest recipe's where the config has
    none (the default run tests the closest recipe only; config/cluster.yaml both)."""
    recipes = config["experiments"]["removal"]["recipes"]
    if recipe not in recipes:
        recipes[recipe] = copy.deepcopy(recipes["closest"]) | {"seeds": [0]}
    return recipes[recipe]


@pytest.mark.parametrize(
    ("recipe", "source"),
    [("default", "seeds"), ("closest", "experiments.sweep.rerun_seeds")],
)
def test_removal_seeds_outside_the_recipe_s_seeds_are_refused(default, recipe, source):
    default["seeds"] = [0, 1]
    default["experiments"]["sweep"]["rerun_seeds"] = [0, 1]
    default["experiments"]["sweep"]["seeds"] = [0]
    default["experiments"]["corruption"]["seeds"] = [0]
    _removal_section(default, recipe)
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
    # removal: the closest recipe only (the default recipe's is on config/cluster.yaml),
    # 8 seeds x 3 k x (2 scores x 2 aggregate sets + map + 4 draws) in chunks of 9
    study = StudySettings.from_config(default)
    assert list(study.removal) == ["closest"]
    closest = study.removal["closest"]
    assert run_plans.removal_jobs(closest, 11) == {"seed": list(range(8)), "chunk": [0, 1, 2]}
    assert len(run_plans.removal_retrainings(closest, n_houses=11)) == 27
    assert set(closest.seeds) <= set(study.sweep.rerun_seeds)
    # LDS: 24 subsets and the ceiling's 24 in chunks of 12
    assert run_plans.lds_jobs(study.lds["closest"]) == {"chunk": [0, 1, 2, 3]}
    assert "default" not in study.lds


def _schema_sections(node: dict, path: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every section of the schema (dotted path, `*` for each entry of a per-recipe map) ->
    its keys that are values, not sections (the root's own `seeds` left out)."""
    properties = node.get("properties", {})
    values = [key for key, sub in properties.items() if sub.get("type") != "object"]
    sections = {".".join(path): values} if path and values else {}
    for key, sub in properties.items():
        if sub.get("type") == "object":
            sections |= _schema_sections(sub, (*path, key))
    if isinstance(node.get("additionalProperties"), dict):
        sections |= _schema_sections(node["additionalProperties"], (*path, "*"))
    return sections


def test_every_schema_section_has_a_settings_dataclass_with_its_keys():
    schema = yaml.safe_load(SCHEMA.read_text())
    sections = _schema_sections(schema)
    assert "experiments.removal.recipes.*" in sections and "training" in sections
    assert sorted(sections) == sorted(SECTIONS), "a schema section without settings dataclass"
    for name, values in sections.items():
        fields = {f.name: f.type for f in dataclasses.fields(SECTIONS[name])}
        assert set(values) <= set(fields), f"{name}: keys {set(values) - set(fields)} not read"
    # the fields that are no key of their own section are the sections nested in it
    for section in set(SECTIONS.values()):
        keys = {k for name, v in sections.items() if SECTIONS[name] is section for k in v}
        nested = {f.name for f in dataclasses.fields(section) if f.name not in keys}
        assert all(
            isinstance(f.type, type) and issubclass(f.type, config_module._Section)
            for f in dataclasses.fields(section)
            if f.name in nested
        ), section
    assert set(schema["required"]) <= {f.name for f in dataclasses.fields(StudySettings)} | {
        "model"
    }


@pytest.mark.parametrize(
    "section", [*set(SECTIONS.values()), StudySettings], ids=lambda s: s.__name__
)
def test_each_settings_field_has_its_one_line_help(section):
    for f in dataclasses.fields(section):
        assert f.metadata.get("help") and "\n" not in f.metadata["help"], (section, f.name)


# Bounds that depend on the data's size, checked from the split the config implies.


def _sizes(config) -> tuple[int, int]:
    return split_sizes(N_ROWS, config["data"]["test_fraction"])


@pytest.mark.parametrize("recipe", ["default", "closest"])
@pytest.mark.parametrize("name", ["k", "noise_k"])
@pytest.mark.parametrize("fraction", [0.2, 0.5])
def test_removal_sizes_that_leave_no_training_row_are_refused(
    default, table, recipe, name, fraction
):
    default["data"]["test_fraction"] = fraction
    n_train, _ = _sizes(default)
    assert n_train == len(split_tables(table, fraction, 2020)[0])  # the split's own size
    section = _removal_section(default, recipe)
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
