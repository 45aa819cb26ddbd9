"""The approximation chain (Pruthi et al., 2020, section 3.1): TracInIdeal, first-order
TracIn and TracInCP on k of the saved checkpoints, from ideal runs of the recorder
(`tracin_study.ideal`) on a subsample of the training split, compared score by score.

`record_ideal` and `record_ideal_adam` run the recorder on the study's data and settings;
`approximation_chain` turns a run and its checkpoints into the scores; `ApproximationChain.
comparison`, `adam_comparison` and `summarise_comparison` compare them.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study.checkpoints import Manifest
from tracin_study.config import ApproximationChainSettings
from tracin_study.data import PreparedData
from tracin_study.ideal import per_pair, record_adam, train_ideal
from tracin_study.influence import ALL_TEST_POINTS, TracInCP
from tracin_study.model import build_mlp
from tracin_study.statistics import compare_rows, mean_sd

log = logging.getLogger(__name__)

COMPARISON_COLUMNS = [
    "optimizer",
    "reference",
    "method",
    "checkpoints",
    "test_index",
    "pearson",
    "spearman",
    "top_k_overlap",
    "k",
]


def evenly_spaced(n_saved: int, k: int) -> np.ndarray:
    """Positions of k of n_saved checkpoints, evenly spaced and ending with the last, as the
    paper's every-20th-epoch choice: k = 1 gives the last, k = n_saved all of them."""
    if not 1 <= k <= n_saved:
        raise ValueError(f"cannot choose k={k} checkpoints out of {n_saved} saved")
    return np.array([(j + 1) * n_saved // k - 1 for j in range(k)])


def subsample(n_total: int, n: int, seed: int) -> np.ndarray:
    """Sorted positions (n,) of n of n_total training points, drawn without replacement by
    `np.random.default_rng(seed)`."""
    if n > n_total:
        raise ValueError(
            f"experiments.approximation_chain.n_train={n} exceeds the {n_total} training rows"
        )
    return np.sort(np.random.default_rng(seed).choice(n_total, n, replace=False))


def record_ideal(
    prepared: PreparedData,
    test_index,
    hidden,
    chain: ApproximationChainSettings,
    checkpoint_dir: Path,
) -> dict:
    """The ideal SGD run of `train_ideal` on a subsample of the training split, recorded
    against the test houses at positions `test_index` (M,).

    chain: the run's subsample (n_train, subsample_seed), learning_rate, epochs, seed
    and checkpoint_every_steps. Returns the arrays of `steps.npz`:
    `train_index` (N,) the subsample, `test_index` (M,), `step_train_position` (T,) the
    subsample position used at each step, `exact` and `first_order` (T, M), `test_loss`
    (T + 1, M), with T = epochs x N. The wall time is logged, not returned, so that equal runs
    give equal files.
    """
    train_index = subsample(len(prepared.train), chain.n_train, chain.subsample_seed)
    X_test, y_test = prepared.test_points(test_index)
    log.info(
        "%d of %d training points, %d test points",
        len(train_index),
        len(prepared.train),
        len(X_test),
    )
    start = time.perf_counter()
    run = train_ideal(
        prepared.X_train[train_index],
        prepared.y_train[train_index],
        X_test,
        y_test,
        hidden,
        chain.learning_rate,
        chain.epochs,
        chain.seed,
        checkpoint_dir,
        chain.checkpoint_every_steps,
    )
    seconds = time.perf_counter() - start
    log.info(
        "%d SGD steps in %.1f s, test loss %.4f -> %.4f, %d checkpoints",
        len(run.train_index),
        seconds,
        run.test_loss[0].mean(),
        run.test_loss[-1].mean(),
        len(run.checkpoints),
    )
    return {
        "train_index": train_index,
        "test_index": np.asarray(test_index),
        "step_train_position": run.train_index,
        "exact": run.exact,
        "first_order": run.first_order,
        "test_loss": run.test_loss,
    }


def record_ideal_adam(
    prepared: PreparedData, test_index, hidden, chain: ApproximationChainSettings
) -> dict:
    """As `record_ideal`, on the same subsample, initial weights and visiting order, but with
    Adam steps at beta1 = 0 (`record_adam`) and no checkpoints.

    chain: the run's settings as for `record_ideal`; its `adam` settings give
    learning_rate, beta2 and eps. Returns the arrays of `adam_steps.npz`: those of
    `record_ideal` and `first_order_raw` (T, M); `first_order` is the preconditioned
    estimate.
    """
    adam = chain.adam
    train_index = subsample(len(prepared.train), chain.n_train, chain.subsample_seed)
    X_test, y_test = prepared.test_points(test_index)
    torch.manual_seed(chain.seed)
    model = build_mlp(int(prepared.X_train.shape[1]), [int(h) for h in hidden])
    start = time.perf_counter()
    run = record_adam(
        model,
        prepared.X_train[train_index],
        prepared.y_train[train_index],
        X_test,
        y_test,
        adam.learning_rate,
        adam.beta2,
        adam.eps,
        chain.epochs,
        chain.seed,
    )
    log.info(
        "%d Adam steps (beta1 = 0) in %.1f s, test loss %.4f -> %.4f",
        len(run.train_index),
        time.perf_counter() - start,
        run.test_loss[0].mean(),
        run.test_loss[-1].mean(),
    )
    return {
        "train_index": train_index,
        "test_index": np.asarray(test_index),
        "step_train_position": run.train_index,
        "exact": run.exact,
        "first_order": run.first_order,
        "first_order_raw": run.first_order_raw,
        "test_loss": run.test_loss,
    }


def adam_comparison(steps, top_k: int) -> pd.DataFrame:
    """`compare_rows` of Adam-preconditioned (`first_order_adam`) and raw
    (`first_order_raw`) first-order TracIn against TracInIdeal of an Adam run (`steps`: the
    arrays of `record_ideal_adam`), in the columns of `ApproximationChain.comparison` with
    optimizer "adam"."""
    position, n = steps["step_train_position"], len(steps["train_index"])
    ideal = per_pair(position, steps["exact"], n)
    frames = [
        compare_rows(
            ideal, per_pair(position, steps[key], n), top_k, row_ids=steps["test_index"]
        ).assign(method=method)
        for method, key in (
            ("first_order_adam", "first_order"),
            ("first_order_raw", "first_order_raw"),
        )
    ]
    table = pd.concat(frames, ignore_index=True).rename(columns={"row": "test_index"})
    table = table.assign(optimizer="adam", reference="ideal", checkpoints=pd.NA)
    table["checkpoints"] = table["checkpoints"].astype("Int64")
    return table[COMPARISON_COLUMNS]


@dataclass(frozen=True)
class ApproximationChain:
    """TracInIdeal, first-order TracIn and TracInCP on k evenly spaced checkpoints, for the
    M test points and N training points of an ideal run.

    train_index (N,), test_index (M,): positions in the training and test split.
    ideal, first_order: (M, N). checkpoint_counts: (C,) the k's, ascending.
    tracin_cp: (C, M, N), TracInCP on `evenly_spaced(K, k)` of the K saved checkpoints.
    """

    train_index: np.ndarray
    test_index: np.ndarray
    ideal: np.ndarray
    first_order: np.ndarray
    checkpoint_counts: np.ndarray
    tracin_cp: np.ndarray

    def comparison(self, top_k: int) -> pd.DataFrame:
        """`compare_rows` of first order and each TracInCP against TracInIdeal, and of each
        TracInCP against first order: columns optimizer ("sgd"), reference, method,
        checkpoints (<NA> for first order), test_index (`ALL_TEST_POINTS`: the summed test
        loss), pearson, spearman, top_k_overlap, k."""
        frames = []
        for reference in ("ideal", "first_order"):
            methods = [("first_order", np.nan, self.first_order)] if reference == "ideal" else []
            methods += [
                ("tracin_cp", k, s)
                for k, s in zip(self.checkpoint_counts.tolist(), self.tracin_cp, strict=True)
            ]
            for method, k, s in methods:
                table = compare_rows(getattr(self, reference), s, top_k, row_ids=self.test_index)
                frames.append(table.assign(reference=reference, method=method, checkpoints=k))
        comparison = pd.concat(frames, ignore_index=True).rename(columns={"row": "test_index"})
        comparison["optimizer"] = "sgd"
        comparison["checkpoints"] = comparison["checkpoints"].astype("Int64")
        return comparison[COMPARISON_COLUMNS]

    def save_arrays(self, path: Path) -> None:
        """All score arrays as a compressed .npz, under the field names."""
        np.savez_compressed(
            path,
            train_index=self.train_index,
            test_index=self.test_index,
            ideal=self.ideal,
            first_order=self.first_order,
            checkpoint_counts=self.checkpoint_counts,
            tracin_cp=self.tracin_cp,
        )


def approximation_chain(
    steps, manifest: Manifest, prepared: PreparedData, checkpoint_counts, batch_size: int
) -> ApproximationChain:
    """Scores of the approximation chain from an ideal run (`steps`: the arrays written by
    `record_ideal`) and its checkpoints (`manifest`); every k in `checkpoint_counts` and the
    number of saved checkpoints K give a TracInCP variant."""
    train_index, test_index = steps["train_index"], steps["test_index"]
    X_train, y_train = prepared.X_train[train_index], prepared.y_train[train_index]
    X_test, y_test = prepared.X_test[test_index], prepared.y_test[test_index]
    n_saved = len(manifest.checkpoints)
    counts = sorted({*checkpoint_counts, n_saved})
    tracin = TracInCP(manifest.build_model(), manifest.checkpoints, batch_size=batch_size)
    per_checkpoint = tracin.influence(X_train, y_train, X_test, y_test)  # (K, M, N)
    position = steps["step_train_position"]
    return ApproximationChain(
        train_index=train_index,
        test_index=test_index,
        ideal=per_pair(position, steps["exact"], len(train_index)),
        first_order=per_pair(position, steps["first_order"], len(train_index)),
        checkpoint_counts=np.array(counts),
        tracin_cp=np.stack([per_checkpoint[evenly_spaced(n_saved, k)].sum(0) for k in counts]),
    )


def summarise_comparison(comparison: pd.DataFrame) -> pd.DataFrame:
    """`mean_sd` over the test points (the summed-loss rows, test_index `ALL_TEST_POINTS`,
    left out) of each optimizer, reference, method and number of checkpoints."""
    per_point = comparison[comparison["test_index"] != ALL_TEST_POINTS]
    return mean_sd(per_point, ["optimizer", "reference", "method", "checkpoints"])
