"""Snakemake script: the removal test on one recipe (noise per protocol, removal curves,
verdicts with their smallest detectable effect) as summary.json and CSV tables."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.config import RemovalSettings
from tracin_study.experiments.removal_verdicts import summary
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
cfg = RemovalSettings.from_params(sm.params.removal)
records = [r for p in sm.input.records for r in json.loads(Path(p).read_text())["records"]]
doc = {
    "recipe": sm.wildcards.recipe,
    "protocol": cfg.protocol,
    "seeds": list(cfg.seeds),
    "k": list(cfg.k),
    "sets": list(cfg.sets),
    "scores": sorted({r["score"] for r in records} - {""}),
    "random_draws": cfg.random_draws,
    "n_retrainings": len(records),
    **summary(records),
}
Path(sm.output.summary).write_text(json.dumps(doc, indent=2) + "\n")
for key in ("noise", "curves", "verdicts"):
    pd.DataFrame(doc[key]).to_csv(sm.output[key], index=False)
log.info(
    "recipe %s: %d retrainings; verdicts %s; wrote %s",
    sm.wildcards.recipe,
    len(records),
    pd.Series([v["verdict"] for v in doc["verdicts"]]).value_counts().to_dict(),
    ", ".join(sm.output),
)
