"""Figures of the study. Each function returns a matplotlib Figure with a title, axis labels
with units and a legend; maps are drawn from the houses' own coordinates (no tiles)."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from tracin_study.geo import BAY_AREA_POLYGON, bay_area_extent

LON, LAT = "Longitude (degrees east)", "Latitude (degrees north)"
BACKGROUND = {"s": 1, "c": "0.8", "alpha": 0.4, "linewidths": 0, "label": "all training houses"}


def _map_axes(ax, background: pd.DataFrame, title: str) -> None:
    ax.scatter(background["Longitude"], background["Latitude"], **BACKGROUND)
    ax.set(xlabel=LON, ylabel=LAT, title=title, aspect="equal")


def training_curves(curves: dict[int, pd.DataFrame]) -> plt.Figure:
    """Training and test MSE per epoch, one colour per seed."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (seed, curve) in enumerate(curves.items()):
        colour = f"C{i}"
        ax.plot(curve["epoch"], curve["train_mse"], color=colour, label=f"seed {seed} train")
        ax.plot(curve["epoch"], curve["test_mse"], color=colour, ls="--", label=f"seed {seed} test")
    ax.set(
        xlabel="epoch",
        ylabel=r"mean squared error ((\$100,000)$^2$)",
        yscale="log",
        title="Training curves\n(train: mean over the epoch's batches; test: at the epoch's end)",
    )
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def self_influence_maps(
    table: pd.DataFrame, n: int, title: str, column: str = "self_influence"
) -> plt.Figure:
    """Two maps under `title`: the n training houses with the highest and lowest `column`."""
    order = np.argsort(-table[column].to_numpy(), kind="stable")
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    for ax, idx, colour, name in (
        (axes[0], order[:n], "crimson", "highest"),
        (axes[1], order[::-1][:n], "navy", "lowest"),
    ):
        _map_axes(ax, table, f"{n} {name} self-influence training houses")
        part = table.iloc[idx]
        ax.scatter(part["Longitude"], part["Latitude"], s=14, c=colour, label=f"{name} {n}")
        ax.legend(loc="upper right", markerscale=2)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def palo_alto_map(
    houses: pd.DataFrame, proponents: pd.DataFrame, train: pd.DataFrame, test_index: int = -1
) -> plt.Figure:
    """The Palo Alto test houses with the proponents and opponents of `test_index` (-1: of
    all of them together), on the whole state and zoomed on the Bay Area."""
    chosen = proponents[proponents["test_index"] == test_index]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, title, box in (
        (axes[0], "California", None),
        (axes[1], "San Francisco Bay Area (nine counties)", bay_area_extent()),
    ):
        _map_axes(ax, train, title)
        for kind, marker, colour in (
            ("proponent", "^", "forestgreen"),
            ("opponent", "v", "darkorange"),
        ):
            idx = chosen.loc[chosen["kind"] == kind, "train_index"].to_numpy()
            part = train.iloc[idx]
            ax.scatter(
                part["Longitude"],
                part["Latitude"],
                marker=marker,
                s=28,
                c=colour,
                edgecolors="k",
                linewidths=0.3,
                label=f"{len(idx)} {kind}s",
            )
        ax.scatter(
            houses["Longitude"],
            houses["Latitude"],
            marker="*",
            s=120,
            c="crimson",
            edgecolors="k",
            linewidths=0.5,
            label=f"{len(houses)} Palo Alto test houses",
        )
        if box:
            outline = np.vstack([BAY_AREA_POLYGON, BAY_AREA_POLYGON[:1]])
            ax.plot(*outline.T, c="0.4", lw=0.8, ls=":", label="Bay Area (nine counties)")
            ax.set(xlim=box[:2], ylim=box[2:])
        ax.legend(loc="lower left", fontsize=8)
    which = "all Palo Alto test houses" if test_index == -1 else f"test house {test_index}"
    fig.suptitle(f"Proponents and opponents of {which}")
    fig.tight_layout()
    return fig


def per_seed_with_reference(
    values: pd.DataFrame, reference: dict[str, float], ylabel: str, title: str
) -> plt.Figure:
    """Per-seed values (rows: seeds, columns: quantities) as points, with the paper's value
    for each quantity as a horizontal line."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, column in enumerate(values.columns):
        ax.scatter(
            np.full(len(values), i),
            values[column],
            color=f"C{i}",
            zorder=3,
            label=f"{column}: our seeds",
        )
        if column in reference:
            ax.hlines(
                reference[column],
                i - 0.3,
                i + 0.3,
                colors=f"C{i}",
                linestyles="--",
                label=f"{column}: paper",
            )
    ax.set_xticks(range(len(values.columns)), values.columns)
    ax.set(ylabel=ylabel, title=title, xlim=(-0.6, len(values.columns) - 0.4))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def heatmap(matrix: pd.DataFrame, title: str, colour_label: str) -> plt.Figure:
    """A seed x seed matrix with its values written in the cells."""
    fig, ax = plt.subplots(figsize=(5, 4.2))
    image = ax.imshow(matrix.to_numpy(), vmin=0, vmax=1, cmap="viridis")
    labels = [str(s) for s in matrix.index]
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    for (r, c), value in np.ndenumerate(matrix.to_numpy()):
        ax.text(c, r, f"{value:.2f}", ha="center", va="center", color="w" if value < 0.6 else "k")
    ax.set(xlabel="seed", ylabel="seed", title=title)
    fig.colorbar(image, ax=ax, label=colour_label)
    fig.tight_layout()
    return fig


def correlation_vs_k(summary: pd.DataFrame) -> plt.Figure:
    """Mean ± sd over test points of the correlation of TracInCP with TracInIdeal against the
    number of checkpoints k, with first-order TracIn as a dashed line.

    summary: rows of results/validation/ideal/summary.csv with reference "ideal" (columns
    method, checkpoints (empty for first-order TracIn), metric, mean, sd).
    """
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for metric, colour in (("pearson", "C0"), ("spearman", "C1")):
        rows = summary[summary["metric"] == metric]
        cp = rows[rows["checkpoints"].notna()].sort_values("checkpoints")
        ax.errorbar(
            cp["checkpoints"],
            cp["mean"],
            yerr=cp["sd"],
            marker="o",
            color=colour,
            capsize=3,
            label=f"TracInCP, {metric}",
        )
        first = rows.loc[rows["checkpoints"].isna(), "mean"]
        if len(first):
            ax.axhline(
                first.iloc[0], color=colour, ls="--", lw=1, label=f"first-order TracIn, {metric}"
            )
    ax.set_xscale("log")
    ax.set(
        xlabel="number of checkpoints k (log scale)",
        ylabel="correlation with TracInIdeal",
        title="How far TracInCP is from TracInIdeal (SGD, batch size 1)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def detection_curves(curves: pd.DataFrame) -> plt.Figure:
    """Mean ± sd over seeds of the fraction of corrupted targets found against the fraction
    of training data inspected, per score, with the random diagonal.

    curves: rows of `corruption.curves_on_grid` for several seeds (a `seed` column).
    """
    fig, ax = plt.subplots(figsize=(6, 4.8))
    for name, group in curves.groupby("score", sort=False):
        stats = group.groupby("fraction_inspected")["fraction_found"].agg(["mean", "std"])
        x, mean, sd = stats.index.to_numpy(), stats["mean"].to_numpy(), stats["std"].fillna(0)
        ax.plot(x, mean, label=name)
        ax.fill_between(x, mean - sd, mean + sd, alpha=0.2)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="expected for a random order")
    ax.set(
        xlabel="fraction of training data inspected",
        ylabel="fraction of corrupted targets found",
        xlim=(0, 1),
        ylim=(0, 1.01),
        title="Finding corrupted targets (mean ± sd over seeds)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, path) -> None:
    """Write `fig` as a PNG (120 dpi) at `path`, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
