"""Snakemake script: the LDS on one recipe, per score with its bootstrap interval, the
paired differences and the noise ceiling (summary.json), and per query (CSV)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tracin_study.config import LdsSettings
from tracin_study.experiments.lds import summary
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
cfg = LdsSettings.from_params(sm.params.lds)
records = [r for p in sm.input.records for r in json.loads(Path(p).read_text())["records"]]
arrays = np.load(sm.input.scores)
if records[0]["test_index"] != arrays["test_index"].tolist():
    raise ValueError(
        f"{sm.input.scores} scores other query houses than the retrainings; rerun lds_scores"
    )
palo_alto = pd.read_csv(sm.input.houses)["test_index"]
doc, table = summary(arrays["scores"], arrays["methods"].tolist(), records, cfg, palo_alto)
doc = {"recipe": sm.wildcards.recipe, **doc}
Path(sm.output.summary).write_text(json.dumps(doc, indent=2) + "\n")
table.to_csv(sm.output.per_query, index=False)
log.info(
    "recipe %s: mean LDS %s over %d queries and %d subsets, ceiling %.3f; wrote %s",
    sm.wildcards.recipe,
    {m: round(v["mean"], 3) for m, v in doc["methods"].items()},
    doc["n_queries"],
    doc["n_subsets"],
    doc["noise_ceiling"]["mean"],
    ", ".join(sm.output),
)
