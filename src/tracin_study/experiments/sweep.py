"""Why our models fit better than the paper's: a sweep of training recipes, each changing one
factor of the study's own recipe, and the choice of the recipe and epoch closest to the
paper's explained variances, on which the claims are rerun.

One factor at a time answers which single difference explains the gap; the full factorial
(the interactions) is left to the cluster route. A recipe is a mapping of
`recipes.OVERRIDES` keys to values; every setting it does not name is the study's.
Explained variances (EV) are those of the loss curves (`training.curve_every`).
"""

import numpy as np
import pandas as pd

from tracin_study import paper
from tracin_study.recipes import DEFAULT

EV_COLUMNS = ["train_explained_variance", "test_explained_variance"]
N_CHECKPOINTS = paper.EPOCHS // paper.CHECKPOINT_EVERY  # the paper's: every 20th of 200 epochs
TIE_DECIMALS = 12
SELECTION_RULE = (
    f"Among all (recipe, epoch) points of the recipes' mean-over-seeds explained-variance "
    f"curves, the default recipe's included, the one with the smallest Euclidean distance "
    f"from (train, test) to the paper's ({paper.TRAIN_EXPLAINED_VARIANCE}, "
    f"{paper.TEST_EXPLAINED_VARIANCE}); "
    f"distances equal to {TIE_DECIMALS} decimals are ties, broken by fewer epochs, then by "
    f"recipe name."
)


def ev_table(curves: list[pd.DataFrame]) -> pd.DataFrame:
    """The explained-variance points of loss curves that carry `recipe` and `seed` columns:
    one row per (recipe, seed, epoch) with both EVs, epochs without EV left out."""
    table = pd.concat(curves, ignore_index=True).dropna(subset=EV_COLUMNS)
    columns = ["recipe", "seed", "epoch", *EV_COLUMNS]
    return table[columns].sort_values(["recipe", "seed", "epoch"], ignore_index=True)


def mean_paths(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds of `ev_table` per (recipe, epoch), with `n_seeds` and the Euclidean
    `distance` of (train EV, test EV) from the paper's."""
    paths = table.groupby(["recipe", "epoch"], as_index=False).agg(
        train_explained_variance=("train_explained_variance", "mean"),
        test_explained_variance=("test_explained_variance", "mean"),
        n_seeds=("seed", "nunique"),
    )
    paths["distance"] = np.hypot(
        paths["train_explained_variance"] - paper.EXPLAINED_VARIANCE["train"],
        paths["test_explained_variance"] - paper.EXPLAINED_VARIANCE["test"],
    )
    return paths


def checkpoint_epochs(epoch: int, n: int = N_CHECKPOINTS) -> list[int]:
    """The TracInCP checkpoints of a run of `epoch` epochs: round(epoch x k / n) for
    k = 1..n (halves rounded up), without duplicates or epoch 0. 200 gives 20, 40, ..., 200."""
    return sorted({(2 * epoch * k + n) // (2 * n) for k in range(1, n + 1)} - {0})


def select_closest(table: pd.DataFrame, recipes: dict[str, dict]) -> dict:
    """The (recipe, epoch) of `SELECTION_RULE` among the `mean_paths` of `table`
    (`ev_table`); `recipes` maps each recipe name but `DEFAULT` to its overrides. Returns a
    JSON-ready dict: recipe, overrides, epoch, mean EVs, n_seeds, distance, the paper's EVs,
    the rerun's checkpoint epochs and the rule."""
    paths = mean_paths(table).assign(tie=lambda p: p["distance"].round(TIE_DECIMALS))
    best = paths.sort_values(["tie", "epoch", "recipe"]).iloc[0]
    recipe, epoch = str(best["recipe"]), int(best["epoch"])
    return {
        "recipe": recipe,
        "overrides": {} if recipe == DEFAULT else dict(recipes[recipe]),
        "epoch": epoch,
        "train_explained_variance": float(best["train_explained_variance"]),
        "test_explained_variance": float(best["test_explained_variance"]),
        "n_seeds": int(best["n_seeds"]),
        "distance": float(best["distance"]),
        "paper": paper.EXPLAINED_VARIANCE,
        "checkpoint_epochs": checkpoint_epochs(epoch),
        "rule": SELECTION_RULE,
    }


def recipe_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per recipe (index) from `ev_table`: the mean-over-seeds explained variances at
    the last recorded epoch, and the epoch of the recipe's own point nearest to the paper's
    with its EVs and `distance` (ties to the fewer epochs)."""
    paths = mean_paths(table).sort_values(["recipe", "epoch"])
    last = paths.groupby("recipe").last()
    nearest = paths.sort_values(["distance", "epoch"]).groupby("recipe").first()
    return pd.DataFrame(
        {
            "seeds": last["n_seeds"],
            "last epoch": last["epoch"],
            "train EV, last": last["train_explained_variance"],
            "test EV, last": last["test_explained_variance"],
            "nearest epoch": nearest["epoch"],
            "train EV, nearest": nearest["train_explained_variance"],
            "test EV, nearest": nearest["test_explained_variance"],
            "distance, nearest": nearest["distance"],
        }
    ).rename_axis("recipe")
