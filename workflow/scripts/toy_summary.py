"""Snakemake script: the toy experiment's per-seed mean self-influence."""

import pandas as pd

from tracin_study.experiments.toy import mean_self_influence
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
tables = {s: pd.read_parquet(p) for s, p in zip(sm.params.seeds, sm.input.self_influence)}
mean_self_influence(tables).to_csv(sm.output.summary)
log.info("wrote %s", sm.output.summary)
