"""Snakemake script: for one Adam-trained main model, TracInCP on the paper's checkpoints vs
on every saved checkpoint after training began (all layers), and last layer vs all layers
(paper's checkpoints)."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study.agreement import compare, compare_rows
from tracin_study.checkpoints import read_manifest
from tracin_study.data import TARGET, load_prepared
from tracin_study.geo import nearest_houses
from tracin_study.influence import TracInCP
from tracin_study.provenance import setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("validation_main_models")
torch.set_num_threads(sm.threads)
seed, top_k, place = int(sm.wildcards.seed), sm.params.top_k, sm.params.palo_alto
prepared = load_prepared(Path(sm.input.train).parent)
houses = nearest_houses(prepared.test, place["latitude"], place["longitude"], place["n_houses"])
X_test, y_test = prepared.features(houses), houses[TARGET].to_numpy(np.float64)
manifest = read_manifest(sm.input.manifest)
paper = [c.epoch for c in manifest.select(sm.params.epochs)]
log.info(
    "read %s: %d checkpoints, paper's epochs %s",
    sm.input.manifest,
    len(manifest.checkpoints),
    paper,
)


def tracin(checkpoints, layers):
    engine = TracInCP(
        manifest.build_model(),
        checkpoints,
        layers=layers,
        batch_size=sm.params.batch_size,
        dtype=getattr(torch, sm.params.dtype),
    )
    return engine.compute(prepared.X_train, prepared.y_train, X_test, y_test)


trained = [c for c in manifest.checkpoints if c.epoch > 0]  # the initial model is not a step
every = tracin(trained, "all")
in_paper = np.isin(every.epochs, paper)
variants = {
    "all_layers_paper_checkpoints": (
        every.self_influence[in_paper].sum(0),
        every.influence[in_paper].sum(0),
    ),
    "all_layers_all_checkpoints": (every.self_influence.sum(0), every.influence.sum(0)),
}
last = tracin(manifest.select(sm.params.epochs), "last")
variants["last_layer_paper_checkpoints"] = (last.self_influence.sum(0), last.influence.sum(0))

frames = []
for a, b in (
    ("all_layers_paper_checkpoints", "all_layers_all_checkpoints"),
    ("all_layers_paper_checkpoints", "last_layer_paper_checkpoints"),
):
    (self_a, infl_a), (self_b, infl_b) = variants[a], variants[b]
    own = pd.DataFrame(
        [{"scope": "self_influence", "test_index": pd.NA, **compare(self_a, self_b, top_k)}]
    )
    rows = compare_rows(infl_a, infl_b, top_k, row_ids=houses["test_index"])
    rows = rows.rename(columns={"row": "test_index"})
    rows.insert(0, "scope", np.where(rows["test_index"] >= 0, "test_point", "test_total"))
    frames.append(pd.concat([own, rows], ignore_index=True).assign(variant_a=a, variant_b=b))
comparison = pd.concat(frames, ignore_index=True).assign(seed=seed)
comparison = comparison[
    [
        "seed",
        "variant_a",
        "variant_b",
        "scope",
        "test_index",
        "pearson",
        "spearman",
        "top_k_overlap",
        "k",
    ]
]
comparison.to_csv(sm.output.comparison, index=False)
np.savez_compressed(
    sm.output.scores,
    variants=np.array(list(variants)),
    test_index=houses["test_index"].to_numpy(),
    self_influence=np.stack([v[0] for v in variants.values()]),
    influence=np.stack([v[1] for v in variants.values()]),
)
log.info("wrote %s and %s", sm.output.comparison, sm.output.scores)
