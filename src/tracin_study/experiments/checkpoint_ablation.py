"""Which checkpoints and layers TracInCP needs, on the Adam-trained main models.

Three variants of the scores of one model: all layers on the paper's checkpoints, all layers
on every checkpoint saved after training began (the initial model is not a step), and the
last layer only on the paper's checkpoints. Each variant holds the self-influence (N,) of
the N training points and the influence (M, N) of each training point on M test points;
the comparisons measure how much the first variant's rankings survive the other two.
"""

import numpy as np
import pandas as pd
import torch

from tracin_study.checkpoints import Manifest
from tracin_study.data import PreparedData
from tracin_study.influence import ALL_TEST_POINTS, TracInCP
from tracin_study.statistics import METRICS, compare, compare_rows, mean_sd

PAPER = "all_layers_paper_checkpoints"
EVERY = "all_layers_all_checkpoints"
LAST_LAYER = "last_layer_paper_checkpoints"
COMPARISONS = ((PAPER, EVERY), (PAPER, LAST_LAYER))
COLUMNS = [
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

Variants = dict[str, tuple[np.ndarray, np.ndarray]]


def variant_scores(
    manifest: Manifest,
    prepared: PreparedData,
    test_index,
    epochs,
    batch_size: int,
    dtype: torch.dtype,
) -> Variants:
    """TracInCP of every training point of `prepared`, on itself and on the test houses at
    positions `test_index` (M,), for the three variants (`PAPER` over the checkpoints of
    `epochs`, `EVERY` over the checkpoints with epoch > 0, `LAST_LAYER`).

    Returns variant name -> (self-influence (N,), influence (M, N)), summed over checkpoints;
    all three come from one engine pass (per-checkpoint and per-layer terms).
    """
    X_test, y_test = prepared.test_points(test_index)
    paper = [c.epoch for c in manifest.select(epochs)]
    engine = TracInCP(
        manifest.build_model(),
        [c for c in manifest.checkpoints if c.epoch > 0],
        batch_size=batch_size,
        dtype=dtype,
    )
    every = engine.compute(prepared.X_train, prepared.y_train, X_test, y_test)
    last = every.layer_names[-1:]
    return {
        PAPER: (every.self_total(paper), every.influence_total(paper)),
        EVERY: (every.self_total(), every.influence_total()),
        LAST_LAYER: (every.self_total(paper, last), every.influence_total(paper, last)),
    }


def compare_variants(
    variants: Variants, test_index, top_k: int, seed: int, pairs=COMPARISONS
) -> pd.DataFrame:
    """Agreement (`compare`) of each pair (variant_a, variant_b) of `variants`.

    Per pair, one row per scope: `self_influence` (test_index <NA>), `test_point` (one per
    test house, test_index from `test_index` (M,)) and `test_total` (the summed test loss,
    test_index `ALL_TEST_POINTS`). Columns `COLUMNS`.
    """
    frames = []
    for a, b in pairs:
        (self_a, infl_a), (self_b, infl_b) = variants[a], variants[b]
        own = pd.DataFrame(
            [{"scope": "self_influence", "test_index": pd.NA, **compare(self_a, self_b, top_k)}]
        )
        rows = compare_rows(infl_a, infl_b, top_k, row_ids=test_index)
        rows = rows.rename(columns={"row": "test_index"})
        rows.insert(
            0, "scope", np.where(rows["test_index"] != ALL_TEST_POINTS, "test_point", "test_total")
        )
        frames.append(pd.concat([own, rows], ignore_index=True).assign(variant_a=a, variant_b=b))
    return pd.concat(frames, ignore_index=True).assign(seed=seed)[COLUMNS]


def save_variants(path, variants: Variants, test_index) -> None:
    """The scores as a compressed .npz: `variants` (V,) names, `test_index` (M,),
    `self_influence` (V, N) and `influence` (V, M, N)."""
    np.savez_compressed(
        path,
        variants=np.array(list(variants)),
        test_index=np.asarray(test_index),
        self_influence=np.stack([v[0] for v in variants.values()]),
        influence=np.stack([v[1] for v in variants.values()]),
    )


def summarise_over_seeds(comparison: pd.DataFrame) -> pd.DataFrame:
    """Mean ± sd over seeds of the `compare_variants` tables of all seeds, concatenated; the
    test points are averaged within each seed first. Columns variant_a, variant_b, scope,
    metric, mean, sd, n."""
    keys = ["variant_a", "variant_b", "scope"]
    per_seed = comparison.groupby(["seed", *keys], sort=False)[list(METRICS)].mean()
    return mean_sd(per_seed.reset_index(), keys)
