"""Snakemake script: per-house loss changes and per-seed removal effects."""

import json
from pathlib import Path

from tracin_study.experiments.removal import per_house_changes, removal_effects
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
records = [json.loads(Path(p).read_text()) for p in sm.input.records]
per_house_changes(records).to_csv(sm.output.per_house, index=False)
effects = removal_effects(records)
effects.to_csv(sm.output.effects)
log.info(
    "%d records over seeds %s; wrote %s, %s",
    len(records),
    effects.index.tolist(),
    sm.output.per_house,
    sm.output.effects,
)
