# Shared by the rule files. It defines the study's settings, its software environment
# and the two output folders, each once. Each step names its own output paths; the steps
# downstream refer to them through `rules.<name>.output.<key>`, so that a path is written
# in exactly one place.

from tracin_study.config import TrainingConfig, canonical
from tracin_study.plan import recipe_section, saved_steps

SEEDS = config["seeds"]
RESULTS = config["paths"]["results"]
REPORT = config["paths"]["report"]
TRAINING = TrainingConfig.from_config(config)
ENVIRONMENT = "../../environment.yml"  # for --software-deployment-method conda


def results(path):
    """`path` inside the results folder (config `paths.results`)."""
    return f"{RESULTS}/{path}"


def log_file(name, job=None):
    """The log of a job of the step `name`; `job` names one of its many jobs ("seed_{seed}")."""
    return results(f"logs/{name}/{job}.log" if job else f"logs/{name}.log")


def benchmark_file(name, job=None):
    """The benchmark table (wall time, peak memory) of a job, named as by `log_file`."""
    return results(f"benchmarks/{name}/{job}.tsv" if job else f"benchmarks/{name}.tsv")


def settings(*keys):
    """The config section at `keys`, with its keys sorted at every level.

    Snakemake compares params as written, key order included; sorting makes a config whose
    keys are merely reordered plan no rerun, while any changed value still does.
    """
    section = config
    for key in keys:
        section = section[key]
    return canonical(section)


def prepared_data():
    """The prepared-data files that `load_prepared` reads, as named inputs."""
    out = rules.prepare_data.output
    return {"train": out.train, "test": out.test, "scaler": out.scaler}


def per_seed(paths):
    """Expand the `{seed}` wildcard of `paths` over the study's seeds."""
    return expand(paths, seed=SEEDS)


def checkpoint_files(folder, epochs):
    """The files that training writes into `folder`: a `state_dict` per saved epoch and,
    after the first step, Adam's state with it."""
    weights = [f"{folder}/epoch_{epoch:04d}.pt" for epoch in epochs]
    return weights + [
        f"{folder}/epoch_{epoch:04d}.adam.pt" for epoch in epochs if epoch > 0
    ]


def study_outputs(wildcard_values):
    """Every output of every step (what the target `all` asks for): for every seed, or for
    the wildcard values that `wildcard_values` gives by step name."""
    return [
        path
        for rule in workflow.rules
        if rule.name != "all"
        for pattern in getattr(rules, rule.name).output
        for path in expand(pattern, **wildcard_values.get(rule.name, {"seed": SEEDS}))
    ]


def recipe_settings(section, recipes):
    """The config section `section` of the recipe of `recipes` (name -> overrides) named
    by the `{recipe}` wildcard, as params (keys sorted like `settings`)."""
    return lambda wildcards: canonical(
        recipe_section(section, config[section], recipes[wildcards.recipe])
    )


def closest_prepared_data():
    """The closest recipe's prepared-data files that `load_prepared` reads, as named inputs."""
    out = rules.closest_recipe_prepare.output
    return {"train": out.train, "test": out.test, "scaler": out.scaler}
