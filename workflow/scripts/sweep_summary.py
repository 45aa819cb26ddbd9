"""Snakemake script: every recipe's explained variances over epochs and the (recipe, epoch)
closest to the paper's."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.config import SweepSettings
from tracin_study.experiments.sweep import ev_table, select_closest
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
sweep = SweepSettings.from_params(sm.params.sweep)
jobs = [(recipe, seed) for recipe in sm.params.recipes for seed in sweep.seeds]  # as expanded
curves = [
    pd.read_csv(path).assign(recipe=recipe, seed=seed)
    for (recipe, seed), path in zip(jobs, sm.input.curves, strict=True)
]
table = ev_table(curves)
table.to_csv(sm.output.table, index=False)
selection = select_closest(table, sweep.recipes)
Path(sm.output.selection).write_text(json.dumps(selection, indent=2) + "\n")
log.info(
    "closest to the paper: %s at epoch %d (train %.3f, test %.3f, distance %.3f)",
    selection["recipe"],
    selection["epoch"],
    selection["train_explained_variance"],
    selection["test_explained_variance"],
    selection["distance"],
)
