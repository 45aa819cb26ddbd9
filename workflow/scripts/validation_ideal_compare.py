"""Snakemake script: TracInIdeal vs first-order TracIn vs TracInCP on k checkpoints."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study import plots
from tracin_study.agreement import compare_rows, mean_sd
from tracin_study.checkpoints import read_manifest
from tracin_study.data import load_prepared
from tracin_study.ideal import evenly_spaced, per_pair
from tracin_study.influence import TracInCP
from tracin_study.provenance import setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("validation_ideal_compare")
torch.set_num_threads(sm.threads)
steps = np.load(sm.input.steps)
manifest = read_manifest(sm.input.manifest)
prepared = load_prepared(Path(sm.input.train).parent)
train_index, test_index = steps["train_index"], steps["test_index"]
X_train, y_train = prepared.X_train[train_index], prepared.y_train[train_index]
X_test, y_test = prepared.X_test[test_index], prepared.y_test[test_index]
log.info(
    "read %s and %d checkpoints from %s",
    sm.input.steps,
    len(manifest.checkpoints),
    sm.input.manifest,
)

n_saved = len(manifest.checkpoints)
counts = sorted({*sm.params.checkpoint_counts, n_saved})
tracin = TracInCP(manifest.build_model(), manifest.checkpoints, batch_size=sm.params.batch_size)
per_checkpoint = tracin.influence(X_test, y_test, X_train, y_train)  # (K, M, N)
scores = {
    "ideal": per_pair(steps["step_train_position"], steps["exact"], len(train_index)),
    "first_order": per_pair(steps["step_train_position"], steps["first_order"], len(train_index)),
}
tracin_cp = {k: per_checkpoint[evenly_spaced(n_saved, k)].sum(0) for k in counts}

frames = []
for reference in ("ideal", "first_order"):
    methods = [("first_order", np.nan, scores["first_order"])] if reference == "ideal" else []
    methods += [("tracin_cp", k, s) for k, s in tracin_cp.items()]
    for method, k, s in methods:
        table = compare_rows(scores[reference], s, sm.params.top_k, row_ids=test_index)
        frames.append(table.assign(reference=reference, method=method, checkpoints=k))
comparison = pd.concat(frames, ignore_index=True).rename(columns={"row": "test_index"})
comparison = comparison[
    [
        "reference",
        "method",
        "checkpoints",
        "test_index",
        "pearson",
        "spearman",
        "top_k_overlap",
        "k",
    ]
]
comparison["checkpoints"] = comparison["checkpoints"].astype("Int64")  # missing: first order
per_point = comparison[comparison["test_index"] >= 0]
summary = mean_sd(per_point, ["reference", "method", "checkpoints"])

np.savez_compressed(
    sm.output.scores,
    train_index=train_index,
    test_index=test_index,
    ideal=scores["ideal"],
    first_order=scores["first_order"],
    checkpoint_counts=np.array(counts),
    tracin_cp=np.stack([tracin_cp[k] for k in counts]),
)
comparison.to_csv(sm.output.comparison, index=False)
summary.to_csv(sm.output.summary, index=False)
plots.save(plots.correlation_vs_k(summary[summary["reference"] == "ideal"]), sm.output.figure)
log.info(
    "wrote %s, %s, %s, %s",
    sm.output.scores,
    sm.output.comparison,
    sm.output.summary,
    sm.output.figure,
)
