"""Snakemake script: the paper's claims measured and judged on every seed of one recipe,
under the raw or the Adam-preconditioned score."""

import json
from pathlib import Path

import pandas as pd

from tracin_study.claims import evaluate_claims, evaluate_claims_adam
from tracin_study.config import ReportSettings
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
recipe, score, seeds = sm.wildcards.recipe, sm.wildcards.score, sm.params.seeds
inputs = zip(seeds, sm.input.self_influence, sm.input.proponents, sm.input.metrics, strict=True)
self_influence, proponents, metrics = {}, {}, {}
for seed, self_path, proponents_path, metrics_path in inputs:
    self_influence[seed] = pd.read_parquet(self_path)
    proponents[seed] = pd.read_parquet(proponents_path)
    metrics[seed] = json.loads(Path(metrics_path).read_text())
common = (
    self_influence,
    proponents,
    load_prepared(PreparedFiles.of(sm.input)),
    pd.read_csv(sm.input.houses),
    metrics,
    ReportSettings.from_params(sm.params.report).top_n,
)
removal = json.loads(Path(sm.input.removal).read_text()) if sm.input.removal else None
if score == "adam":
    table, docs, measurements = evaluate_claims_adam(*common, removal)
else:
    table, docs, measurements = evaluate_claims(*common, removal)
doc = {"recipe": recipe, "score": score, "seeds": seeds, "claims": docs}
if sm.input.selection:  # the closest recipe's
    doc["selection"] = json.loads(Path(sm.input.selection).read_text())
Path(sm.output.claims).write_text(json.dumps(doc, indent=2) + "\n")
table.to_csv(sm.output.table, index=False)
measurements.to_csv(sm.output.measurements)
log.info(
    "recipe %s, %s score, seeds %s: %s",
    recipe,
    score,
    seeds,
    "; ".join(f"{d['id']}: {d['verdict']}" for d in docs),
)
