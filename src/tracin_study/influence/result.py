"""What TracInCP returns: per-checkpoint, per-layer contributions, and their rankings."""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALL_TEST_POINTS = -1
"""`test_index` of the rows that rank training points by their influence on the summed loss
over all test points (not on one test point)."""


class InfluenceError(ValueError):
    """Influence cannot be computed from these inputs, layers or checkpoints."""


@dataclass(frozen=True)
class InfluenceResult:
    """Per-checkpoint and per-layer TracInCP contributions, learning rate included.

    `self_by_layer` is (K, L, N) for the N training examples, `influence_by_layer`
    (K, L, M, N) for the M test examples (None without a test set). K checkpoints are
    described by `epochs` and `learning_rates` (K,), in the order used; the L selected
    layers (modules owning parameters) by `layer_names`, in model order.
    A score is a learning rate times a (preconditioned) product of two loss gradients:
    comparable within one result, not across models or checkpoint sets.
    """

    self_by_layer: np.ndarray
    influence_by_layer: np.ndarray | None
    epochs: tuple[int, ...]
    learning_rates: np.ndarray
    layer_names: tuple[str, ...]

    @property
    def self_influence(self) -> np.ndarray:
        """Self-influence per checkpoint, all layers: (K, N)."""
        return self.self_by_layer.sum(1)

    @property
    def influence(self) -> np.ndarray | None:
        """Test x train influence per checkpoint, all layers: (K, M, N), or None."""
        return None if self.influence_by_layer is None else self.influence_by_layer.sum(1)

    def self_total(self, epochs: Iterable[int] | None = None, layers=None) -> np.ndarray:
        """TracInCP(z, z) summed over the checkpoints of `epochs` (default: all) and the
        layers named in `layers` (default: all): (N,)."""
        return self.self_by_layer[self._checkpoints(epochs)][:, self._layers(layers)].sum((0, 1))

    def influence_total(self, epochs: Iterable[int] | None = None, layers=None) -> np.ndarray:
        """TracInCP(z, z') summed over the checkpoints of `epochs` (default: all) and the
        layers named in `layers` (default: all): (M, N)."""
        if self.influence_by_layer is None:
            raise InfluenceError("this result has no test set; pass X_test and y_test")
        chosen = self.influence_by_layer[self._checkpoints(epochs)]
        return chosen[:, self._layers(layers)].sum((0, 1))

    def _checkpoints(self, epochs: Iterable[int] | None) -> np.ndarray:
        """Positions (K',) of the checkpoints whose epoch is in `epochs`."""
        if epochs is None:
            return np.arange(len(self.epochs))
        wanted = sorted(set(epochs))
        missing = [e for e in wanted if e not in self.epochs]
        if missing or not wanted:
            raise InfluenceError(
                f"no checkpoint for epoch(s) {missing or wanted} in this result; its epochs are "
                f"{list(self.epochs)}"
            )
        return np.flatnonzero(np.isin(self.epochs, wanted))

    def _layers(self, layers) -> np.ndarray:
        """Positions (L',) of the named layers."""
        if layers is None:
            return np.arange(len(self.layer_names))
        names = [layers] if isinstance(layers, str) else list(layers)
        unknown = [n for n in names if n not in self.layer_names]
        if unknown or not names:
            raise InfluenceError(
                f"unknown layer(s) {unknown or names}; this result has {list(self.layer_names)}"
            )
        return np.array([self.layer_names.index(n) for n in names])


def top_k(influence, k: int, test_ids=None) -> pd.DataFrame:
    """Proponents and opponents of each test example and of the whole test set.

    influence: (M, N) TracInCP scores (test x train, summed over checkpoints).
    Returns one row per (test example, kind, rank) with columns `test_index` (from
    `test_ids`, default 0..M-1; `ALL_TEST_POINTS` (-1) for the sum over all M test examples),
    `train_index` (column of `influence`), `influence`, `rank` (1..k) and `kind`: "proponent"
    for the k largest positive scores (descending), "opponent" for the k most negative
    (ascending).
    Fewer than k rows appear when fewer scores have that sign; ties keep the lower index.
    """
    scores = np.asarray(influence, dtype=np.float64)
    if scores.ndim != 2:
        raise InfluenceError(f"influence must be (tests, train) 2-D, got shape {scores.shape}")
    if k < 1:
        raise InfluenceError(f"k must be >= 1, got {k}")
    ids = np.arange(len(scores)) if test_ids is None else np.asarray(test_ids)
    if ids.shape != (len(scores),):
        raise InfluenceError(f"test_ids needs {len(scores)} entries, got shape {ids.shape}")
    rows = [*zip(ids.tolist(), scores, strict=True), (ALL_TEST_POINTS, scores.sum(0))]
    frames = []
    for test_index, row in rows:
        for kind, sign in (("proponent", 1.0), ("opponent", -1.0)):
            order = np.argsort(-sign * row, kind="stable")[:k]
            order = order[sign * row[order] > 0]
            frames.append(
                pd.DataFrame(
                    {
                        "test_index": test_index,
                        "train_index": order,
                        "influence": row[order],
                        "rank": np.arange(1, len(order) + 1),
                        "kind": kind,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
