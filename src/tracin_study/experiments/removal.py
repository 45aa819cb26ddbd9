"""Removal test: retrain a seed without a set of training houses and measure the change in
the Palo Alto test loss.

If the aggregate proponents really support the Palo Alto predictions, removing them should
raise the test houses' loss more than removing the same number of training houses nearest
on the map, or of random training houses. Losses are squared errors in ($100,000)^2.
"""

import dataclasses
import tempfile
import time

import numpy as np
import pandas as pd
import torch

from tracin_study.checkpoints import Manifest, load_checkpoint
from tracin_study.config import TrainingConfig
from tracin_study.data import PreparedData
from tracin_study.palo_alto import aggregate, map_neighbours
from tracin_study.plan import removal_set_names
from tracin_study.training import predict, train


def removed_houses(
    name: str,
    proponents: pd.DataFrame,
    prepared: PreparedData,
    houses: pd.DataFrame,
    seed: int,
    random_seed: int,
) -> np.ndarray:
    """train_index of the removal set `name` for model `seed`, as many houses as the
    aggregate proponents (k): those proponents, the k training houses nearest on the map to
    any test house, or (random_<d>) k houses drawn with `default_rng([random_seed, seed, d])`."""
    chosen = aggregate(proponents, "proponent")
    if name == "proponents":
        return np.sort(chosen)
    if name == "map_neighbours":
        return np.sort(map_neighbours(prepared.train, houses, chosen.size))
    if name.startswith("random_"):
        rng = np.random.default_rng([random_seed, seed, int(name.removeprefix("random_"))])
        return np.sort(rng.choice(len(prepared.train), size=chosen.size, replace=False))
    raise ValueError(
        f"unknown removal set {name!r}; expected one of {removal_set_names(1)[:2]} or random_<draw>"
    )


def retrain_keeping(
    prepared: PreparedData, config: TrainingConfig, seed: int, kept
) -> torch.nn.Module:
    """The final model of `train` with the same recipe and seed on the training houses at
    `kept` (train_index) only; only the initial and final checkpoints are written, to a
    temporary folder that is deleted."""
    kept = np.sort(np.asarray(kept, dtype=np.int64))
    final_only = dataclasses.replace(config, checkpoint_every=config.epochs)
    with tempfile.TemporaryDirectory() as folder:
        model, _ = train(
            prepared.X_train[kept],
            prepared.y_train[kept],
            prepared.X_test,
            prepared.y_test,
            final_only,
            seed,
            folder,
        )
    return model


def retrain_without(
    prepared: PreparedData, config: TrainingConfig, seed: int, removed
) -> torch.nn.Module:
    """`retrain_keeping` on the training houses other than `removed` (train_index)."""
    keep = np.ones(len(prepared.train), dtype=bool)
    keep[np.asarray(removed, dtype=np.int64)] = False
    return retrain_keeping(prepared, config, seed, np.flatnonzero(keep))


def house_losses(model: torch.nn.Module, prepared: PreparedData, test_index) -> np.ndarray:
    """Squared error of `model` on the test houses at `test_index` (M,): (M,)."""
    X, y = prepared.test_points(test_index)
    return (predict(model, X) - y) ** 2


def removal_record(
    name: str,
    removed,
    full: Manifest,
    prepared: PreparedData,
    houses: pd.DataFrame,
    config: TrainingConfig,
    seed: int,
) -> dict:
    """Retrain without `removed` and compare with the full model (final checkpoint of the
    seed's `full` manifest) on the test houses: `seed`, `removal_set`, `removed`
    (train_index list), `test_index`, per-house `loss_full` and `loss_removed` (M,),
    `summed_loss_full`, `summed_loss_removed`, `summed_change` and `wall_seconds`."""
    start = time.perf_counter()
    test_index = houses["test_index"].to_numpy()
    reference = load_checkpoint(full.checkpoints[-1], full.build_model())
    loss_full = house_losses(reference, prepared, test_index)
    loss_removed = house_losses(
        retrain_without(prepared, config, seed, removed), prepared, test_index
    )
    return {
        "seed": seed,
        "removal_set": name,
        "removed": [int(i) for i in removed],
        "test_index": test_index.tolist(),
        "loss_full": loss_full.tolist(),
        "loss_removed": loss_removed.tolist(),
        "summed_loss_full": float(loss_full.sum()),
        "summed_loss_removed": float(loss_removed.sum()),
        "summed_change": float(loss_removed.sum() - loss_full.sum()),
        "wall_seconds": time.perf_counter() - start,
    }


def per_house_changes(records: list[dict]) -> pd.DataFrame:
    """One row per (seed, removal_set, test house): loss_full, loss_removed, change."""
    frames = [
        pd.DataFrame(
            {
                "seed": r["seed"],
                "removal_set": r["removal_set"],
                "test_index": r["test_index"],
                "loss_full": r["loss_full"],
                "loss_removed": r["loss_removed"],
            }
        )
        for r in records
    ]
    table = pd.concat(frames, ignore_index=True)
    return table.assign(change=table["loss_removed"] - table["loss_full"])


def removal_effects(records: list[dict]) -> pd.DataFrame:
    """One row per seed: the summed full-model loss (`summed_loss_full`), the change in summed
    loss after removing each set (`change__proponents`, `change__map_neighbours`,
    `change__random` = mean over random draws) and the excess of the proponents' change over
    each baseline's, relative to the full model's loss (`excess_vs_map_neighbours`,
    `excess_vs_random`)."""
    table = pd.DataFrame(records)
    table["group"] = table["removal_set"].where(
        ~table["removal_set"].str.startswith("random_"), "random"
    )
    change = table.pivot_table(
        index="seed", columns="group", values="summed_change", aggfunc="mean"
    )
    out = change.add_prefix("change__")
    out["summed_loss_full"] = table.groupby("seed")["summed_loss_full"].first()
    for baseline in ("map_neighbours", "random"):
        out[f"excess_vs_{baseline}"] = (change["proponents"] - change[baseline]) / out[
            "summed_loss_full"
        ]
    out.columns.name = None
    return out
