"""Snakemake script: train one seed of one recipe, writing checkpoints with their manifest,
metrics and loss curve."""

import json
from pathlib import Path

from tracin_study.config import TrainingSettings, config_hash
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.provenance import provenance
from tracin_study.runner import start
from tracin_study.training import train_and_evaluate

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
seed = int(sm.wildcards.seed)
training = TrainingSettings.read(sm.input.training_settings)
p = load_prepared(PreparedFiles.of(sm.input))
_, curve, fit = train_and_evaluate(
    p.X_train, p.y_train, p.X_test, p.y_test, training, seed, Path(sm.output.checkpoints)
)
metrics = {
    "recipe": sm.wildcards.recipe,
    "seed": seed,
    **fit,
    "threads": sm.threads,
    **{key: training.params()[key] for key in ("training", "model")},
    **provenance(config_hash(sm.config), Path(sm.scriptdir)),
}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
curve.to_csv(sm.output.curve, index=False)
log.info(
    "recipe %s seed %d, %d epochs: explained variance train %.3f, test %.3f; wrote %s",
    sm.wildcards.recipe,
    seed,
    training.epochs,
    fit["train"]["explained_variance"],
    fit["test"]["explained_variance"],
    sm.output.checkpoints,
)
