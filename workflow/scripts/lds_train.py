"""Snakemake script: retrain model lds.seed's recipe on one training subset and record the
Palo Alto test losses."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.config import LdsConfig, TrainingConfig
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.lds import lds_subset, subset_record
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
m = int(sm.wildcards.subset)
cfg = LdsConfig.from_params(sm.params.lds)
prepared = load_prepared(PreparedFiles.of(sm.input))
houses = pd.read_csv(sm.input.houses)
kept = lds_subset(len(prepared.train), cfg.fraction, cfg.subset_seed, m)
recipe = TrainingConfig.from_config(dict(sm.params.items()))
record = subset_record(m, kept, prepared, houses, recipe, cfg.seed)
record |= {"threads": sm.threads, **provenance(sm.config, Path(sm.scriptdir))}
Path(sm.output.record).write_text(json.dumps(record, indent=2) + "\n")
log.info(
    "seed %d on subset %d (%d houses): summed Palo Alto loss %.4f in %.1f s; wrote %s",
    cfg.seed,
    m,
    len(kept),
    sum(record["loss"]),
    record["wall_seconds"],
    sm.output.record,
)
