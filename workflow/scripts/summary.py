"""Snakemake script: report/summary.json, every section from a function of
tracin_study.summary applied to the rule's inputs (the removal and LDS summaries are
included as they are, under `removal` and `lds`, when the rule has them)."""

import json
from pathlib import Path

import pandas as pd

from tracin_study import claims, paper, summary
from tracin_study.checkpoints import read_manifest
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.provenance import git_commit, seconds_since
from tracin_study.runner import start

COUNTERFACTUAL = {  # summary key -> the rule's inputs it holds, when present
    "removal": ("removal_summary_default", "removal_summary_closest"),
    "lds": ("lds_summary_closest",),
}


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())


sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
seeds, config, top_n = sm.params.seeds, sm.params.config, sm.params.config["report"]["top_n"]
inputs = sm.input


def per_seed(paths, read) -> dict:
    return {s: read(p) for s, p in zip(seeds, paths, strict=True)}


prepared = load_prepared(PreparedFiles.of(inputs))
houses = pd.read_csv(inputs.houses)
fits = per_seed(inputs.metrics, read_json)
self_influence = per_seed(inputs.self_influence, pd.read_parquet)
proponents = per_seed(inputs.proponents, pd.read_parquet)
measurements = pd.read_csv(inputs.measurements, index_col="seed")
manifest = read_manifest(Path(inputs.example_checkpoints[0]) / "manifest.json")
check = summary.engine_check(
    manifest,
    config["influence"]["epochs"],
    prepared.X_train,
    prepared.y_train,
    self_influence[seeds[0]]["self_influence"].to_numpy(),
)
predictions = {seeds[0]: summary.final_predictions(manifest, prepared.features(houses))}
doc = {
    "provenance": summary.provenance(
        git_commit(Path(sm.scriptdir)),
        config,
        seeds,
        read_json(inputs.source),
        seconds_since(Path(inputs.source)),
    ),
    "claims": read_json(inputs.claims_raw)["claims"],
    "paper_facts": [vars(fact) for fact in paper.FACTS],
    "claims_adam": read_json(inputs.claims_adam)["claims"],
    "worked_example": summary.worked_example(seeds[0], check),
    "model_quality": summary.model_quality(fits),
    "self_influence_vs_loss": summary.records(claims.correlation_summary(measurements)),
    "palo_alto_per_house": summary.palo_alto_per_house(
        houses, proponents, prepared.train, predictions
    ),
    "self_influence_geography": summary.geography(self_influence[seeds[0]], top_n),
    "proponent_prices": summary.records(claims.price_summary(measurements)),
    "stability": summary.stability(summary.stability_matrices(self_influence, proponents, top_n)),
    "approximation_chain": summary.approximation_chain(pd.read_csv(inputs.approximation_chain)),
    "checkpoint_ablation": pd.read_csv(inputs.checkpoint_ablation).to_dict(orient="records"),
    "corruption_detection": summary.corruption_detection(
        read_json(inputs.corruption_json), [pd.read_csv(p) for p in inputs.corruption_recall]
    ),
    "recipe_sweep": summary.recipe_sweep(
        pd.read_csv(inputs.sweep_table),
        read_json(inputs.sweep_selection),
        read_json(inputs.closest_recipe_claims),
    ),
}
for key, names in COUNTERFACTUAL.items():
    present = {name: read_json(inputs[name]) for name in names if name in inputs.keys()}
    if present:
        doc[key] = present
Path(sm.output.summary).write_text(json.dumps(doc, indent=2, default=float) + "\n")
log.info("wrote %s with sections %s", sm.output.summary, list(doc))
