"""Snakemake script: train one seed with the closest recipe for the selected number of
epochs, saving the checkpoints TracInCP sums over, the metrics and the loss curve."""

import json
from pathlib import Path

from tracin_study.config import TrainingConfig
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.sweep import recipe_section, rerun_training
from tracin_study.provenance import provenance
from tracin_study.runner import start
from tracin_study.training import train_and_evaluate

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
seed = int(sm.wildcards.seed)
selection = json.loads(Path(sm.input.selection).read_text())
training = recipe_section("training", sm.params.training, selection["overrides"])
recipe = TrainingConfig.from_config({"model": sm.params.model, "training": training})
recipe = rerun_training(recipe, selection["epoch"])
p = load_prepared(PreparedFiles.of(sm.input))
_, curve, fit = train_and_evaluate(
    p.X_train, p.y_train, p.X_test, p.y_test, recipe, seed, Path(sm.output.checkpoints)
)
metrics = {
    "recipe": selection["recipe"],
    "seed": seed,
    **fit,
    "threads": sm.threads,
    "training": {**training, "epochs": recipe.epochs, "checkpoint_every": recipe.checkpoint_every},
    "model": sm.params.model,
    **provenance(sm.config, Path(sm.scriptdir)),
}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
curve.to_csv(sm.output.curve, index=False)
log.info(
    "recipe %s seed %d, %d epochs: explained variance train %.3f, test %.3f",
    selection["recipe"],
    seed,
    recipe.epochs,
    fit["train"]["explained_variance"],
    fit["test"]["explained_variance"],
)
