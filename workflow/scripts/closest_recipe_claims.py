"""Snakemake script: the claims (without the removal test) on the closest recipe's seeds."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.claims import evaluate_claims
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
seeds = sm.params.seeds
inputs = zip(seeds, sm.input.self_influence, sm.input.proponents, sm.input.metrics, strict=True)
self_influence, proponents, metrics = {}, {}, {}
for seed, self_path, proponents_path, metrics_path in inputs:
    self_influence[seed] = pd.read_parquet(self_path)
    proponents[seed] = pd.read_parquet(proponents_path)
    metrics[seed] = json.loads(Path(metrics_path).read_text())
table, docs, measurements = evaluate_claims(
    self_influence,
    proponents,
    load_prepared(PreparedFiles.of(sm.input)),
    pd.read_csv(sm.input.houses),
    metrics,
    sm.params.report["top_n"],
)
selection = json.loads(Path(sm.input.selection).read_text())
doc = {"selection": selection, "seeds": seeds, "claims": docs}
Path(sm.output.claims).write_text(json.dumps(doc, indent=2) + "\n")
table.to_csv(sm.output.table, index=False)
measurements.to_csv(sm.output.measurements)
log.info(
    "recipe %s at epoch %d, seeds %s: %s",
    selection["recipe"],
    selection["epoch"],
    seeds,
    "; ".join(f"{d['id']}: {d['verdict']}" for d in docs),
)
