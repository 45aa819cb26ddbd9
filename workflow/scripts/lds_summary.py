"""Snakemake script: the LDS per scoring method and Palo Alto test house, and per method."""

import json
from pathlib import Path

import numpy as np

from tracin_study.experiments.lds import lds_by_method, lds_per_house, summary_doc
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
records = [json.loads(Path(p).read_text()) for p in sm.input.records]
arrays = np.load(sm.input.scores)
per_house = lds_per_house(
    arrays["scores"], arrays["methods"].tolist(), arrays["test_index"].tolist(), records
)
by_method = lds_by_method(per_house)
per_house.to_csv(sm.output.per_house, index=False)
by_method.to_csv(sm.output.by_method)
summary = summary_doc(by_method, records)
Path(sm.output.summary).write_text(json.dumps(summary, indent=2) + "\n")
log.info(
    "LDS over %d subsets: %s; wrote %s", len(records), summary["methods"], ", ".join(sm.output)
)
