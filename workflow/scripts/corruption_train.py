"""Snakemake script: corrupt a fraction of the training targets, retrain with the default
recipe, and save the checkpoints and the targets used."""

import json
from pathlib import Path

from tracin_study.config import CorruptionSettings, TrainingSettings, config_hash
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.corruption import train_corrupted
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
cfg = CorruptionSettings.from_params(sm.params.corruption)
prepared = load_prepared(PreparedFiles.of(sm.input))
targets, metrics = train_corrupted(
    prepared,
    TrainingSettings.from_params(sm.params.training),
    int(sm.wildcards.seed),
    cfg.fraction,
    cfg.corruption_seed,
    Path(sm.output.manifest).parent,
)
targets.to_parquet(sm.output.targets, index=False)
metrics |= {
    "threads": sm.threads,
    "corruption": sm.params.corruption,
    **provenance(config_hash(sm.config), Path(sm.scriptdir)),
}
Path(sm.output.metrics).write_text(json.dumps(metrics, indent=2) + "\n")
log.info(
    "read %s; trained in %.1f s; wrote %s, %s, %s",
    sm.input.train,
    metrics["wall_seconds"],
    sm.output.manifest,
    sm.output.targets,
    sm.output.metrics,
)
