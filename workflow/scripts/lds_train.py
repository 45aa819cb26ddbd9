"""Snakemake script: one chunk of an LDS's retrainings (model seed, protocol, subset) and
each query house's loss after each."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.config import LdsSettings, TrainingSettings, config_hash
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.lds import query_houses, run_retrainings
from tracin_study.provenance import provenance
from tracin_study.run_plans import chunk_of, lds_retrainings
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
chunk = int(sm.wildcards.chunk)
cfg = LdsSettings.from_params(sm.params.lds)
prepared = load_prepared(PreparedFiles.of(sm.input))
palo_alto = pd.read_csv(sm.input.houses)["test_index"]
queries = query_houses(len(prepared.test), palo_alto, cfg.n_queries, cfg.query_seed)
retrainings = chunk_of(lds_retrainings(cfg), chunk, cfg.chunk)
training = TrainingSettings.read(sm.input.training_settings)
records = run_retrainings(retrainings, prepared, queries, training, cfg)
doc = {
    "recipe": sm.wildcards.recipe,
    "chunk": chunk,
    "records": records,
    "threads": sm.threads,
    **provenance(config_hash(sm.config), Path(sm.scriptdir)),
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
