"""TracInCP of one trained seed: self-influence of every training house and the proponents
and opponents of the Palo Alto test houses, as tables and per-checkpoint arrays, with the
raw (SGD) score and the Adam-preconditioned one."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tracin_study.checkpoints import Manifest
from tracin_study.data import COLUMNS, PreparedData
from tracin_study.influence import TracInCP, top_k
from tracin_study.loss_rankings import loss_scores


@dataclass(frozen=True)
class SeedInfluence:
    """Per-checkpoint contributions (learning rate included) and the tables built from them.

    self_all_layers, self_last_layer: (K, N) self-influence over all layers / the last layer
    only.
    influence: (K, M, N) influence of the N training houses on the M test houses.
    self_adam (K, N), influence_adam (K, M, N): the same with Adam's preconditioner, all
    layers; None when that pass was not asked for.
    losses: `final_loss` and `summed_loss` (N,) of each training house (`loss_scores`).
    """

    epochs: np.ndarray
    learning_rates: np.ndarray
    test_index: np.ndarray
    self_all_layers: np.ndarray
    self_last_layer: np.ndarray
    influence: np.ndarray
    self_adam: np.ndarray | None
    influence_adam: np.ndarray | None
    losses: dict[str, np.ndarray]

    def self_influence_table(self, prepared: PreparedData) -> pd.DataFrame:
        """One row per training house: `train_index`, `row`, `self_influence`,
        `self_influence_last_layer`, `self_influence_adam` (if computed), `final_loss`,
        `summed_loss`, then the raw features and price (MedHouseVal)."""
        table = prepared.train[["train_index", "row"]].copy()
        table["self_influence"] = self.self_all_layers.sum(0)
        table["self_influence_last_layer"] = self.self_last_layer.sum(0)
        if self.self_adam is not None:
            table["self_influence_adam"] = self.self_adam.sum(0)
        for name, values in self.losses.items():
            table[name] = values
        return pd.concat([table, prepared.train[COLUMNS]], axis=1)

    def proponents_table(self, k: int) -> pd.DataFrame:
        """Top-k proponents and opponents of each test house and of their sum (test_index
        `ALL_TEST_POINTS`)."""
        return top_k(self.influence.sum(0), k, test_ids=self.test_index)

    def proponents_adam_table(self, k: int) -> pd.DataFrame:
        """`proponents_table` of the Adam-preconditioned influence."""
        if self.influence_adam is None:
            raise ValueError(
                "no Adam-preconditioned scores: call compute_seed_influence with adam=True"
            )
        return top_k(self.influence_adam.sum(0), k, test_ids=self.test_index)

    def save_arrays(self, self_path: Path, influence_path: Path) -> None:
        """Per-checkpoint contributions as .npz: `epochs` (K,), `learning_rates` (K,),
        `all_layers` and `last_layer` (K, N) in the first; `test_index` (M,) and
        `all_layers` (K, M, N) in the second, with `all_layers_adam` (K, M, N) when the
        Adam pass was run."""
        np.savez_compressed(
            self_path,
            epochs=self.epochs,
            learning_rates=self.learning_rates,
            all_layers=self.self_all_layers,
            last_layer=self.self_last_layer,
        )
        np.savez_compressed(
            influence_path,
            epochs=self.epochs,
            learning_rates=self.learning_rates,
            test_index=self.test_index,
            all_layers=self.influence,
            **({} if self.influence_adam is None else {"all_layers_adam": self.influence_adam}),
        )


def compute_seed_influence(
    manifest: Manifest,
    prepared: PreparedData,
    test_index: np.ndarray,
    epochs: list[int],
    batch_size: int,
    *,
    adam: bool,
) -> SeedInfluence:
    """TracInCP over the checkpoints of `epochs` for all training houses and the test houses
    at positions `test_index` of the test split: the raw engine pass (the self-influence of
    the last layer is that layer's term of it), a second pass with Adam's preconditioner if
    `adam` (the checkpoints must hold Adam's state), and the training losses
    (`loss_scores`)."""
    X_test, y_test = prepared.X_test[test_index], prepared.y_test[test_index]
    data = (prepared.X_train, prepared.y_train, X_test, y_test)
    checkpoints = manifest.select(epochs)
    result = TracInCP(manifest.build_model(), checkpoints, batch_size=batch_size).compute(*data)
    preconditioned = (
        TracInCP(
            manifest.build_model(), checkpoints, batch_size=batch_size, preconditioner="adam"
        ).compute(*data)
        if adam
        else None
    )
    return SeedInfluence(
        epochs=np.asarray(result.epochs),
        learning_rates=result.learning_rates,
        test_index=np.asarray(test_index),
        self_all_layers=result.self_influence,
        self_last_layer=result.self_by_layer[:, -1],
        influence=result.influence,
        self_adam=None if preconditioned is None else preconditioned.self_influence,
        influence_adam=None if preconditioned is None else preconditioned.influence,
        losses=loss_scores(manifest, epochs, prepared.X_train, prepared.y_train),
    )
