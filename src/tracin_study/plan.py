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


# The sections of a recipe's settings (rule `recipe`, results/{recipe}/recipe/{section}.json),
# each read only by the steps that depend on it: `data` by prepare_data, `training` (the
# model and training sections) by train, `influence` (the epochs TracInCP sums over) by
# seed_influence. A changed setting so reruns its step and what follows, not the earlier ones.
SECTIONS = ("data", "training", "influence")


def _check_section(section: str) -> None:
    if section not in SECTIONS:
        raise KeyError(f"recipe section {section!r} is not one of {list(SECTIONS)}")


def section_params(config: dict, name: str, section: str) -> dict:
    """What the rule `recipe` reads of `config` for `section` of recipe `name` (its params):
    the section's settings with the sweep recipe's overrides applied. For `CLOSEST` the
    study's settings, which the selection's overrides replace at run time (`resolve_section`);
    its `influence` section is then empty (the selection gives the epochs)."""
    _check_section(section)
    recipes = {r["name"]: r for r in config["sweep"]["recipes"]}
    overrides = {k: v for k, v in recipes.get(name, {}).items() if k != "name"}
    if section == "data":
        return recipe_section("data", config["data"], overrides)
    if section == "training":
        training = recipe_section("training", config["training"], overrides)
        return {"model": config["model"], "training": training}
    return {} if name == CLOSEST else {"epochs": list(config["influence"]["epochs"])}


def resolve_section(section: str, settings: dict, selection: dict | None = None) -> dict:
    """The settings of `section` of a recipe (its {section}.json): `settings`
    (`section_params`) as they are, or for the closest recipe with `selection` (the sweep's
    selection.json) applied: its overrides, the epochs trained (`epoch`) with a checkpoint
    every greatest-common-divisor-th of the influence epochs (`checkpoint_epochs`), and those
    epochs as the `influence` section's."""
    _check_section(section)
    if selection is None:
        return settings
    overrides = selection["overrides"]
    if section == "data":
        return recipe_section("data", settings, overrides)
    epochs = list(selection["checkpoint_epochs"])
    if section == "training":
        training = recipe_section("training", settings["training"], overrides)
        training |= {"epochs": selection["epoch"], "checkpoint_every": math.gcd(*epochs)}
        return {"model": settings["model"], "training": training}
    return {"epochs": epochs}


def read_section(path: Path) -> dict:
    """The settings of one section of a recipe as `resolve_section` gave them, from its
    {section}.json."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe settings {path} do not exist; run the rule `recipe`")
    return json.loads(path.read_text())
