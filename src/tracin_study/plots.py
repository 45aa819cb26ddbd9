"""Figures of the study. Each function returns a matplotlib Figure with a title, axis labels
with units and a legend; maps are drawn from the houses' own coordinates (no tiles), over the
California coastline and state border shipped with the package (`geo.california_outline`),
with an aspect of 1 / cos(latitude) at the middle of the map so that a km north and a km east
are drawn the same length."""

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm

from tracin_study.geo import BAY_AREA_POLYGON, bay_area_extent, california_outline
from tracin_study.influence import ALL_TEST_POINTS
from tracin_study.names import RECIPE_WORDS, SCORE_NAMES, name_for
from tracin_study.paper import EXPLAINED_VARIANCE as PAPER_EV
from tracin_study.recipes import DEFAULT

LON, LAT = "Longitude (degrees east)", "Latitude (degrees north)"
BACKGROUND = {"s": 1, "c": "0.8", "alpha": 0.4, "linewidths": 0, "label": "all training houses"}
OUTLINE = {"color": "0.25", "lw": 0.7}


def california_extent(pad: float = 0.3) -> tuple[float, float, float, float]:
    """(lon_min, lon_max, lat_min, lat_max) of the California outline, padded by `pad`
    degrees."""
    points = np.vstack(california_outline())
    lon, lat = points[:, 0], points[:, 1]
    return lon.min() - pad, lon.max() + pad, lat.min() - pad, lat.max() + pad


def latitude_aspect(ax, latitude: float) -> float:
    """Set the aspect of `ax` (degrees of longitude on x, latitude on y) to 1 / cos(latitude)
    so that distances are true in both directions at that latitude; returns the aspect."""
    aspect = 1 / math.cos(math.radians(latitude))
    ax.set_aspect(aspect)
    return aspect


def _draw_california(ax) -> None:
    for i, ring in enumerate(california_outline()):
        label = "California coast and state border" if i == 0 else None
        ax.plot(ring[:, 0], ring[:, 1], label=label, zorder=1, **OUTLINE)


def _map_axes(ax, background: pd.DataFrame | None, title: str, extent=None) -> None:
    """Outline, grey background houses (if any), labels, limits (`extent`: lon_min,
    lon_max, lat_min, lat_max; default the whole state) and the latitude-corrected aspect."""
    extent = extent or california_extent()
    _draw_california(ax)
    if background is not None:
        ax.scatter(background["Longitude"], background["Latitude"], **BACKGROUND)
    ax.set(xlabel=LON, ylabel=LAT, title=title, xlim=extent[:2], ylim=extent[2:])
    latitude_aspect(ax, (extent[2] + extent[3]) / 2)


def training_curves(curves: dict[int, pd.DataFrame]) -> plt.Figure:
    """Training and test MSE per epoch, one colour per seed."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (seed, curve) in enumerate(curves.items()):
        colour = f"C{i}"
        ax.plot(curve["epoch"], curve["train_mse"], color=colour, label=f"seed {seed} train")
        ax.plot(curve["epoch"], curve["test_mse"], color=colour, ls="--", label=f"seed {seed} test")
    ax.set(
        xlabel="epoch",
        ylabel="mean squared error (($100,000)²)",
        yscale="log",
        title="Training curves\n(train: mean over the epoch's batches; test: at the epoch's end)",
    )
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def self_influence_maps(
    table: pd.DataFrame, n: int, seed: int, title: str, column: str = "self_influence"
) -> plt.Figure:
    """Two maps under "Seed `seed`: `title`": the n training houses with the highest and
    lowest `column` in that seed's `table`."""
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
    fig.suptitle(f"Seed {seed}: {title}")
    fig.tight_layout()
    return fig


def quantile_bins(values, quantiles: int = 10) -> np.ndarray:
    """Quantile bin (1 = lowest, ..., `quantiles` = highest) of each value: values are
    ranked with ties broken by row order, so every bin holds the same number of rows (to
    within one) and the binning is deterministic."""
    values = np.asarray(values, np.float64)
    if len(values) < quantiles:
        raise ValueError(f"{len(values)} values cannot fill {quantiles} quantile bins")
    rank = np.empty(len(values), np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(len(values))
    return rank * quantiles // len(values) + 1


def self_influence_small_multiples(
    tables: dict[int, pd.DataFrame],
    column: str = "self_influence",
    quantiles: int = 10,
    title: str | None = None,
    draw_seed: int = 0,
) -> plt.Figure:
    """One map per seed of the training houses coloured by the quantile (decile by default)
    of `column` within that seed, on a shared discrete colour scale.

    tables: seed -> table with columns Latitude, Longitude and `column`.

    Houses sit on a 0.01-degree grid, so many share a point: each house is a small marker
    and the houses are drawn in a random order (`draw_seed`, the same for every map), so
    where houses overlap no quantile is favoured over another. No jitter is added: every
    marker is at the house's own coordinates.
    """
    if not tables:
        raise ValueError("no tables to draw")
    n = len(tables)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.6 * ncols + 1.2, 5.2 * nrows), squeeze=False, layout="constrained"
    )
    cmap = plt.get_cmap("viridis", quantiles)
    norm = BoundaryNorm(np.arange(quantiles + 1) + 0.5, cmap.N)
    for ax, (seed, table) in zip(axes.flat, tables.items(), strict=False):
        bins = quantile_bins(table[column], quantiles)
        order = np.random.default_rng(draw_seed).permutation(len(bins))  # no quantile on top
        ax.scatter(
            table["Longitude"].to_numpy()[order],
            table["Latitude"].to_numpy()[order],
            c=bins[order],
            cmap=cmap,
            norm=norm,
            s=2,
            linewidths=0,
            rasterized=True,
        )
        _map_axes(ax, None, f"seed {seed}")
        ax.title.set_fontsize(14)
        ax.legend(loc="upper right", fontsize=12)
    for ax in axes.flat[n:]:
        fig.delaxes(ax)
    name = "decile" if quantiles == 10 else "quantile"
    bar = fig.colorbar(
        plt.cm.ScalarMappable(norm=norm, cmap=cmap),
        ax=list(axes.flat[:n]),
        ticks=np.arange(1, quantiles + 1),
        shrink=0.8,
    )
    bar.set_label(f"{name} of {column.replace('_', ' ')} within the seed (1 = lowest)", fontsize=14)
    bar.ax.tick_params(labelsize=12)
    fig.suptitle(
        title
        or f"{column.replace('_', ' ').capitalize()} by {name}, one map per seed\n"
        f"(houses overlap on a 0.01° grid: drawn in a random order, fixed seed {draw_seed})"
    )
    return fig


PRICE = "MedHouseVal"  # the training table's price column, $100,000
PRICE_SCALE = {"cmap": "viridis", "vmin": 0.15, "vmax": 5.0}  # the table's price range
KINDS = (("proponent", "^"), ("opponent", "v"))


def _chosen_houses(ax, chosen: pd.DataFrame, train: pd.DataFrame, size: float = 36):
    """Proponents (up) and opponents (down) filled by their price; returns the last
    scatter (for a colour bar)."""
    drawn = None
    for kind, marker in KINDS:
        idx = chosen.loc[chosen["kind"] == kind, "train_index"].to_numpy()
        part = train.iloc[idx]
        drawn = ax.scatter(
            part["Longitude"],
            part["Latitude"],
            marker=marker,
            s=size,
            c=part[PRICE],
            edgecolors="k",
            linewidths=0.4,
            zorder=3,
            **PRICE_SCALE,
        )
    return drawn


def _test_houses(ax, houses: pd.DataFrame) -> None:
    ax.scatter(
        houses["Longitude"],
        houses["Latitude"],
        marker="*",
        s=150,
        c="crimson",
        edgecolors="k",
        linewidths=0.5,
        zorder=4,
    )


def _map_legend(chosen: pd.DataFrame, houses: pd.DataFrame) -> list:
    """Legend entries of a proponent map: the markers, unfilled (their fill is the price)."""
    from matplotlib.lines import Line2D

    counts = chosen["kind"].value_counts()
    entries = [
        Line2D(
            [],
            [],
            ls="",
            marker=marker,
            mfc="white",
            mec="k",
            ms=8,
            label=f"{counts.get(kind, 0)} {kind}s (filled by price)",
        )
        for kind, marker in KINDS
    ]
    entries.append(
        Line2D(
            [],
            [],
            ls="",
            marker="*",
            mfc="crimson",
            mec="k",
            ms=12,
            label=f"{len(houses)} Palo Alto test houses",
        )
    )
    entries.append(
        Line2D([], [], ls="", marker="o", mfc="0.8", mec="0.8", ms=4, label="all training houses")
    )
    return entries


def palo_alto_map(
    houses: pd.DataFrame,
    proponents: pd.DataFrame,
    train: pd.DataFrame,
    seed: int,
    test_index: int = ALL_TEST_POINTS,
) -> plt.Figure:
    """The Palo Alto test houses with the proponents and opponents of `test_index`
    (`ALL_TEST_POINTS`: of all of them together) in seed `seed`'s `proponents`, on the whole
    state and zoomed on the Bay Area, each filled by its price (`PRICE` in `train`, with a
    colour bar). The legend sits below the maps, clear of the land."""
    chosen = proponents[proponents["test_index"] == test_index]
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.5))
    for ax, title, box in (
        (axes[0], "California", None),
        (axes[1], "San Francisco Bay Area (nine counties)", bay_area_extent()),
    ):
        _map_axes(ax, train, title, box)
        drawn = _chosen_houses(ax, chosen, train)
        _test_houses(ax, houses)
        if box:
            outline = np.vstack([BAY_AREA_POLYGON, BAY_AREA_POLYGON[:1]])
            ax.plot(*outline.T, c="0.4", lw=0.8, ls=":", label="Bay Area (nine counties)")
    bar = fig.colorbar(drawn, ax=axes[1], shrink=0.8)
    bar.set_label("price of the training house ($100,000)", fontsize=11)
    bar.ax.tick_params(labelsize=10)
    entries = _map_legend(chosen, houses) + axes[1].get_legend_handles_labels()[0]
    fig.legend(handles=entries, loc="lower center", ncol=3, fontsize=11, frameon=False)
    which = (
        "all Palo Alto test houses" if test_index == ALL_TEST_POINTS else f"test house {test_index}"
    )
    fig.suptitle(f"Seed {seed}: proponents and opponents of {which}", fontsize=13)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def headline(
    houses: pd.DataFrame, proponents: pd.DataFrame, train: pd.DataFrame, effects: pd.DataFrame
) -> plt.Figure:
    """The study at a glance: left, the Palo Alto test houses and the proponents and
    opponents of all of them together on the Bay Area map, filled by price; right, the rise
    of the Palo Alto loss after removing k chosen houses beyond removing k random ones, with
    95% intervals over seeds, per set of houses.

    effects: one row per (label, k) with mean, low and high in % of the full model's loss.
    """
    chosen = proponents[proponents["test_index"] == ALL_TEST_POINTS]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [1, 1.1]})
    _map_axes(left, train, "Proponents and opponents on the map", bay_area_extent())
    drawn = _chosen_houses(left, chosen, train)
    _test_houses(left, houses)
    bar = fig.colorbar(drawn, ax=left, shrink=0.75, pad=0.02)
    bar.set_label("price ($100,000)", fontsize=11)
    labels = list(dict.fromkeys(effects["label"]))
    for i, label in enumerate(labels):
        part = effects[effects["label"] == label].sort_values("k")
        shift = 1.08 ** (i - (len(labels) - 1) / 2)  # side by side on the log axis
        right.errorbar(
            part["k"] * shift,
            part["mean"],
            yerr=[part["mean"] - part["low"], part["high"] - part["mean"]],
            fmt="o-",
            ms=5,
            capsize=3,
            color=f"C{i}",
            label=label,
        )
    right.axhline(0, color="grey", lw=1, ls=":")
    ks = sorted(set(effects["k"]))
    if ks and max(ks) > 10 * min(ks):
        right.set_xscale("log")
        right.minorticks_off()
    right.set_xticks(ks, [str(k) for k in ks])
    right.set(
        xlabel="training houses removed, k (houses)",
        ylabel="rise of the Palo Alto loss beyond removing\n"
        "k random houses (% of the full model's)",
        title="Retraining without the chosen houses (95% intervals)",
    )
    handles = _map_legend(chosen, houses)[:3] + right.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=10, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
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


def colour_scale(matrix: pd.DataFrame) -> tuple[str, float, float]:
    """(colour map, low, high) for a matrix of correlations or overlaps: a sequential 0..1
    scale when every value lies in [0, 1] (overlaps, positive correlations), otherwise a
    diverging scale centred at 0 with limits [-1, 1]."""
    values = matrix.to_numpy(np.float64)
    if np.nanmin(values) >= 0 and np.nanmax(values) <= 1:
        return "viridis", 0.0, 1.0
    return "RdBu_r", -1.0, 1.0


def heatmaps(panels: dict[str, tuple[pd.DataFrame, str]], title: str) -> plt.Figure:
    """Seed x seed matrices side by side under `title`, each with its values written in the
    cells and its own colour bar (`colour_scale`). panels: panel title -> (matrix, colour
    bar label)."""
    n = len(panels)
    if not n:
        raise ValueError("no matrices to draw")
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.8), squeeze=False, layout="constrained")
    for ax, (name, (matrix, label)) in zip(axes[0], panels.items(), strict=True):
        cmap, low, high = colour_scale(matrix)
        image = ax.imshow(matrix.to_numpy(), vmin=low, vmax=high, cmap=cmap)
        ticks = [str(s) for s in matrix.index]
        ax.set_xticks(range(len(ticks)), ticks)
        ax.set_yticks(range(len(ticks)), ticks)
        for (r, c), value in np.ndenumerate(matrix.to_numpy()):
            dark = image.cmap(image.norm(value))[:3]
            colour = "w" if sum(dark) < 1.5 else "k"
            ax.text(c, r, f"{value:.2f}", ha="center", va="center", color=colour, fontsize=8)
        ax.set(xlabel="seed", ylabel="seed", title=name)
        fig.colorbar(image, ax=ax, label=label, shrink=0.85)
    fig.suptitle(title)
    return fig


def clipped_error(mean, sd, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Asymmetric error bars (2, n) for matplotlib's `yerr`: mean ± sd cut to [low, high],
    so that a bar of a correlation never runs past ±1."""
    mean, sd = np.asarray(mean, np.float64), np.asarray(sd, np.float64)
    return np.vstack([mean - np.maximum(mean - sd, low), np.minimum(mean + sd, high) - mean])


def correlation_vs_k(summary: pd.DataFrame) -> plt.Figure:
    """Mean ± sd over test points of the correlation of TracInCP with TracInIdeal against the
    number of checkpoints k, with first-order TracIn as a dashed line, for the SGD run. The
    bars are cut at the correlation range [-1, 1] (`clipped_error`).

    summary: rows of results/approximation_chain/summary.csv with reference "ideal" (columns
    optimizer, method, checkpoints (empty for first-order TracIn), metric, mean, sd); rows
    of other optimizers are left out.
    """
    fig, ax = plt.subplots(figsize=(6, 4.2))
    sgd = summary[summary["optimizer"] == "sgd"]
    for metric, colour in (("pearson", "C0"), ("spearman", "C1")):
        rows = sgd[sgd["metric"] == metric]
        cp = rows[rows["checkpoints"].notna()].sort_values("checkpoints")
        ax.errorbar(
            cp["checkpoints"],
            cp["mean"],
            yerr=clipped_error(cp["mean"], cp["sd"]),
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
        ylabel="correlation with TracInIdeal (bars: ± sd, cut at 1)",
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
        ax.plot(x, mean, label=name_for(SCORE_NAMES, name))
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


REMOVAL_SCORES = {"raw": "raw TracInCP", "adam": "Adam-preconditioned"}


REMOVAL_STYLES = {  # set -> colour and marker of its removal curve, in every figure
    "aggregate_proponents": ("C3", "o"),
    "aggregate_opponents": ("C0", "v"),
    "map_neighbours": ("C2", "s"),
    "random": ("0.4", "x"),
}


def _removal_axis(ax, k) -> None:
    """Log k axis with the sizes as ticks, and the zero line."""
    ax.axhline(0, color="grey", lw=1, ls=":")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sorted(set(k)), [str(v) for v in sorted(set(k))])


def _removal_lines(ax, part: pd.DataFrame, label: bool) -> None:
    """One curve per set of `part` (rows of one score plus the score-free sets) with its
    95% interval across seeds as a band, in % of the full model's loss."""
    for name, line in part.groupby("set", sort=False):
        colour, marker = REMOVAL_STYLES.get(name, ("k", "."))
        line = line.sort_values("k")
        k = line["k"].to_numpy()
        mean = 100 * line["mean"].to_numpy()
        low = 100 * line["ci95_low"].fillna(line["mean"]).to_numpy()
        high = 100 * line["ci95_high"].fillna(line["mean"]).to_numpy()
        text = name.replace("_", " ") if label else "_nolegend_"
        ax.plot(k, mean, marker=marker, ms=4, color=colour, label=text)
        ax.fill_between(k, low, high, color=colour, alpha=0.15, lw=0)


def removal_curves_by_score(curves: pd.DataFrame, protocol: str) -> plt.Figure:
    """The headline figure of the removal test: the change of the summed Palo Alto loss
    after removing k training houses, in % of the full model's, against k (log axis), one
    panel per TracIn score: its aggregate proponents and opponents, and in each panel the
    map neighbours and the random draws; bands are 95% intervals across seeds.

    curves: `removal_verdicts.curves` rows (protocol, score, set, k, mean, ci95_low,
    ci95_high, ...) of the judged `protocol`; score-free sets have an empty score (NaN
    once read from CSV). Sets outside `REMOVAL_STYLES` (each house's own sets, judged per
    house) are left out."""
    curves = curves[(curves["protocol"] == protocol) & curves["set"].isin(REMOVAL_STYLES)]
    curves = curves.fillna({"score": ""})
    if curves.empty:
        raise ValueError(f"the removal curves hold no rows of protocol {protocol!r}")
    scores = [s for s in dict.fromkeys(curves["score"]) if s]
    shared = curves[curves["score"] == ""]
    fig, axes = plt.subplots(
        1, len(scores), figsize=(5.2 * len(scores), 4.6), sharey=True, squeeze=False
    )
    for i, (ax, score) in enumerate(zip(axes[0], scores, strict=True)):
        _removal_lines(ax, pd.concat([curves[curves["score"] == score], shared]), i == 0)
        _removal_axis(ax, curves["k"])
        ax.set(xlabel="training houses removed, k", title=REMOVAL_SCORES.get(score, score))
    axes[0][0].set_ylabel("change of the summed Palo Alto loss\n(% of the full model's loss)")
    fig.suptitle(
        f"Removal curves, {protocol.replace('_', ' ')} protocol (95% intervals over seeds)"
    )
    fig.legend(loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def removal_house_curves(house_curves: pd.DataFrame, protocol: str, score: str) -> plt.Figure:
    """Small multiples, one panel per Palo Alto test house: the change of that house's loss
    (in % of the mean full-model loss of the houses) against k (log axis) after removing
    the aggregate proponents and opponents of `score`, the map neighbours and the random
    draws, with 95% intervals across seeds.

    house_curves: `removal_verdicts.house_curves` rows (protocol, score, set, k, house,
    mean, ci95_low, ci95_high, ...)."""
    table = house_curves[
        (house_curves["protocol"] == protocol) & house_curves["set"].isin(REMOVAL_STYLES)
    ].fillna({"score": ""})
    if not (table["score"] == score).any():
        raise ValueError(f"the house curves hold no rows of protocol {protocol!r}, score {score!r}")
    table = table[table["score"].isin(["", score])]
    houses = sorted(set(table["house"]))
    cols = min(4, len(houses))
    rows = math.ceil(len(houses) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.4 * cols, 2.6 * rows), sharex=True, squeeze=False
    )
    for i, (ax, house) in enumerate(zip(axes.flat[: len(houses)], houses, strict=True)):
        _removal_lines(ax, table[table["house"] == house], i == 0)
        _removal_axis(ax, table["k"])
        ax.set_title(f"test house {house}", fontsize=9)
    for ax in list(axes.flat)[len(houses) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("loss change (%)")
    for ax in axes[-1]:
        ax.set_xlabel("k")
    fig.suptitle(f"Removal curves per house, {REMOVAL_SCORES.get(score, score)} (95% intervals)")
    fig.legend(loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def recipe_paths(table: pd.DataFrame, selection: dict, floor: float = 0.4) -> plt.Figure:
    """Each recipe's (train, test) explained variance over epochs, from the sweep's table
    (`sweep.ev_table`: recipe, seed, epoch and both EVs; the mean over seeds when there are
    several), with the paper's point, our default recipe's last epoch and the `selection`
    (`sweep.select_closest`). Both axes run from `floor` to 1; epochs with an EV below it
    (early epochs of raw features) are left out, so every line stays inside the axes. Each
    path is labelled with its first and last epoch and ends in an arrow: time runs along it."""
    ev = ["train_explained_variance", "test_explained_variance"]
    paths = table.groupby(["recipe", "epoch"], as_index=False)[ev].mean()
    seeds = sorted(table["seed"].unique())
    over = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean over {len(seeds)} seeds"
    fig, ax = plt.subplots(figsize=(7, 6))
    for i, (recipe, path) in enumerate(paths.groupby("recipe", sort=True)):
        path = path.sort_values("epoch")
        inside = (path["train_explained_variance"] >= floor) & (
            path["test_explained_variance"] >= floor
        )
        path = path[inside]
        if path.empty:
            continue
        default = recipe == DEFAULT
        colour = "black" if default else f"C{i}"
        x, y = path["train_explained_variance"], path["test_explained_variance"]
        label = name_for(RECIPE_WORDS, recipe)
        ax.plot(x, y, "-o", ms=2.5, lw=1.8 if default else 1, color=colour, label=label)
        for j in (0, -1):
            ax.annotate(
                f"ep {path['epoch'].iloc[j]}",
                (x.iloc[j], y.iloc[j]),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7,
                color=colour,
                annotation_clip=True,
            )
        if len(path) > 1:
            ax.annotate(
                "",
                xy=(x.iloc[-1], y.iloc[-1]),
                xytext=(x.iloc[-2], y.iloc[-2]),
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1},
            )
        if default:
            ax.scatter(
                x.iloc[-1],
                y.iloc[-1],
                s=90,
                marker="s",
                facecolors="none",
                edgecolors="black",
                zorder=3,
                label="our default recipe, last epoch",
            )
    ax.scatter(
        PAPER_EV["train"],
        PAPER_EV["test"],
        s=140,
        marker="*",
        color="crimson",
        zorder=4,
        label=f"paper ({PAPER_EV['train']}, {PAPER_EV['test']})",
    )
    ax.scatter(
        selection["train_explained_variance"],
        selection["test_explained_variance"],
        s=160,
        facecolors="none",
        edgecolors="crimson",
        lw=1.5,
        zorder=4,
        label=f"closest: {name_for(RECIPE_WORDS, selection['recipe'])}, epoch {selection['epoch']}",
    )
    limits = (floor, 1.0)
    ax.plot(limits, limits, color="0.7", lw=0.8, ls=":", label="train = test")
    ax.set(
        xlabel="explained variance, training split",
        ylabel="explained variance, test split",
        xlim=limits,
        ylim=limits,
        title=f"Explained variance over epochs, {over}, per recipe\n"
        f"(arrows: direction of training, labels: first and last epoch; epochs below {floor} "
        "left out)",
    )
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, path) -> None:
    """Write `fig` as a PNG (120 dpi) at `path`, creating its folder; the image is cut to
    what the figure draws (legends and titles outside the axes included), never clipped."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight", pad_inches=0.15)
