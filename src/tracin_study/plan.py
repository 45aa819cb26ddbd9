"""What the workflow needs to know while it is parsed: table size, split sizes, the names
of the experiments' outputs, the recipes' settings and the shipped snapshot's path. Plain
Python (json, math, pathlib, importlib), no numpy, pandas, scikit-learn or torch.

Every Snakemake run parses the Snakefile, and on a cluster every job starts its own
Snakemake and parses it again; importing torch there costs seconds per job. The rule files
import only from this module (and `tracin_study.config`, which uses it; the Snakefile also
from `tracin_study.manifest_check`); tests/test_workflow_structure.py checks that. The
functions are re-exported by the modules they belong to (`tracin_study.data`,
`tracin_study.experiments.*`).
"""

import json
import math
from importlib import resources
from pathlib import Path

N_ROWS = 20_640
SNAPSHOT = "california_housing.csv.gz"  # the table's copy shipped in tracin_study/resources
DEFAULT = "default"  # the config's own recipe
CLOSEST = "closest"  # the sweep's choice (selection.json), known only at run time
AGGREGATE = "all houses"  # `house` of the removal verdicts on the Palo Alto houses together
TRACIN_SCORES = ("raw", "adam")  # TracInCP as the paper defines it, and Adam-preconditioned


def shipped_snapshot() -> Path:
    """Path of the checksummed CSV snapshot shipped with the package (an input of the data
    step, so that a changed snapshot replans it)."""
    return Path(str(resources.files("tracin_study.resources") / SNAPSHOT))


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


def removal_retrainings(removal: dict, n_houses: int, n_scores: int) -> int:
    """Retrainings per seed of a recipe's removal section `removal`
    (`experiments.removal.recipes.<recipe>`), as `experiments.removal.plan_removals` plus
    `plan_noise_draws` for each noise protocol but the judged one plan them: per size k,
    the aggregate proponents and opponents of each of `n_scores` scores, each of the `n_houses` test
    houses' own proponents and opponents per score, the map neighbours and the random
    draws; then the random draws at noise_k per further protocol."""
    sets = set(removal["sets"])
    per_score = ("aggregate_proponents" in sets) + ("aggregate_opponents" in sets)
    per_score += n_houses * (("house_proponents" in sets) + ("house_opponents" in sets))
    per_k = n_scores * per_score + ("map_neighbours" in sets) + removal["random_draws"]
    others = [p for p in removal["noise_protocols"] if p != removal["protocol"]]
    return len(removal["k"]) * per_k + len(others) * removal["random_draws"]


def lds_retrainings(lds: dict) -> list[tuple[int, str, int]]:
    """The retrainings of a recipe's LDS section `lds` (`experiments.lds.recipes.<recipe>`)
    as (model seed, protocol, subset): every subset as model `seed` under `protocol`, then
    the noise ceiling's: the same subsets as model `ceiling_seed` under `protocol`, or as
    model `seed` under the other protocol when `ceiling_seed` is None."""
    protocol, seed = lds["protocol"], lds["seed"]
    if lds["ceiling_seed"] is None:
        other = "new_order" if protocol == "fixed_order" else "fixed_order"
        ceiling = (seed, other)
    else:
        ceiling = (lds["ceiling_seed"], protocol)
    subsets = range(lds["subsets"])
    return [(seed, protocol, m) for m in subsets] + [(*ceiling, m) for m in subsets]


def n_chunks(n_items: int, chunk: int) -> int:
    """Jobs of at most `chunk` items each that cover `n_items`: ceil(n_items / chunk)."""
    return -(-n_items // chunk)


def removal_jobs(config: dict, recipe: str) -> dict[str, list[int]]:
    """The removal jobs of `recipe` as wildcard values, every seed with every chunk:
    {"seed": its seeds, "chunk": 0 ... n - 1} for chunks of `chunk` retrainings (both
    scores, the `palo_alto.n_houses` test houses)."""
    section = config["experiments"]["removal"]["recipes"][recipe]
    size = removal_retrainings(section, config["palo_alto"]["n_houses"], len(TRACIN_SCORES))
    return {"seed": list(section["seeds"]), "chunk": list(range(n_chunks(size, section["chunk"])))}


def lds_jobs(config: dict, recipe: str) -> dict[str, list[int]]:
    """The LDS jobs of `recipe` as wildcard values: {"chunk": 0 ... n - 1} for chunks of
    `chunk` of its `lds_retrainings`."""
    section = config["experiments"]["lds"]["recipes"][recipe]
    return {"chunk": list(range(n_chunks(len(lds_retrainings(section)), section["chunk"])))}


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
    for `experiments.sweep.rerun_seeds` and each sweep recipe by its name for
    `experiments.sweep.seeds`."""
    sweep = config["experiments"]["sweep"]
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
    recipes = {r["name"]: r for r in config["experiments"]["sweep"]["recipes"]}
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
