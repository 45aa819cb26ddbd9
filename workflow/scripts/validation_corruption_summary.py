"""Snakemake script: detection of corrupted targets, mean ± sd over seeds, and the figure."""

import json
import logging
from pathlib import Path

import pandas as pd

from tracin_study import plots
from tracin_study.agreement import mean_sd
from tracin_study.provenance import provenance, setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("validation_corruption_summary")
detection = pd.concat([pd.read_csv(p) for p in sm.input.detection], ignore_index=True)
curves = pd.concat([pd.read_csv(p) for p in sm.input.curves], ignore_index=True)
log.info("read detection tables and curves of %d seeds", detection["seed"].nunique())


def finite(value) -> float | None:
    """A float for JSON, None for NaN (e.g. the sd of a single seed)."""
    return None if pd.isna(value) else float(value)


metrics = [c for c in detection.columns if c not in ("score", "seed")]
summary = mean_sd(detection, ["score"], metrics)
summary.to_csv(sm.output.summary, index=False)
doc = {
    "seeds": sorted(detection["seed"].unique().tolist()),
    "corruption": sm.params.corruption,
    "scores": {
        score: {
            r["metric"]: {"mean": finite(r["mean"]), "sd": finite(r["sd"]), "n": int(r["n"])}
            for _, r in g.iterrows()
        }
        for score, g in summary.groupby("score", sort=False)
    },
    **provenance(sm.config, Path(sm.scriptdir)),
}
Path(sm.output.summary_json).write_text(json.dumps(doc, indent=2) + "\n")
plots.save(plots.detection_curves(curves), sm.output.figure)
log.info("wrote %s, %s, %s", sm.output.summary, sm.output.summary_json, sm.output.figure)
