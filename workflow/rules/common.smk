# Shared by the rule files. It defines the study's settings, its recipes, its software
# environment and the two output folders, each once. Each step names its own output paths;
# the steps downstream refer to them through `rules.<name>.output.<key>`, so that a path is
# written in exactly one place.
#
# Cluster resources. Every step that may go to a cluster declares its memory and runtime
# (its `resources` directive): memory about 2x the peak RSS in the benchmark files
# (max_rss, results/benchmarks/) of the full default run on a 2-core machine (importing
# torch alone is ~450 MB), runtime in minutes with a 5-10x margin over that run's longest
# jobs. The current figures of each step, peak memory and longest job, are in
# docs/measured-times.md (generated from those files by benchmarks/stage_times.py). Steps
# of a few seconds and under 0.5 GB are declared local (`localrule`): they run inside
# Snakemake, which is quicker than a cluster job's queueing and start.

import tracin_study.sections as sections
from tracin_study.config import RECIPE_SECTIONS, StudySettings
from tracin_study.housing_table import shipped_snapshot
from tracin_study.recipes import CLOSEST, DEFAULT, section_settings
from tracin_study.sections import Section, register

# Every section of the validated config as its settings dataclass, built once; each rule
# hands its step the sections it reads (`<section>.params()`, or a recipe's section file).
SETTINGS = StudySettings.from_config(config)
SEEDS = list(SETTINGS.seeds)
RESULTS = SETTINGS.paths.results
REPORT = SETTINGS.paths.report
TRAINING = SETTINGS.training
ENVIRONMENT = (
    f"{workflow.basedir}/environment.yml"  # for --software-deployment-method conda
)
# The recipes (name -> model seeds): the config's own (`default`), the sweep's choice
# (`closest`) and the sweep's recipes by name. One pipeline runs per recipe.
RECIPE_SEEDS = SETTINGS.recipe_seeds()
SWEEP = SETTINGS.sweep
# The recipes whose influence and claims the study computes (the sweep's are trained only).
STUDIED_RECIPES = [DEFAULT, CLOSEST]
# Every output that `rule all` asks for, each rule file extending it with its own outputs.
STUDY_TARGETS = []
# The sections of report/summary.json (key -> Section): each rule file declares its own
# with `report_section`.
REPORT_SECTIONS = {}


def results(path):
    """`path` inside the results folder (config `paths.results`)."""
    return f"{RESULTS}/{path}"


def report_section(key, function, inputs=None, figure_inputs=None):
    """Declare the section `key` (`tracin_study.sections`) of report/summary.json: the
    function (dotted name) that summarises its `inputs` (name -> path or list of paths),
    and the `figure_inputs` the report's figures read besides summary.json."""
    register(REPORT_SECTIONS, Section(key, function, inputs or {}, figure_inputs or {}))


def log_file(name, job=None):
    """The log of a job of the step `name`; `job` names one of its many jobs ("seed_{seed}")."""
    return results(f"logs/{name}/{job}.log" if job else f"logs/{name}.log")


def benchmark_file(name, job=None):
    """The benchmark table (wall time, peak memory) of a job, named as by `log_file`."""
    return results(f"benchmarks/{name}/{job}.tsv" if job else f"benchmarks/{name}.tsv")


def of_recipe(pattern, recipe=DEFAULT):
    """`pattern` with its `{recipe}` wildcard set to `recipe` (other wildcards kept)."""
    return expand(pattern, recipe=recipe, allow_missing=True)[0]


def recipe_settings(*sections):
    """The files of `sections` of recipe {recipe}'s settings (rule `recipe`), as named
    inputs `<section>_settings`: a step takes only the sections it reads, so that a changed
    setting reruns that step and what follows, not the steps before it."""
    return {
        f"{s}_settings": expand(
            rules.recipe.output.settings, section=s, allow_missing=True
        )[0]
        for s in sections
    }


def closest_selection(wildcards):
    """The sweep's choice (selection.json) for the closest recipe; nothing for the others."""
    return rules.sweep_summary.output.selection if wildcards.recipe == CLOSEST else []


def prepared_data(recipe=None):
    """The prepared-data files that `load_prepared` reads, as named inputs: of the
    `{recipe}` wildcard's recipe, or of `recipe` if given."""
    out = rules.prepare_data.output
    files = {"train": out.train, "test": out.test, "scaler": out.scaler}
    return {k: of_recipe(v, recipe) for k, v in files.items()} if recipe else files


def per_seed(paths):
    """Expand the `{seed}` wildcard of `paths` over the study's seeds (of the default
    recipe where `paths` have a `{recipe}` wildcard)."""
    return expand(paths, seed=SEEDS, recipe=DEFAULT)


def recipe_jobs(pattern, recipe):
    """`pattern` for every model seed of `recipe` (`RECIPE_SEEDS`)."""
    return expand(pattern, recipe=recipe, seed=RECIPE_SEEDS[recipe])


def outputs_of(rule, recipes=None, **wildcards):
    """Every output of `rule` (for `STUDY_TARGETS`): for each of `recipes` with its seeds,
    or expanded over `wildcards` (the study's seeds by default)."""
    if recipes is not None:
        paths = [
            p
            for r in recipes
            for pattern in rule.output
            for p in recipe_jobs(pattern, r)
        ]
    else:
        wildcards = wildcards or {"seed": SEEDS}
        paths = [
            path for pattern in rule.output for path in expand(pattern, **wildcards)
        ]
    return list(dict.fromkeys(paths))


def checkpoint_files(folder, epochs):
    """The files that training writes into `folder`: a `state_dict` per saved epoch and,
    after the first step, Adam's state with it."""
    weights = [f"{folder}/epoch_{epoch:04d}.pt" for epoch in epochs]
    return weights + [
        f"{folder}/epoch_{epoch:04d}.adam.pt" for epoch in epochs if epoch > 0
    ]
