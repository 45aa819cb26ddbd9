"""Removal test: retrain a seed without a set of training houses and measure the change in
the Palo Alto test losses.

Each set is retrained away under one of two protocols, fixed_order or new_order
(`training.retrain_without`). The removal curves (`plan_removals`, `run_removals`)
remove, for each size k: the aggregate proponents of a score (top k by influence summed
over the test houses) and its aggregate opponents (bottom k, the most negative summed
influence), each test house's own top-k proponents and opponents, the k map neighbours,
and random draws of k. Losses are squared errors in ($100,000)^2.
"""

import logging
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from tracin_study.config import RemovalSettings, TrainingSettings
from tracin_study.data import PreparedData
from tracin_study.influence import ALL_TEST_POINTS
from tracin_study.palo_alto import map_neighbours
from tracin_study.run_plans import RANDOM, RemovalRetraining, removal_retrainings
from tracin_study.training import house_losses, retrain_without

log = logging.getLogger(__name__)


# The removal curves ---------------------------------------------------------------------


def top_houses(scores: np.ndarray, k: int, sign: int) -> np.ndarray:
    """train_index of the (at most) k training houses with the largest `sign` x score among
    those whose `sign` x score is positive, sorted: scores (N,); sign +1 for proponents, -1
    for opponents. Ties keep the lower index (as `influence.top_k`)."""
    s = sign * np.asarray(scores, dtype=np.float64)
    order = np.argsort(-s, kind="stable")[:k]
    return np.sort(order[s[order] > 0])


def random_houses(n_train: int, k: int, random_seed: int, seed: int, draw: int) -> np.ndarray:
    """train_index (k,) sorted, of random draw `draw` for model `seed`:
    `default_rng([random_seed, seed, k, draw])` without replacement from the n_train houses."""
    rng = np.random.default_rng([random_seed, seed, k, draw])
    return np.sort(rng.choice(n_train, size=k, replace=False))


SCORE_ARRAYS = {"raw": "all_layers", "adam": "all_layers_adam"}
"""Score name -> its array in a seed's influence_per_checkpoint.npz (`SeedInfluence`)."""


def score_matrices(influence_npz) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The test houses' test_index (M,) and, per score of `SCORE_ARRAYS`, the TracInCP
    (M, N) summed over the checkpoints, from a seed's influence_per_checkpoint.npz; any k
    can be ranked from these (the proponents tables keep only the top influence.top_k)."""
    with np.load(influence_npz) as arrays:
        missing = [a for a in SCORE_ARRAYS.values() if a not in arrays]
        if missing:
            raise KeyError(
                f"{influence_npz} lacks {missing}; it predates the Adam score's array: rerun "
                f"the seed_influence stage for this seed"
            )
        scores = {name: arrays[key].sum(0) for name, key in SCORE_ARRAYS.items()}
        return arrays["test_index"], scores


def plan_removals(
    scores: dict[str, np.ndarray],
    test_index,
    prepared: PreparedData,
    houses: pd.DataFrame,
    seed: int,
    cfg: RemovalSettings,
) -> pd.DataFrame:
    """The removal sets of model `seed` under `cfg.protocol` (the removal curves), one row
    each, in the order of `run_plans.removal_retrainings`.

    scores: score name (e.g. "raw", "adam") -> TracInCP (M, N) of the N training houses on
    the test houses `test_index` (M,) (positive: the house lowers that test loss).
    houses: the test houses whose map neighbours are removed (palo_alto_test_points.csv).
    Columns: `name` (unique within the seed), `seed`, `set` (one of `REMOVAL_SETS` or
    "random"), `score` ("" for score-free sets), `k`, `draw` (-1 unless random),
    `target_house` (test_index whose own proponents/opponents are removed, else
    `ALL_TEST_POINTS`), `n_removed` (can be below k when fewer houses have a score of the
    sign) and `removed` (train_index list). Sets outside `cfg.sets` are left out; each k
    has `cfg.random_draws` random draws.
    """
    plan = seed_plan(scores, test_index, prepared, houses, seed, cfg)
    return plan[plan["protocol"] == cfg.protocol].drop(columns="protocol").reset_index(drop=True)


def plan_noise_draws(
    prepared: PreparedData, houses: pd.DataFrame, seed: int, cfg: RemovalSettings
) -> pd.DataFrame:
    """The random draws alone at size `cfg.noise_k` (rows as `plan_removals`): what a
    protocol other than `cfg.protocol` retrains to measure its noise. The draws are those
    of the removal curves at that size."""
    only_draws = replace(cfg, k=(cfg.noise_k,), sets=())
    return plan_removals({}, [], prepared, houses, seed, only_draws)


def seed_plan(
    scores: dict[str, np.ndarray],
    test_index,
    prepared: PreparedData,
    houses: pd.DataFrame,
    seed: int,
    cfg: RemovalSettings,
) -> pd.DataFrame:
    """Every retraining of model `seed` as `run_plans.removal_retrainings` orders them (the
    removal curves under `cfg.protocol`, then the noise draws under each other protocol of
    `cfg.noise_protocols`), with the houses each removes: columns as `plan_removals` plus
    `protocol`. Jobs take chunks of it (`run_plans.removal_jobs`)."""
    test_index = np.asarray(test_index)
    n_train = len(prepared.train)
    for k in (*cfg.k, cfg.noise_k):
        if not 1 <= k < n_train:
            raise ValueError(f"removal.k has {k}; each size must lie in [1, {n_train - 1}]")
    matrices = {score: np.asarray(matrix, dtype=np.float64) for score, matrix in scores.items()}
    for score, matrix in matrices.items():
        if matrix.shape != (len(test_index), n_train):
            raise ValueError(
                f"scores[{score!r}] has shape {matrix.shape}, expected "
                f"({len(test_index)}, {n_train}) for the test houses and training split"
            )
    plan = removal_retrainings(cfg, len(test_index), tuple(matrices))
    rows = [_plan_row(r, matrices, test_index, prepared, houses, seed, cfg) for r in plan]
    columns = ["name", "seed", "set", "score", "k", "draw", "target_house", "n_removed"]
    return pd.DataFrame(rows, columns=[*columns, "removed", "protocol"])


def _plan_row(
    retraining: RemovalRetraining,
    matrices: dict[str, np.ndarray],
    test_index: np.ndarray,
    prepared: PreparedData,
    houses: pd.DataFrame,
    seed: int,
    cfg: RemovalSettings,
) -> dict:
    """The row of `seed_plan` of one retraining: its name and the houses it removes."""
    r, n_train = retraining, len(prepared.train)
    sign = -1 if r.set.endswith("opponents") else 1
    target = ALL_TEST_POINTS if r.house is None else int(test_index[r.house])
    if r.set == RANDOM:
        removed = random_houses(n_train, r.k, cfg.random_seed, seed, r.draw)
    elif r.set == "map_neighbours":
        removed = np.sort(map_neighbours(prepared.train, houses, r.k))
    elif r.house is None:
        removed = top_houses(matrices[r.score].sum(0), r.k, sign)
    else:
        removed = top_houses(matrices[r.score][r.house], r.k, sign)
    parts = [r.set, r.score, f"test{target}" if target != ALL_TEST_POINTS else ""]
    parts += [f"k{r.k}", f"draw{r.draw}" if r.draw >= 0 else ""]
    return {
        "name": "/".join(p for p in parts if p),
        "seed": seed,
        "set": r.set,
        "score": r.score,
        "k": r.k,
        "draw": r.draw,
        "target_house": int(target),
        "n_removed": len(removed),
        "removed": [int(i) for i in removed],
        "protocol": r.protocol,
    }


def run_chunk(
    plan: pd.DataFrame,
    prepared: PreparedData,
    config: TrainingSettings,
    reference: torch.nn.Module,
    test_index,
) -> list[dict]:
    """`run_removals` of the rows of `plan` (rows of `seed_plan`, e.g. one job's chunk),
    each under its own `protocol`, in the plan's order."""
    records = []
    for protocol, rows in plan.groupby("protocol", sort=False):
        rows = rows.drop(columns="protocol")
        records += run_removals(rows, prepared, config, reference, test_index, protocol)
    return records


def run_removals(
    plan: pd.DataFrame,
    prepared: PreparedData,
    config: TrainingSettings,
    reference: torch.nn.Module,
    test_index,
    protocol: str,
) -> list[dict]:
    """Retrain once per row of `plan` (rows of one seed's `plan_removals`, e.g. a chunk)
    under `protocol` and record, JSON-ready, the row's fields (but `removed`'s list is
    kept) plus `protocol`, `test_index` (M,), `loss_reference` (M,) of the `reference`
    model (the seed's full model), `loss_removed` (M,) and `wall_seconds`. Logs one line
    per retraining with its time."""
    test_index = np.asarray(test_index)
    loss_reference = house_losses(reference, prepared, test_index)
    records = []
    for i, row in enumerate(plan.to_dict("records"), 1):
        start = time.perf_counter()
        model = retrain_without(prepared, config, int(row["seed"]), row["removed"], protocol)
        loss = house_losses(model, prepared, test_index)
        seconds = time.perf_counter() - start
        records.append(
            {
                **{k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()},
                "protocol": protocol,
                "test_index": test_index.tolist(),
                "loss_reference": loss_reference.tolist(),
                "loss_removed": loss.tolist(),
                "wall_seconds": seconds,
            }
        )
        log.info(
            "retraining %d/%d (%s, %s): summed loss %.4f -> %.4f in %.1f s",
            i,
            len(plan),
            row["name"],
            protocol,
            loss_reference.sum(),
            loss.sum(),
            seconds,
        )
    return records


def removal_changes(records: list[dict]) -> pd.DataFrame:
    """One row per (record, test house) of `run_removals` records: `seed`, `protocol`,
    `name`, `set`, `score`, `k`, `draw`, `target_house`, `test_index`, `loss_reference`,
    `loss_removed`, `change` (removed - reference) and `relative_change`: the change over
    the mean reference loss of the record's test houses (a scale that a near-zero loss of
    one house cannot blow up)."""
    keys = ("seed", "protocol", "name", "set", "score", "k", "draw", "target_house")
    frames = []
    for r in records:
        reference = np.asarray(r["loss_reference"], dtype=np.float64)
        removed = np.asarray(r["loss_removed"], dtype=np.float64)
        frame = pd.DataFrame({"test_index": r["test_index"], "loss_reference": reference})
        frame["loss_removed"] = removed
        frame["change"] = removed - reference
        frame["relative_change"] = frame["change"] / reference.mean()
        frames.append(frame.assign(**{k: r[k] for k in keys}))
    table = pd.concat(frames, ignore_index=True)
    return table[[*keys, *frames[0].columns[:5]]]
