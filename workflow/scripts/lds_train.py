"""Snakemake script: one chunk of an LDS's retrainings (model seed, protocol, subset) and
each query house's loss after each."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.config import LdsConfig, TrainingConfig
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.lds import query_houses, run_retrainings
from tracin_study.plan import lds_retrainings, read_section
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
chunk = int(sm.wildcards.chunk)
cfg = LdsConfig.from_params(sm.params.lds)
prepared = load_prepared(PreparedFiles.of(sm.input))
palo_alto = pd.read_csv(sm.input.houses)["test_index"]
queries = query_houses(len(prepared.test), palo_alto, cfg.n_queries, cfg.query_seed)
retrainings = lds_retrainings(sm.params.lds)[chunk * cfg.chunk : (chunk + 1) * cfg.chunk]
recipe = TrainingConfig.from_config(read_section(sm.input.training_settings))
records = run_retrainings(retrainings, prepared, queries, recipe, cfg)
doc = {
    "recipe": sm.wildcards.recipe,
    "chunk": chunk,
    "records": records,
    "threads": sm.threads,
    **provenance(sm.config, Path(sm.scriptdir)),
}
Path(sm.output.records).write_text(json.dumps(doc) + "\n")
log.info(
    "recipe %s chunk %d: %d retrainings in %.1f s; wrote %s",
    sm.wildcards.recipe,
    chunk,
    len(records),
    sum(r["wall_seconds"] for r in records),
    sm.output.records,
)
