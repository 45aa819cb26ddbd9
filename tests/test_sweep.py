"""The recipe sweep: recipes change only what they name, the closest (recipe, epoch) rule
with its ties, the rerun's checkpoint epochs and the sweep's config errors."""

import copy
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tracin_study import recipes
from tracin_study.config import (
    RECIPE_SECTIONS,
    ConfigError,
    StudySettings,
    SweepSettings,
    TrainingSettings,
    validate_config,
)
from tracin_study.experiments import sweep

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
RECIPES = {"minmax": {"preprocessing": "minmax"}, "batch_32": {"batch_size": 32}}


@pytest.fixture
def default():
    return yaml.safe_load((ROOT / "config/config.yaml").read_text())


def _table(points: dict[tuple[str, int], list[tuple[float, float]]]) -> pd.DataFrame:
    """An `ev_table` from (recipe, epoch) -> (train EV, test EV) of seeds 0, 1, ..."""
    rows = [
        {"recipe": recipe, "seed": seed, "epoch": epoch}
        | {"train_explained_variance": train, "test_explained_variance": test}
        for (recipe, epoch), evs in points.items()
        for seed, (train, test) in enumerate(evs)
    ]
    return pd.DataFrame(rows)


def test_the_paper_point_is_the_papers_stated_explained_variances():
    selection = sweep.select_closest(_table({("default", 40): [(0.72, 0.75)]}), RECIPES)
    assert selection["paper"] == {"train": 0.72, "test": 0.70}
    assert "to the paper's (0.72, 0.7)" in sweep.SELECTION_RULE


def test_the_closest_point_uses_the_mean_over_seeds_and_may_be_an_early_epoch():
    table = _table(
        {
            ("default", 10): [(0.80, 0.76), (0.82, 0.76)],
            ("default", 200): [(0.93, 0.78), (0.93, 0.78)],
            # seed 0 alone hits the paper, the mean over seeds does not
            ("minmax", 10): [(0.72, 0.70), (0.92, 0.90)],
            ("minmax", 20): [(0.74, 0.71), (0.74, 0.71)],
            ("batch_32", 10): [(0.90, 0.77), (0.90, 0.77)],
        }
    )
    chosen = sweep.select_closest(table, RECIPES)
    assert (chosen["recipe"], chosen["epoch"]) == ("minmax", 20)
    assert chosen["overrides"] == {"preprocessing": "minmax"}
    assert chosen["distance"] == pytest.approx((0.02**2 + 0.01**2) ** 0.5)
    assert (chosen["train_explained_variance"], chosen["n_seeds"]) == (pytest.approx(0.74), 2)
    assert chosen["checkpoint_epochs"] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert chosen["rule"] == sweep.SELECTION_RULE


def test_equal_distances_go_to_fewer_epochs_then_to_the_recipe_name():
    # 0.05 from the paper each, to rounding error: the epoch-20 points' distances are
    # 0.05 + 4e-17 in floating point, the later ones' 0.05 - 7e-17
    table = _table(
        {
            ("minmax", 20): [(0.77, 0.70)],
            ("batch_32", 20): [(0.72, 0.75)],
            ("minmax", 30): [(0.72, 0.65)],
            ("default", 40): [(0.67, 0.70)],
        }
    )
    chosen = sweep.select_closest(table, RECIPES)
    assert (chosen["recipe"], chosen["epoch"]) == ("batch_32", 20)
    later = table[table["epoch"] != 20]
    assert sweep.select_closest(later, RECIPES)["epoch"] == 30
    default = sweep.select_closest(_table({("default", 40): [(0.72, 0.75)]}), RECIPES)
    assert (default["recipe"], default["overrides"]) == ("default", {})


def test_ev_table_keeps_the_measured_epochs_of_each_curve():
    curve = pd.DataFrame(
        {
            "epoch": [1, 2],
            "train_mse": [1.0, 0.5],
            "test_mse": [1.1, 0.6],
            "train_explained_variance": [float("nan"), 0.8],
            "test_explained_variance": [float("nan"), 0.7],
        }
    )
    table = sweep.ev_table([curve.assign(recipe="minmax", seed=3)])
    assert table.to_dict("records") == [
        {
            "recipe": "minmax",
            "seed": 3,
            "epoch": 2,
            "train_explained_variance": 0.8,
            "test_explained_variance": 0.7,
        }
    ]


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (200, list(range(20, 201, 20))),
        (130, list(range(13, 131, 13))),
        (4, [1, 2, 3, 4]),  # 0.4, 0.8, ... rounded half up, 0 and duplicates dropped
        (15, [2, 3, 5, 6, 8, 9, 11, 12, 14, 15]),
    ],
)
def test_rerun_checkpoints_are_ten_evenly_spaced_epochs(epoch, expected):
    assert sweep.checkpoint_epochs(epoch) == expected


def closest_recipe(default: dict, selection: dict) -> dict:
    """Every section of the closest recipe's settings with `selection` applied."""
    study = StudySettings.from_config(default)
    return {
        section: recipes.resolve_section(
            section, recipes.section_settings(study, recipes.CLOSEST, section), selection
        )
        for section in RECIPE_SECTIONS
    }


def test_the_closest_recipe_saves_every_checkpoint_it_sums_over(default):
    study = StudySettings.from_config(default)
    influence = recipes.section_settings(study, recipes.CLOSEST, "influence")
    assert influence == replace(study.influence, epochs=())  # the selection gives them
    for epoch in (200, 130, 15):
        selection = {"overrides": {"split": "ordered"}, "epoch": epoch}
        selection["checkpoint_epochs"] = sweep.checkpoint_epochs(epoch)
        recipe = closest_recipe(default, selection)
        training = recipe["training"]
        assert training.epochs == epoch and recipe["data"].split == "ordered"
        assert recipe["influence"].epochs == tuple(selection["checkpoint_epochs"])
        assert set(recipe["influence"].epochs) <= set(training.checkpoint_epochs())
        assert recipe["influence"].top_k == study.influence.top_k
    selection = {"overrides": {}, "epoch": 200, "checkpoint_epochs": sweep.checkpoint_epochs(200)}
    training = closest_recipe(default, selection)["training"]
    assert training.checkpoint_epochs() == list(range(0, 201, 20))


def test_the_default_recipe_is_the_config_itself(default):
    study = StudySettings.from_config(default)
    recipe = {s: recipes.section_settings(study, recipes.DEFAULT, s) for s in RECIPE_SECTIONS}
    assert {s: recipes.resolve_section(s, recipe[s]) for s in RECIPE_SECTIONS} == recipe
    assert recipe["training"] == TrainingSettings.from_config(default)
    assert recipe["data"].params() == default["data"]
    assert recipe["influence"].params() == default["influence"]
    minmax = recipes.section_settings(study, "minmax", "data")
    assert minmax.params() == {**default["data"], "preprocessing": "minmax"}
    minmax_training = recipes.section_settings(study, "minmax", "training")
    assert minmax_training.params()["training"] == default["training"]


def test_every_recipe_has_its_seeds(default):
    seeds = StudySettings.from_config(default).recipe_seeds()
    sweep_names = [r["name"] for r in default["experiments"]["sweep"]["recipes"]]
    assert list(seeds) == [recipes.DEFAULT, recipes.CLOSEST, *sweep_names]
    assert seeds[recipes.DEFAULT] == default["seeds"]
    assert seeds[recipes.CLOSEST] == default["experiments"]["sweep"]["rerun_seeds"]
    assert all(seeds[name] == default["experiments"]["sweep"]["seeds"] for name in sweep_names)


def test_a_recipe_changes_only_what_it_names(default):
    study = StudySettings.from_config(default)
    data = recipes.overridden("data", study.data, {"split": "ordered"})
    assert data.params() == {**default["data"], "split": "ordered"}
    training = study.training
    assert recipes.overridden("training", training, {"split": "ordered"}) == training
    assert recipes.overridden("training", training, {"batch_size": 32}).batch_size == 32
    with pytest.raises(KeyError, match=r"\['weight_decay'\] are not among"):
        recipes.overridden("training", training, {"weight_decay": 0.1})


def test_the_schema_allows_exactly_the_override_keys():
    schema = yaml.safe_load(SCHEMA.read_text())
    recipe = schema["properties"]["experiments"]["properties"]["sweep"]["properties"]["recipes"][
        "items"
    ]
    assert set(recipe["properties"]) == {"name", *recipes.OVERRIDES}


def test_the_default_sweep_is_one_factor_at_a_time(default):
    recipes = SweepSettings.from_config(default).recipes
    assert recipes == {
        "raw_features": {"preprocessing": "raw"},
        "minmax": {"preprocessing": "minmax"},
        "ordered_split": {"split": "ordered"},
    }
    assert (default["data"]["split"], default["data"]["preprocessing"]) == (
        "random",
        "standardised",
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c["experiments"]["sweep"]["recipes"][1].update(weight_decay=0.1),
            r"'experiments.sweep.recipes.1'.*'weight_decay' was unexpected",
        ),
        (
            lambda c: c["experiments"]["sweep"]["recipes"][1].update(preprocessing="zscore"),
            r"'experiments.sweep.recipes.1.preprocessing': 'zscore' is not one of",
        ),
        (
            lambda c: c["data"].update(preprocessing="standardized"),
            r"'data.preprocessing': 'standardized' is not one of",
        ),
        (lambda c: c["data"].update(split="sorted"), r"'data.split': 'sorted' is not one of"),
        (
            lambda c: c["experiments"]["sweep"]["recipes"].append(
                {"name": "default", "batch_size": 64}
            ),
            r"'experiments.sweep.recipes.3.name': 'default' should not be valid",
        ),
        (
            lambda c: c["experiments"]["sweep"]["recipes"].append(
                {"name": "closest", "batch_size": 64}
            ),
            r"'experiments.sweep.recipes.3.name': 'closest' should not be valid",
        ),
        (
            lambda c: c["experiments"]["sweep"]["recipes"].append({"name": "batch_64"}),
            r"'experiments.sweep.recipes.3': \{'name': 'batch_64'\} does not have enough",
        ),
        (
            lambda c: c["experiments"]["sweep"]["recipes"].append({"batch_size": 64}),
            r"'experiments.sweep.recipes.3': 'name' is a required property",
        ),
        (
            lambda c: c["experiments"]["sweep"]["recipes"].append(
                {"name": "minmax", "batch_size": 64}
            ),
            r"'experiments.sweep.recipes': the names \['minmax'\] are given to more than one",
        ),
        (
            lambda c: c["experiments"]["sweep"].update(recipes=[]),
            r"'experiments.sweep.recipes': \[\] should be non-empty",
        ),
        (lambda c: c["training"].pop("curve_every"), r"'curve_every' is a required property"),
        (
            lambda c: c["experiments"]["sweep"].update(seeds=[0, 9]),
            r"'experiments.sweep.seeds': seeds \[9\] are not among",
        ),
    ],
)
def test_a_bad_sweep_setting_is_named(default, edit, message):
    config = copy.deepcopy(default)
    edit(config)
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def test_recipe_table_gives_each_recipes_last_and_nearest_point():
    table = _table(
        {
            ("default", 10): [(0.80, 0.76), (0.82, 0.76)],
            ("default", 200): [(0.93, 0.78), (0.93, 0.78)],
            ("minmax", 10): [(0.73, 0.70), (0.73, 0.70)],
            ("minmax", 20): [(0.80, 0.72), (0.80, 0.72)],
        }
    )
    rows = sweep.recipe_table(table)
    assert list(rows.index) == ["default", "minmax"]
    assert list(rows["last epoch"]) == [200, 20] and list(rows["nearest epoch"]) == [10, 10]
    assert rows.loc["default", "train EV, nearest"] == pytest.approx(0.81)
    assert rows.loc["minmax", "distance, nearest"] == pytest.approx(0.01)
    assert rows.loc["default", "test EV, last"] == pytest.approx(0.78)
