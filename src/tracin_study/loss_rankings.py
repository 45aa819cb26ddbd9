"""Self-influence against the loss itself: the same top/bottom-set measurements for a
ranking by self-influence, by the final training loss and by the loss summed over the
checkpoints TracInCP uses.

For squared loss, a house's self-influence at one checkpoint is eta * 4 r^2 |grad f|^2 (r
the residual), so a ranking by the residual alone is the baseline it has to beat.
"""

import numpy as np
import pandas as pd

from tracin_study.checkpoints import Manifest, load_checkpoint
from tracin_study.data import CAPPED_PRICE, TARGET
from tracin_study.statistics import spearman
from tracin_study.training import predict

SCORES = {
    "self_influence": "TracInCP self-influence",
    "final_loss": "final training loss",
    "summed_loss": "training loss summed over the checkpoints",
}


def checkpoint_losses(manifest: Manifest, epochs, X, y) -> np.ndarray:
    """Squared residuals (f(x) - y)^2 of each training house at the checkpoints of `epochs`:
    (K, N) for X (N, F) standardised features and y (N,) prices in $100,000."""
    model = manifest.build_model()
    y = np.asarray(y, dtype=np.float64)
    return np.stack(
        [(predict(load_checkpoint(c, model), X) - y) ** 2 for c in manifest.select(epochs)]
    )


def loss_scores(manifest: Manifest, epochs, X, y) -> dict[str, np.ndarray]:
    """`final_loss` (loss at the last saved checkpoint) and `summed_loss` (losses summed over
    the checkpoints of `epochs`, unweighted: with a constant learning rate this ranks like
    sum_i eta_i loss_i), each (N,) in ($100,000)^2."""
    last = manifest.checkpoints[-1].epoch
    losses = checkpoint_losses(manifest, sorted({*epochs, last}), X, y)
    used = sorted({*epochs, last})
    in_sum = np.isin(used, list(epochs))
    return {"final_loss": losses[used.index(last)], "summed_loss": losses[in_sum].sum(0)}


def ranking_measures(table: pd.DataFrame, knn_distance, n: int, score: str) -> dict:
    """For the n houses with the highest and the n with the lowest `score` in `table` (one row
    per training house, with MedHouseVal), ratios to all training houses of: the share of
    capped prices (`capped_ratio_high`, `capped_ratio_low`) and the median k-NN distance in
    feature space (`knn_ratio_high`, `knn_ratio_low`; `knn_distance` (N,) in sd units)."""
    values = table[score].to_numpy(np.float64)
    capped = table[TARGET].to_numpy() >= CAPPED_PRICE
    knn = np.asarray(knn_distance, dtype=np.float64)
    order = np.argsort(-values, kind="stable")
    out = {}
    for name, chosen in (("high", order[:n]), ("low", order[::-1][:n])):
        out[f"capped_ratio_{name}"] = float(capped[chosen].mean() / capped.mean())
        out[f"knn_ratio_{name}"] = float(np.median(knn[chosen]) / np.median(knn))
    return out


def compare_rankings(table: pd.DataFrame, knn_distance, n: int) -> dict:
    """`ranking_measures` for each of `SCORES` (keys `<measure>__<score>`), and the Spearman
    correlation of self-influence with each loss (`spearman__<loss>`). `table` needs the
    columns self_influence, final_loss, summed_loss and MedHouseVal."""
    missing = [s for s in SCORES if s not in table.columns]
    if missing:
        raise KeyError(f"self-influence table lacks {missing}; add them with `loss_scores`")
    out = {}
    for score in SCORES:
        for key, value in ranking_measures(table, knn_distance, n, score).items():
            out[f"{key}__{score}"] = value
    for loss in ("final_loss", "summed_loss"):
        out[f"spearman__{loss}"] = spearman(table["self_influence"], table[loss])
    return out
