"""What the workflow needs to know while it is parsed: table size, split sizes and the names
of the experiments' outputs. Plain Python, no numpy, pandas, scikit-learn or torch.

Every Snakemake run parses the Snakefile, and on a cluster every job starts its own
Snakemake and parses it again; importing torch there costs seconds per job. The rule files
import only from this module (and `tracin_study.config`, which uses it);
tests/test_workflow_structure.py checks that. The functions are re-exported by the modules
they belong to (`tracin_study.data`, `tracin_study.experiments.*`).
"""

N_ROWS = 20_640


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
