"""Maps and heat maps: the shipped California outline, the latitude-corrected aspect, the
self-influence small multiples, the heat-map scales, error bars within [-1, 1], the
recipe paths' direction of time, the headline figure, saved figures never clipped, and
every figure's words readable by people (no code names, "(s)" plurals or raw TeX)."""

import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.path import Path  # noqa: E402

from tracin_study import geo, plots  # noqa: E402
from tracin_study.influence import ALL_TEST_POINTS  # noqa: E402

# California's bounding box in degrees (Census: -124.48 to -114.13 east, 32.53 to 42.01 north)
CA_LON, CA_LAT = (-124.6, -114.0), (32.4, 42.1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def houses():
    """300 synthetic houses on the 0.01-degree grid inside California's Central Valley and
    coast, with a made-up self-influence."""
    rng = np.random.default_rng(1)
    lat = np.round(rng.uniform(34.0, 38.5, 300), 2)
    lon = np.round(rng.uniform(-121.5, -119.0, 300), 2)
    price = np.round(rng.uniform(0.15, 5.0, 300), 3)
    return pd.DataFrame(
        {"Latitude": lat, "Longitude": lon, "self_influence": rng.random(300), "MedHouseVal": price}
    )


def test_outline_loads_closed_inside_california_bounding_box():
    rings = geo.california_outline()
    assert len(rings) >= 1
    mainland = rings[0]
    assert len(mainland) > 100, "the mainland needs a few hundred vertices, not a sketch"
    for ring in rings:
        assert ring.shape[1] == 2 and np.isfinite(ring).all()
        np.testing.assert_array_equal(ring[0], ring[-1])  # closed
        assert CA_LON[0] <= ring[:, 0].min() and ring[:, 0].max() <= CA_LON[1]
        assert CA_LAT[0] <= ring[:, 1].min() and ring[:, 1].max() <= CA_LAT[1]
    # the state's extremes: Oregon border at 42 N, Mexican border near 32.5 N, Colorado River
    assert mainland[:, 1].max() == pytest.approx(42.0, abs=0.05)
    assert mainland[:, 1].min() == pytest.approx(32.53, abs=0.05)
    assert mainland[:, 0].max() == pytest.approx(-114.13, abs=0.1)


def test_outline_contains_cities_and_not_the_ocean_or_nevada():
    mainland = Path(geo.california_outline()[0])
    inside = {"Sacramento": (-121.49, 38.58), "Fresno": (-119.79, 36.74), "LA": (-118.24, 34.05)}
    outside = {"Pacific": (-124.0, 36.0), "Reno": (-119.81, 39.53), "Las Vegas": (-115.14, 36.17)}
    assert mainland.contains_points(list(inside.values())).all()
    assert not mainland.contains_points(list(outside.values())).any()


def test_latitude_aspect_is_one_over_cos_latitude():
    fig, ax = plt.subplots()
    assert plots.latitude_aspect(ax, 60.0) == pytest.approx(2.0)
    assert ax.get_aspect() == pytest.approx(2.0)


def test_self_influence_maps_draw_outline_and_correct_aspect(houses):
    fig = plots.self_influence_maps(houses, 10, 7, "synthetic")
    assert fig.get_suptitle() == "Seed 7: synthetic"
    extent = plots.california_extent()
    expected = 1 / math.cos(math.radians((extent[2] + extent[3]) / 2))
    for ax in fig.axes:
        assert ax.get_aspect() == pytest.approx(expected)
        assert expected > 1.2  # not "equal": a degree of longitude is shorter than of latitude
        labels = [line.get_label() for line in ax.get_lines()]
        assert "California coast and state border" in labels


def test_palo_alto_zoom_uses_bay_area_latitude_and_outline(houses):
    proponents = pd.DataFrame(
        {"test_index": ALL_TEST_POINTS, "kind": ["proponent", "opponent"], "train_index": [0, 1]}
    )
    fig = plots.palo_alto_map(houses.head(3), proponents, houses, seed=4)
    assert "Seed 4" in fig.get_suptitle()
    zoom = fig.axes[1]
    box = geo.bay_area_extent()
    assert zoom.get_aspect() == pytest.approx(1 / math.cos(math.radians((box[2] + box[3]) / 2)))
    assert zoom.get_xlim() == pytest.approx(box[:2])
    assert len(zoom.get_lines()) >= 2  # state outline and the nine-county polygon
    # the legend lies outside both maps, so it covers no land (the peninsula included)
    fig.canvas.draw()
    legend = fig.legends[0].get_window_extent()
    for ax in fig.axes:
        assert not legend.overlaps(ax.get_window_extent())
    assert not any(ax.get_legend() for ax in fig.axes)


def test_quantile_bins_equal_sized_and_ordered():
    values = np.array([5.0, 1.0, 3.0, 3.0, 9.0, 0.0, 7.0, 2.0, 8.0, 4.0])
    bins = plots.quantile_bins(values, 5)
    assert np.bincount(bins)[1:].tolist() == [2, 2, 2, 2, 2]
    assert bins[values.argmax()] == 5 and bins[values.argmin()] == 1
    order = np.argsort(values, kind="stable")
    assert (np.diff(bins[order]) >= 0).all()
    with pytest.raises(ValueError):
        plots.quantile_bins(values[:3], 10)


def test_small_multiples_one_map_per_seed_drawn_in_random_order(houses):
    tables = {
        seed: houses.assign(self_influence=np.random.default_rng(seed).random(len(houses)))
        for seed in (3, 5, 8, 13)
    }
    fig = plots.self_influence_small_multiples(tables)
    maps = [ax for ax in fig.axes if ax.get_title().startswith("seed ")]
    assert [ax.get_title() for ax in maps] == [f"seed {s}" for s in tables]
    assert len(fig.axes) == len(tables) + 1  # one map per seed and the shared colour bar
    again = plots.self_influence_small_multiples(tables)
    for ax, twin, table in zip(maps, again.axes, tables.values(), strict=False):
        points = ax.collections[0]
        colours = np.asarray(points.get_array())
        assert len(colours) == len(table)
        assert sorted(set(colours.tolist())) == list(range(1, 11))  # deciles 1..10
        # not sorted by decile: the last tenth drawn holds several deciles, not the top one
        assert not (np.diff(colours) >= 0).all()
        assert len(set(colours[-30:].tolist())) > 3
        # every house once, at its own coordinates, in the same order on every call
        drawn = points.get_offsets()
        expected = table[["Longitude", "Latitude"]].to_numpy()
        np.testing.assert_array_equal(np.sort(drawn, 0), np.sort(expected, 0))
        np.testing.assert_array_equal(drawn, twin.collections[0].get_offsets())
        assert ax.get_aspect() > 1.2
    assert "random order" in fig.get_suptitle() and "on top" not in fig.get_suptitle()


def test_small_multiples_rejects_no_tables():
    with pytest.raises(ValueError):
        plots.self_influence_small_multiples({})


def test_heatmaps_side_by_side_sequential_for_overlaps_diverging_for_correlations():
    signed = pd.DataFrame([[1.0, -0.5], [-0.5, 1.0]], index=[0, 1], columns=[0, 1])
    overlap = pd.DataFrame([[1.0, 0.3], [0.3, 1.0]], index=[0, 1], columns=[0, 1])
    fig = plots.heatmaps(
        {"correlation": (signed, "Spearman correlation"), "overlap": (overlap, "share")},
        "synthetic",
    )
    maps = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in maps] == ["correlation", "overlap"]
    left, right = (ax.get_position() for ax in maps)
    assert left.x1 <= right.x0 and left.y0 == pytest.approx(right.y0, abs=0.05)  # one row
    diverging, sequential = (ax.images[0] for ax in maps)
    assert diverging.get_clim() == (-1, 1)
    # centred at 0: the middle of the scale is (nearly) white, the ends are far apart
    assert np.allclose(diverging.get_cmap()(0.5)[:3], 1, atol=0.1)
    assert not np.allclose(diverging.to_rgba(-0.5), diverging.to_rgba(0.5), atol=0.1)
    assert sequential.get_clim() == (0, 1)
    brightness = [sum(sequential.get_cmap()(v)[:3]) for v in np.linspace(0, 1, 11)]
    assert (np.diff(brightness) > 0).all()  # sequential: brighter all the way up
    with pytest.raises(ValueError):
        plots.heatmaps({}, "none")


def test_clipped_error_bars_stay_within_minus_one_and_one():
    mean, sd = np.array([0.95, 0.0, -0.9]), np.array([0.2, 0.3, 0.5])
    low, high = plots.clipped_error(mean, sd)
    np.testing.assert_allclose(mean + high, [1.0, 0.3, -0.4])
    np.testing.assert_allclose(mean - low, [0.75, -0.3, -1.0])
    assert (low >= 0).all() and (high >= 0).all()


def test_correlation_vs_k_draws_the_sgd_run_only():
    rows = [
        ("sgd", "tracin_cp", k, metric, 0.5 + k / 10)
        for k in (1, 2)
        for metric in ("pearson", "spearman")
    ]
    rows += [("sgd", "first_order", None, m, 0.99) for m in ("pearson", "spearman")]
    rows += [("adam", "first_order_raw", None, m, 0.1) for m in ("pearson", "spearman")]
    summary = pd.DataFrame(rows, columns=["optimizer", "method", "checkpoints", "metric", "mean"])
    fig = plots.correlation_vs_k(summary.assign(sd=0.3))
    dashed = [line.get_ydata()[0] for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert dashed == [0.99, 0.99]  # first-order TracIn of the SGD run, not the Adam rows
    bars = [c for c in fig.axes[0].collections if c.get_segments()]
    ends = np.concatenate([np.asarray(seg)[:, 1] for c in bars for seg in c.get_segments()])
    assert len(bars) == 2 and ends.max() == pytest.approx(1.0) and ends.min() >= -1


def _sweep(seeds, epochs=((10, 0.7), (20, 0.75))):
    return pd.DataFrame(
        [
            {"recipe": recipe, "seed": seed, "epoch": epoch}
            | {"train_explained_variance": ev + shift + 0.01 * seed}
            | {"test_explained_variance": ev + shift - 0.05}
            for recipe, shift in (("default", 0.1), ("minmax", 0.0))
            for seed in seeds
            for epoch, ev in epochs
        ]
    )


SELECTION = {"recipe": "minmax", "epoch": 10}
SELECTION |= {"train_explained_variance": 0.705, "test_explained_variance": 0.65}


def test_recipe_paths_draw_each_recipe_the_paper_and_the_choice():
    fig = plots.recipe_paths(_sweep((0, 1)), SELECTION)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert {
        "our default recipe",
        "min-max scaled features",
        "paper (0.72, 0.7)",
        "closest: min-max scaled features, epoch 10",
    } <= set(labels)
    minmax = next(line for line in ax.get_lines() if line.get_label() == "min-max scaled features")
    np.testing.assert_allclose(minmax.get_xdata(), [0.705, 0.755])  # mean over the seeds
    np.testing.assert_allclose(minmax.get_ydata(), [0.65, 0.70])
    assert ax.get_xlabel() and ax.get_ylabel() and "mean over 2 seeds" in ax.get_title()


def test_recipe_paths_show_time_name_a_single_seed_and_stay_inside_the_axes():
    epochs = ((1, 0.1), (10, 0.6), (20, 0.7), (30, 0.75))  # epoch 1 lies below the floor
    fig = plots.recipe_paths(_sweep((3,), epochs), SELECTION, floor=0.4)
    ax = fig.axes[0]
    assert "seed 3" in ax.get_title() and "mean over" not in ax.get_title()
    texts = [t.get_text() for t in ax.texts]
    assert {"ep 10", "ep 30"} <= set(texts) and "ep 1" not in texts
    arrows = [t for t in ax.texts if t.get_text() == "" and t.arrow_patch is not None]
    assert len(arrows) == 2  # one per recipe, on its last step
    for arrow in arrows:
        assert arrow.xy[0] > arrow.xyann[0]  # pointing from epoch 20 to epoch 30
    low, high = ax.get_xlim()
    for line in ax.get_lines():
        data = np.concatenate([line.get_xdata(), line.get_ydata()]).astype(float)
        assert (data >= low).all() and (data <= high).all(), line.get_label()


IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # lowercase words joined by underscores
TEX = re.compile(r"\\[A-Za-z]{2,}")


def figure_words(fig) -> list[str]:
    """Every title, axis label, legend entry and colour-bar label of `fig`."""
    texts = [fig.get_suptitle()] if fig._suptitle else []
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        if ax.get_legend():
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
    for legend in fig.legends:
        texts += [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t]


def unreadable(fig) -> list[str]:
    """The words of `fig` a reader should not meet: code names, "(s)" plurals, raw TeX."""
    return [
        t
        for t in figure_words(fig)
        if IDENTIFIER.search(t) or "(s)" in t or TEX.search(t) or t.count("$") > 1
    ]


def test_the_readability_check_catches_code_names_plurals_and_tex():
    fig, ax = plt.subplots()
    ax.plot([0, 1], label="raw_features")
    ax.set(title="1 checkpoint(s)", xlabel=r"$\\sum_i$ over seeds", ylabel="price ($100,000)")
    ax.legend()
    assert unreadable(fig) == ["1 checkpoint(s)", r"$\\sum_i$ over seeds", "raw_features"]


def _figures(houses):
    """One figure of every kind the report draws, from synthetic tables with the code names
    the pipeline writes."""
    proponents = pd.DataFrame(
        {"test_index": ALL_TEST_POINTS, "kind": ["proponent", "opponent"], "train_index": [0, 1]}
    )
    curves = pd.DataFrame({"epoch": [1, 2], "train_mse": [1.0, 0.5], "test_mse": [1.1, 0.6]})
    chain = pd.DataFrame(
        [("sgd", "tracin_cp", k, m, 0.5, 0.1) for k in (1, 2) for m in ("pearson", "spearman")],
        columns=["optimizer", "method", "checkpoints", "metric", "mean", "sd"],
    )
    detection = pd.DataFrame(
        [
            {"score": score, "seed": seed, "fraction_inspected": x, "fraction_found": x}
            for score in ("self_influence_all_layers", "summed_loss")
            for seed in (0, 1)
            for x in (0.0, 0.5, 1.0)
        ]
    )
    effects = pd.DataFrame(
        {"label": ["Aggregate proponents, chosen by raw TracInCP"] * 2, "k": [10, 100]}
        | {"mean": [1.0, 2.0], "low": [0.0, 1.0], "high": [2.0, 3.0]}
    )
    matrix = pd.DataFrame([[1.0, 0.5], [0.5, 1.0]], index=[0, 1], columns=[0, 1])
    return {
        "training curves": plots.training_curves({0: curves}),
        "self-influence maps": plots.self_influence_maps(houses, 5, 0, "TracInCP self-influence"),
        "small multiples": plots.self_influence_small_multiples({0: houses, 1: houses}),
        "Palo Alto map": plots.palo_alto_map(houses.head(3), proponents, houses, 0),
        "headline": plots.headline(houses.head(3), proponents, houses, effects),
        "explained variance": plots.per_seed_with_reference(
            pd.DataFrame({"train explained variance": [0.9, 0.8]}),
            {"train explained variance": 0.72},
            "explained variance",
            "Explained variance: our seeds vs the paper",
        ),
        "heat maps": plots.heatmaps({"Spearman": (matrix, "Spearman correlation")}, "Seeds"),
        "approximation chain": plots.correlation_vs_k(chain),
        "corruption": plots.detection_curves(detection),
        "removal curves": plots.removal_curves_by_score(_curve_rows(), "fixed_order"),
        "recipe paths": plots.recipe_paths(
            _sweep((0,)).replace({"minmax": "raw_features"}), SELECTION | {"recipe": "raw_features"}
        ),
    }


def test_every_figure_has_words_for_people_in_titles_labels_and_legends(houses):
    for name, fig in _figures(houses).items():
        assert figure_words(fig), f"{name}: no title, label or legend"
        assert unreadable(fig) == [], name


def test_the_maps_show_price_with_a_labelled_colour_bar(houses):
    proponents = pd.DataFrame(
        {"test_index": ALL_TEST_POINTS, "kind": ["proponent", "opponent"], "train_index": [0, 1]}
    )
    for fig in (
        plots.palo_alto_map(houses.head(3), proponents, houses, 0),
        plots.headline(
            houses.head(3),
            proponents,
            houses,
            pd.DataFrame(
                {"label": ["a set"], "k": [10], "mean": [1.0], "low": [0.0], "high": [2.0]}
            ),
        ),
    ):
        bars = [ax for ax in fig.axes if "price" in ax.get_ylabel()]
        assert len(bars) == 1 and "$100,000" in bars[0].get_ylabel()
        filled = [
            c
            for ax in fig.axes
            for c in ax.collections
            if isinstance(c, PathCollection) and c.get_array() is not None
        ]
        prices = np.concatenate([np.asarray(c.get_array()) for c in filled])
        np.testing.assert_allclose(np.unique(prices), np.unique(houses["MedHouseVal"].iloc[[0, 1]]))


def test_the_headline_draws_each_set_with_its_95_percent_interval(houses):
    effects = pd.DataFrame(
        {
            "label": ["TracIn's proponents"] * 2 + ["Map neighbours (baseline)"] * 2,
            "k": [10, 1000, 10, 1000],
            "mean": [1.0, 20.0, 5.0, 15.0],
            "low": [-4.0, 2.0, -1.0, -10.0],
            "high": [6.0, 38.0, 11.0, 40.0],
        }
    )
    proponents = pd.DataFrame({"test_index": [], "kind": [], "train_index": []})
    fig = plots.headline(houses.head(3), proponents, houses, effects)
    right = fig.axes[1]
    assert right.get_xscale() == "log"
    lines = [line for line in right.get_lines() if line.get_marker() == "o"]
    ys = [np.asarray(line.get_ydata(), float) for line in lines]
    np.testing.assert_allclose(ys, [[1, 20], [5, 15]])
    bars = [c for c in right.collections if c.get_segments()]
    ends = sorted(np.concatenate([np.asarray(s)[:, 1] for c in bars for s in c.get_segments()]))
    np.testing.assert_allclose(ends, sorted([-4, 6, 2, 38, -1, 11, -10, 40]))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"TracIn's proponents", "Map neighbours (baseline)"} <= set(labels)


def test_saved_figures_keep_what_lies_outside_the_axes(tmp_path):
    from PIL import Image

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], label="a line")
    fig.legend(loc="center left", bbox_to_anchor=(0.95, 0.5))  # past the right edge
    plots.save(fig, tmp_path / "figure.png")
    width, _ = Image.open(tmp_path / "figure.png").size
    assert width > 4 * 120  # wider than the figure itself: the legend past its edge is kept


def _curve_rows(with_house: bool = False):
    sets = [
        ("aggregate_proponents", "raw", 0.02),
        ("aggregate_opponents", "raw", -0.01),
        ("aggregate_proponents", "adam", 0.03),
        ("aggregate_opponents", "adam", -0.02),
        ("map_neighbours", np.nan, 0.01),
        ("random", np.nan, 0.0),
        ("house_proponents", "raw", 0.05),  # judged per house: not in the headline figure
    ]
    rows = []
    for house in (3, 7, 9) if with_house else (None,):
        for s, score, m in sets:
            for k in (1000, 10, 100):
                row = {"protocol": "fixed_order", "score": score, "set": s, "k": k}
                row |= {"mean": m * math.log10(k), "ci95_low": m - 0.01, "ci95_high": m + 0.01}
                rows.append(row | ({"house": house} if with_house else {}))
    return pd.DataFrame(rows)


def test_removal_curves_by_score_draw_each_score_with_the_shared_baselines():
    fig = plots.removal_curves_by_score(_curve_rows(), "fixed_order")
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert [ax.get_title() for ax in panels] == ["raw TracInCP", "Adam-preconditioned"]
    assert panels[0].get_xscale() == "log"
    for ax in panels:  # proponents, opponents, map neighbours, random, the zero line
        assert len(ax.get_lines()) == 5
    lines = {line.get_label(): line for line in panels[0].get_lines()}
    np.testing.assert_array_equal(lines["aggregate opponents"].get_xdata(), [10, 100, 1000])
    np.testing.assert_allclose(lines["aggregate opponents"].get_ydata(), [-1.0, -2.0, -3.0])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["aggregate proponents", "aggregate opponents", "map neighbours", "random"]
    with pytest.raises(ValueError, match="no rows of protocol 'new_order'"):
        plots.removal_curves_by_score(_curve_rows(), "new_order")


def test_removal_house_curves_draw_one_panel_per_house():
    fig = plots.removal_house_curves(_curve_rows(with_house=True), "fixed_order", "adam")
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_lines()]
    assert [ax.get_title() for ax in panels] == [f"test house {h}" for h in (3, 7, 9)]
    lines = {line.get_label(): line for line in panels[0].get_lines()}
    np.testing.assert_allclose(lines["aggregate proponents"].get_ydata(), [3.0, 6.0, 9.0])
    assert len(panels[1].get_lines()) == 5  # four sets and the zero line
    with pytest.raises(ValueError, match="score 'nope'"):
        plots.removal_house_curves(_curve_rows(with_house=True), "fixed_order", "nope")
