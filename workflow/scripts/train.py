"""Snakemake script: train one seed, writing checkpoints, manifest, metrics and loss curve."""

import json
from pathlib import Path

from tracin_study.config import TrainingConfig
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.provenance import provenance
from tracin_study.runner import start
from tracin_study.training import train_and_evaluate

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
seed = int(sm.wildcards.seed)
recipe = TrainingConfig.from_config(dict(sm.params.items()))
p = load_prepared(PreparedFiles.of(sm.input))
model, curve, fit = train_and_evaluate(
    p.X_train, p.y_train, p.X_test, p.y_test, recipe, seed, Path(sm.output.manifest).parent
)
metrics = {
    "seed": seed,
    **fit,
    "threads": sm.threads,
    "training": sm.params.training,
    "model": sm.params.model,
    **provenance(sm.config, Path(sm.scriptdir)),
}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
curve.to_csv(sm.output.curve, index=False)
log.info(
    "explained variance: train %.3f, test %.3f; wrote %s, %s, %s",
    fit["train"]["explained_variance"],
    fit["test"]["explained_variance"],
    sm.output.manifest,
    sm.output.metrics,
    sm.output.curve,
)
