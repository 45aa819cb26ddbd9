"""Snakemake script: detection of corrupted targets, mean ± sd over seeds, and the figure."""

import json
from pathlib import Path

import pandas as pd

from tracin_study import plots
from tracin_study.config import CorruptionSettings, config_hash
from tracin_study.experiments.corruption import summarise_detection
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
detection = pd.concat([pd.read_csv(p) for p in sm.input.detection], ignore_index=True)
curves = pd.concat([pd.read_csv(p) for p in sm.input.curves], ignore_index=True)
log.info("read detection tables and curves of %d seeds", detection["seed"].nunique())
corruption = CorruptionSettings.from_params(sm.params.corruption)
summary, doc = summarise_detection(detection, corruption)
summary.to_csv(sm.output.summary, index=False)
doc |= provenance(config_hash(sm.config), Path(sm.scriptdir))
Path(sm.output.summary_json).write_text(json.dumps(doc, indent=2) + "\n")
plots.save(plots.detection_curves(curves), sm.output.figure)
log.info("wrote %s, %s, %s", sm.output.summary, sm.output.summary_json, sm.output.figure)
