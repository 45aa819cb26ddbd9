"""Snakemake script: retrain one seed of one recipe without each removal set of one chunk
of its plan, and record the Palo Alto test losses of each retraining and the full model."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.config import RemovalSettings, TrainingSettings, config_hash
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.removal import run_chunk, score_matrices, seed_plan
from tracin_study.provenance import provenance
from tracin_study.run_plans import chunk_of
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
seed, chunk = int(sm.wildcards.seed), int(sm.wildcards.chunk)
cfg = RemovalSettings.from_params(sm.params.removal)
prepared = load_prepared(PreparedFiles.of(sm.input))
houses = pd.read_csv(sm.input.houses)
test_index, scores = score_matrices(sm.input.influence)
plan = seed_plan(scores, test_index, prepared, houses, seed, cfg)
rows = chunk_of(plan, chunk, cfg.chunk)
manifest = read_manifest(sm.input.checkpoints)
reference = load_checkpoint(manifest.checkpoints[-1], manifest.build_model())
training = TrainingSettings.read(sm.input.training_settings)
records = run_chunk(rows, prepared, training, reference, test_index)
doc = {
    "recipe": sm.wildcards.recipe,
    "seed": seed,
    "chunk": chunk,
    "records": records,
    "threads": sm.threads,
    **provenance(config_hash(sm.config), Path(sm.scriptdir)),
}
Path(sm.output.records).write_text(json.dumps(doc) + "\n")
log.info(
    "recipe %s seed %d chunk %d: %d of the plan's %d retrainings in %.1f s; wrote %s",
    sm.wildcards.recipe,
    seed,
    chunk,
    len(records),
    len(plan),
    sum(r["wall_seconds"] for r in records),
    sm.output.records,
)
