"""Snakemake script: main-model comparisons, mean ± sd over seeds (test points averaged
within each seed first)."""

import pandas as pd

from tracin_study.experiments.checkpoint_ablation import summarise_over_seeds
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
frame = pd.concat([pd.read_csv(path) for path in sm.input.comparison], ignore_index=True)
log.info("read %d comparison tables", len(sm.input.comparison))
summarise_over_seeds(frame).to_csv(sm.output.summary, index=False)
log.info("wrote %s", sm.output.summary)
