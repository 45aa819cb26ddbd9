"""What the workflow needs to know while it is parsed: table size, split sizes, the names
of the experiments' outputs and the recipes' settings. Plain Python (json, math,
pathlib), no numpy, pandas, scikit-learn or torch.

Every Snakemake run parses the Snakefile, and on a cluster every job starts its own
Snakemake and parses it again; importing torch there costs seconds per job. The rule files
import only from this module (and `tracin_study.config`, which uses it);
tests/test_workflow_structure.py checks that. The functions are re-exported by the modules
they belong to (`tracin_study.data`, `tracin_study.experiments.*`).
"""

import json
import math
from pathlib import Path

N_ROWS = 20_640
DEFAULT = "default"  # the config's own recipe
CLOSEST = "closest"  # the sweep's choice (selection.json), known only at run time


def split_sizes(n_rows: int, test_fraction: float) -> tuple[int, int]:
    """Numbers of training and test rows of `split_rows`: the test split has
    round(n_rows * test_fraction) rows."""
    n_test = round(n_rows * test_fraction)
    return n_rows - n_test, n_test


def saved_steps(n_train: int, epochs: int, checkpoint_every_steps: int) -> list[int]:
    """The steps after which `record_sgd` saves a checkpoint: every `checkpoint_every_steps`
    of the `n_train * epochs` one-example steps, and the last."""
    steps = n_train * epochs
    return sorted({*range(checkpoint_every_steps, steps + 1, checkpoint_every_steps), steps})


def removal_set_names(random_draws: int) -> list[str]:
    """The removal sets: proponents, map_neighbours and random_0 ... random_{draws - 1}."""
    return ["proponents", "map_neighbours", *(f"random_{d}" for d in range(random_draws))]


# The recipe sweep (`tracin_study.experiments.sweep`): recipe key -> (config section, key
# in it). A new key needs an entry here and one in the schema's sweep.recipes items
# (workflow/schemas/config.schema.yaml).
OVERRIDES = {
    "preprocessing": ("data", "preprocessing"),
    "split": ("data", "split"),
    "batch_size": ("training", "batch_size"),
}


def recipe_section(section: str, settings: dict, overrides: dict) -> dict:
    """The config section `section` (its study values `settings`) of the recipe with
    `overrides`: a copy with the overridden keys of that section replaced."""
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise KeyError(f"recipe keys {unknown} are not among {sorted(OVERRIDES)}")
    changed = {
        key: overrides[name]
        for name, (sec, key) in OVERRIDES.items()
        if sec == section and name in overrides
    }
    return {**settings, **changed}


def recipe_seeds(config: dict) -> dict[str, list[int]]:
    """The study's recipes (name -> model seeds trained): `DEFAULT` for `seeds`, `CLOSEST`
    for `sweep.rerun_seeds` and each sweep recipe by its name for `sweep.seeds`."""
    sweep = config["sweep"]
    return {
        DEFAULT: list(config["seeds"]),
        CLOSEST: list(sweep["rerun_seeds"]),
        **{recipe["name"]: list(sweep["seeds"]) for recipe in sweep["recipes"]},
    }


def recipe_params(config: dict, name: str) -> dict:
    """What the rule `recipe` reads of the config for recipe `name` (its params, the
    arguments of `resolve_recipe` but the selection): `study`, the config's `model`, `data`
    and `training` sections and the `influence_epochs` TracInCP sums over
    (`influence.epochs`; left out for `CLOSEST`, whose selection gives them), and
    `overrides`, the sweep recipe's settings ({} for the others)."""
    study = {"model": config["model"], "data": config["data"], "training": config["training"]}
    if name != CLOSEST:
        study["influence_epochs"] = list(config["influence"]["epochs"])
    recipes = {r["name"]: r for r in config["sweep"]["recipes"]}
    overrides = {k: v for k, v in recipes.get(name, {}).items() if k != "name"}
    return {"study": study, "overrides": overrides}


def resolve_recipe(study: dict, overrides: dict, selection: dict | None = None) -> dict:
    """The full settings of a recipe (recipe.json): `study` (`recipe_params`) with the
    `overrides` of `OVERRIDES` keys applied. For the closest recipe, `selection` (the sweep's
    selection.json) gives the overrides instead, the epochs trained (`epoch`) and the
    influence epochs (`checkpoint_epochs`), saved every greatest-common-divisor-th epoch;
    the selection is kept under `selection`."""
    if selection is not None:
        overrides = selection["overrides"]
    recipe = {
        "model": study["model"],
        "data": recipe_section("data", study["data"], overrides),
        "training": recipe_section("training", study["training"], overrides),
        "overrides": dict(overrides),
    }
    if selection is None:
        recipe["influence_epochs"] = list(study["influence_epochs"])
    else:
        epochs = list(selection["checkpoint_epochs"])
        recipe["training"] |= {"epochs": selection["epoch"], "checkpoint_every": math.gcd(*epochs)}
        recipe |= {"influence_epochs": epochs, "selection": selection}
    return recipe


def read_recipe(path: Path) -> dict:
    """The settings of a recipe as `resolve_recipe` gave them, from its recipe.json."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe settings {path} do not exist; run the rule `recipe`")
    return json.loads(path.read_text())
