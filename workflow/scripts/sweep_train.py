"""Snakemake script: train one seed with one sweep recipe, keeping the loss curve (with the
recipe and seed) and the final metrics; the checkpoints go to a folder deleted afterwards."""

import json
import tempfile
from pathlib import Path

from tracin_study.config import TrainingConfig
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.provenance import provenance
from tracin_study.runner import start
from tracin_study.training import train_and_evaluate

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
recipe_name, seed = sm.wildcards.recipe, int(sm.wildcards.seed)
recipe = TrainingConfig.from_config(dict(sm.params.items()))
p = load_prepared(PreparedFiles.of(sm.input))
with tempfile.TemporaryDirectory() as checkpoints:
    _, curve, fit = train_and_evaluate(
        p.X_train, p.y_train, p.X_test, p.y_test, recipe, seed, Path(checkpoints)
    )
metrics = {
    "recipe": recipe_name,
    "seed": seed,
    **fit,
    "threads": sm.threads,
    "training": sm.params.training,
    "model": sm.params.model,
    **provenance(sm.config, Path(sm.scriptdir)),
}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
curve.insert(0, "seed", seed)
curve.insert(0, "recipe", recipe_name)
curve.to_csv(sm.output.curve, index=False)
log.info(
    "recipe %s seed %d: explained variance train %.3f, test %.3f in %.0f s",
    recipe_name,
    seed,
    fit["train"]["explained_variance"],
    fit["test"]["explained_variance"],
    fit["wall_seconds"],
)
