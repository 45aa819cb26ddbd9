"""Snakemake script: main-model comparisons, mean ± sd over seeds (test points averaged
within each seed first)."""

import logging

import pandas as pd

from tracin_study.agreement import METRICS, mean_sd
from tracin_study.provenance import setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("validation_main_models_summary")
frame = pd.concat([pd.read_csv(path) for path in sm.input.comparison], ignore_index=True)
log.info("read %d comparison tables", len(sm.input.comparison))
keys = ["variant_a", "variant_b", "scope"]
per_seed = frame.groupby(["seed", *keys], sort=False)[list(METRICS)].mean().reset_index()
summary = mean_sd(per_seed, keys)
summary.to_csv(sm.output.summary, index=False)
log.info("wrote %s", sm.output.summary)
