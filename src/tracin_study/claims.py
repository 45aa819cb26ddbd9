"""The claims we test, each with its source, and their evaluation.

The paper's stated facts are in `tracin_study.paper`; `claims` and `removal_claims` give the
tested claims, each with the measurement, its null, the claimed direction and the margin of
its `tracin_study.verdicts` rule. `evaluate_claims` measures every claim per seed and
returns a display table and one JSON-ready dict per claim.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracin_study.data import CAPPED_PRICE, TARGET, PreparedData, neighbour_distances
from tracin_study.influence import ALL_TEST_POINTS
from tracin_study.loss_rankings import SCORES, compare_rankings
from tracin_study.palo_alto import (
    BASELINES,
    aggregate,
    baseline_sets,
    baseline_table,
    map_neighbours,
    odd_houses,
)
from tracin_study.paper import (
    CA_SECTION,
    REMOVAL_READING,
    SELF_INFLUENCE_READING,
    SHORT_SOURCES,
    TEST_EXPLAINED_VARIANCE,
    TRAIN_EXPLAINED_VARIANCE,
)
from tracin_study.run_plans import AGGREGATE
from tracin_study.statistics import mean_sd_ci, t_quantile
from tracin_study.verdicts import OUTCOMES, EffectRule, ValueRule

RATIO_MARGIN = (0.9, 1.1)


@dataclass(frozen=True)
class Claim:
    """A tested claim: `column` of the per-seed measurements under `rule`, with baselines
    (label -> column) measured the same way, and `notes` (key, value) copied into its doc."""

    id: str
    text: str
    source: str
    measurement: str
    column: str
    rule: EffectRule | ValueRule
    baselines: tuple[tuple[str, str], ...] = ()
    notes: tuple[tuple[str, object], ...] = ()  # further keys of the claim's doc


def _loss_baselines(measure: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"ranked by {SCORES[s]}", f"{measure}__{s}") for s in SCORES if s != "self_influence"
    )


def _price_baselines() -> tuple[tuple[str, str], ...]:
    ceiling = ("highest attainable: every proponent at the cap", "price_ratio_ceiling")
    others = [name for name in BASELINES if name != "map_neighbours"]
    return (ceiling, *((f"vs {BASELINES[name]}", f"price_ratio__{name}") for name in others))


def claims(top_n: int, k: int) -> tuple[Claim, ...]:
    """The tested claims for top/bottom sets of `top_n` houses and `k` proponents."""
    ratio = EffectRule(null=1.0, direction=1, margin=RATIO_MARGIN)
    return (
        Claim(
            "train_explained_variance",
            f"explained variance {TRAIN_EXPLAINED_VARIANCE:.2f} on the training split",
            CA_SECTION,
            "explained variance of the final model, training split",
            "train_explained_variance",
            ValueRule(target=TRAIN_EXPLAINED_VARIANCE, tolerance=0.03),
        ),
        Claim(
            "test_explained_variance",
            f"explained variance {TEST_EXPLAINED_VARIANCE:.2f} on the test split",
            CA_SECTION,
            "explained variance of the final model, test split",
            "test_explained_variance",
            ValueRule(target=TEST_EXPLAINED_VARIANCE, tolerance=0.03),
        ),
        Claim(
            "palo_alto_proponents_expensive",
            "the proponents of the Palo Alto test houses are expensive houses",
            CA_SECTION,
            f"mean price of the {k} aggregate proponents / mean price of the {k} training "
            "houses nearest on the map to the test houses",
            "price_ratio__map_neighbours",
            ratio,
            _price_baselines(),
        ),
        Claim(
            "high_self_influence_rare",
            "high self-influence houses are rare (in sparse regions of feature space)",
            SELF_INFLUENCE_READING,
            f"median distance to the 10 nearest neighbours, top {top_n} / all",
            "knn_ratio_high__self_influence",
            ratio,
            _loss_baselines("knn_ratio_high"),
        ),
        Claim(
            "high_self_influence_unusual_labels",
            "high self-influence houses have unusual labels (capped prices)",
            SELF_INFLUENCE_READING,
            f"share of capped prices, top {top_n} / all",
            "capped_ratio_high__self_influence",
            ratio,
            _loss_baselines("capped_ratio_high"),
        ),
        Claim(
            "low_self_influence_typical",
            "low self-influence houses are typical (in dense regions of feature space)",
            SELF_INFLUENCE_READING,
            f"median distance to the 10 nearest neighbours, lowest {top_n} / all",
            "knn_ratio_low__self_influence",
            EffectRule(null=1.0, direction=-1, margin=RATIO_MARGIN),
            _loss_baselines("knn_ratio_low"),
        ),
    )


REMOVAL_RULE = EffectRule(null=0.0, direction=1, margin=(-0.05, 0.05))
"""The removal claims' rule, that of the removal verdicts (`removal_verdicts.rule(1)`)."""
"""`house` of the removal verdicts on the Palo Alto houses together."""


def _removal_rows(removal: dict, set_name: str, score: str) -> dict[int, dict]:
    """k -> the aggregate verdict row of `set_name` under `score` and the judged protocol."""
    return {
        row["k"]: row
        for row in removal["verdicts"]
        if (row["set"], row["score"], row["house"]) == (set_name, score, AGGREGATE)
        and row["protocol"] == removal["protocol"]
    }


def removal_claims(removal: dict, score: str) -> tuple[tuple[Claim, ...], pd.DataFrame]:
    """The removal claims under `score` ("raw", "adam") and their per-seed measurements
    (one row per seed), from a removal summary (`removal_verdicts.summary` with its
    `protocol`, as the removal_summary rule writes it). Per size k: the effect of removing
    the aggregate proponents (the relative rise in the summed Palo Alto loss minus that of
    the random draws of k, column `removal_vs_random__k<k>`) and, where the map neighbours
    were removed, its excess over theirs (`removal_vs_map_neighbours__k<k>`). Each claim
    carries the smallest effect the test could detect (`detectable_effect`, relative)."""
    proponents = _removal_rows(removal, "aggregate_proponents", score)
    neighbours = _removal_rows(removal, "map_neighbours", "")
    columns, claim_list = {}, []
    measure = (
        "rise in the summed Palo Alto test loss after removing the {k} aggregate proponents "
        "minus the rise after removing {what}, / the full model's summed loss ({protocol})"
    )
    for k, row in sorted(proponents.items()):
        column = f"removal_vs_random__k{k}"
        columns[column] = {int(s): v for s, v in row["per_seed"].items()}
        what = f"{k} random training houses (mean over draws)"
        claim_list.append(
            Claim(
                f"removing_proponents_vs_random_k{k}",
                f"removing the {k} proponents raises the Palo Alto test loss more than "
                f"removing {k} random training houses",
                REMOVAL_READING,
                measure.format(k=k, what=what, protocol=removal["protocol"]),
                column,
                REMOVAL_RULE,
                notes=(("detectable_effect", row["detectable_effect"]),),
            )
        )
        if k not in neighbours:
            continue
        column = f"removal_vs_map_neighbours__k{k}"
        other = neighbours[k]["per_seed"]
        columns[column] = {int(s): v - other[s] for s, v in row["per_seed"].items() if s in other}
        # both sets carry one retraining's noise per seed: sd x sqrt(2) for the difference
        n = len(columns[column])
        noise = row["noise_sd"] or math.nan
        h = t_quantile(n - 1) * noise * math.sqrt(2 / n) if n > 1 else math.nan
        margin = REMOVAL_RULE.margin[1]
        claim_list.append(
            Claim(
                f"removing_proponents_vs_map_neighbours_k{k}",
                f"removing the {k} proponents raises the Palo Alto test loss more than "
                f"removing the {k} training houses nearest on the map",
                REMOVAL_READING,
                measure.format(k=k, what=f"the {k} map neighbours", protocol=removal["protocol"]),
                column,
                REMOVAL_RULE,
                notes=(("detectable_effect", max(h, margin - h) if math.isfinite(h) else None),),
            )
        )
    measurements = pd.DataFrame(columns).rename_axis("seed")
    return tuple(claim_list), measurements


def seed_measurements(
    self_influence: dict[int, pd.DataFrame],
    proponents: dict[int, pd.DataFrame],
    prepared: PreparedData,
    houses: pd.DataFrame,
    metrics: dict[int, dict],
    top_n: int,
) -> pd.DataFrame:
    """Every per-seed measurement the claims use, one row per seed.

    self_influence: seed -> self_influence.parquet table (with final_loss, summed_loss);
    proponents: seed -> proponents.parquet table; houses: palo_alto_test_points.csv;
    metrics: seed -> metrics.json. Columns: `<split>_explained_variance`, the
    `loss_rankings.compare_rankings` keys, and for the proponents and each of
    `palo_alto.BASELINES`: `mean_price__<set>`, `capped_share__<set>`,
    `mean_percentile__<set>` and `price_ratio__<set>` (proponents' mean price / the set's),
    and `price_ratio_ceiling`, the highest `price_ratio__map_neighbours` prices allow.
    """
    knn = neighbour_distances(prepared.X_train)["knn_distance"].to_numpy()
    rows = {}
    for seed in sorted(self_influence):
        row = {
            f"{s}_explained_variance": metrics[seed][s]["explained_variance"]
            for s in ("train", "test")
        }
        row.update(compare_rankings(self_influence[seed], knn, top_n))
        sets = baseline_sets(proponents[seed], prepared, houses, seed=seed)
        prices = baseline_table(sets, prepared.train)
        for name, stats in prices.iterrows():
            for key in ("mean_price", "capped_share", "mean_percentile"):
                row[f"{key}__{name}"] = float(stats[key])
            row[f"price_ratio__{name}"] = float(
                prices.loc["proponents", "mean_price"] / stats["mean_price"]
            )
        top_price = float(prepared.train[TARGET].max())  # the cap, 5.00001
        row["price_ratio_ceiling"] = top_price / row["mean_price__map_neighbours"]
        rows[seed] = row
    return pd.DataFrame(rows).T.rename_axis("seed")


def _summary(values: pd.Series) -> dict:
    values = values.dropna()
    stats = mean_sd_ci(values.to_numpy(np.float64))
    return {"per_seed": {int(s): float(v) for s, v in values.items()}, **stats}


def _verdict(claim: Claim, values: pd.Series) -> str:
    return claim.rule.verdict(values.dropna().to_numpy(np.float64))


def evaluate(claim_list, measurements: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Verdicts of `claim_list` on per-seed `measurements` (one row per seed; seeds with a
    missing value are left out of that claim).

    Returns a display table (claim, source, measurement, mean [95% CI], baselines, margin,
    verdict) and one JSON-ready dict per claim: id, claim, source, measurement, per_seed,
    mean, sd, ci95, n, baselines (label -> per_seed, mean, sd, ci95, n and the verdict the
    same rule gives them), margin, verdict.
    """
    docs, rows = [], []
    for claim in claim_list:
        values = measurements[claim.column]
        doc = {"id": claim.id, "claim": claim.text, "source": claim.source}
        doc.update({"measurement": claim.measurement, **_summary(values)})
        doc["baselines"] = {
            label: {**_summary(measurements[col]), "verdict": _verdict(claim, measurements[col])}
            for label, col in claim.baselines
        }
        doc["margin"] = claim.rule.describe()
        doc["verdict"] = _verdict(claim, values)
        doc.update(dict(claim.notes))
        docs.append(doc)
        low, high = doc["ci95"]
        rows.append(
            {
                "claim": claim.text,
                "source": SHORT_SOURCES[claim.source],
                "measurement": claim.measurement,
                "mean [95% CI]": f"{doc['mean']:.3f} [{low:.3f}, {high:.3f}]",
                "baselines": "; ".join(
                    f"{label}: {b['mean']:.3f} ({b['verdict']})"
                    for label, b in doc["baselines"].items()
                ),
                "margin": doc["margin"],
                "verdict": doc["verdict"],
            }
        )
    return pd.DataFrame(rows), docs


def correlation_summary(measurements: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of self-influence with each loss ranking across seeds (rows:
    final_loss, summed_loss): mean, sd, 95% t-interval over seeds, n."""
    rows = {}
    for loss in ("final_loss", "summed_loss"):
        stats = _summary(measurements[f"spearman__{loss}"])
        low, high = stats["ci95"]
        rows[loss] = {"mean": stats["mean"], "sd": stats["sd"], "ci95_low": low}
        rows[loss] |= {"ci95_high": high, "n": stats["n"]}
    return pd.DataFrame(rows).T.rename_axis("loss")


def price_summary(measurements: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds of the price statistics of the proponents and of each baseline set
    (rows) from `seed_measurements`: mean_price, capped_share, mean_percentile."""
    sets = ["proponents", *BASELINES]
    keys = ("mean_price", "capped_share", "mean_percentile")
    return pd.DataFrame(
        {key: [measurements[f"{key}__{name}"].mean() for name in sets] for key in keys},
        index=pd.Index(sets, name="houses"),
    )


def evaluate_claims(
    self_influence: dict[int, pd.DataFrame],
    proponents: dict[int, pd.DataFrame],
    prepared: PreparedData,
    houses: pd.DataFrame,
    metrics: dict[int, dict],
    top_n: int,
    removal: dict | None = None,
    score: str = "raw",
) -> tuple[pd.DataFrame, list[dict], pd.DataFrame]:
    """Measure and judge every claim: inputs as for `seed_measurements`, plus optionally
    the recipe's removal summary (`removal_claims`, judged under `score`, possibly fewer
    seeds). Returns the display table, the JSON-ready dicts (see `evaluate`) and the
    per-seed measurements."""
    measurements = seed_measurements(self_influence, proponents, prepared, houses, metrics, top_n)
    first = proponents[min(proponents)]
    k = int(((first["test_index"] == ALL_TEST_POINTS) & (first["kind"] == "proponent")).sum())
    claim_list = claims(top_n, k)
    if removal is not None:
        removal_list, removal_measured = removal_claims(removal, score)
        measurements = measurements.join(removal_measured, how="left")
        claim_list += removal_list
    table, docs = evaluate(claim_list, measurements)
    return table, docs, measurements


def with_adam_self_influence(self_influence: dict[int, pd.DataFrame]) -> dict[int, pd.DataFrame]:
    """The self-influence tables (seed -> table) with `self_influence` replaced by the
    Adam-preconditioned `self_influence_adam`."""
    missing = [seed for seed, t in self_influence.items() if "self_influence_adam" not in t]
    if missing:
        raise KeyError(
            f"the self-influence tables of seeds {missing} lack 'self_influence_adam'; they "
            f"predate the Adam score: rerun the seed_influence rule for those seeds"
        )
    return {
        seed: table.assign(self_influence=table["self_influence_adam"])
        for seed, table in self_influence.items()
    }


def evaluate_claims_adam(
    self_influence: dict[int, pd.DataFrame],
    proponents_adam: dict[int, pd.DataFrame],
    prepared: PreparedData,
    houses: pd.DataFrame,
    metrics: dict[int, dict],
    top_n: int,
    removal: dict | None = None,
) -> tuple[pd.DataFrame, list[dict], pd.DataFrame]:
    """`evaluate_claims` under the Adam-preconditioned score: self-influence from the tables'
    `self_influence_adam` column, proponents from proponents_adam.parquet (seed -> table),
    the removal claims from the removal of the Adam score's aggregate proponents."""
    adam = with_adam_self_influence(self_influence)
    return evaluate_claims(
        adam, proponents_adam, prepared, houses, metrics, top_n, removal, score="adam"
    )


# The per-house claim, fixed before any result was seen. For each Palo Alto test house and
# seed: how much closer in price its own proponents are to it than its own map neighbours
# (the same number of training houses nearest to it on the map, which share its place and so
# its price level), |map neighbours' mean price - price| - |proponents' mean price - price|
# in $100,000. Positive: the model picked comparables better than the map does. Seeds are the
# unit of replication; no effect if the interval lies within $10,000 of 0.
PER_HOUSE_RULE = EffectRule(null=0.0, direction=1, margin=(-0.1, 0.1))
PER_HOUSE_CLAIM = (
    "the proponents of each Palo Alto test house resemble it in price (model-based "
    "comparables): closer to its price than its map neighbours"
)
PER_HOUSE_MEASUREMENT = (
    "|mean price of the house's k map neighbours - its price| - |mean price of its k "
    "proponents - its price|, $100,000 (positive: the proponents are closer)"
)
PER_HOUSE_COLUMNS = (  # the values of a (seed, test house) row of `per_house_table`
    "test_index",
    "price",
    "prediction",
    "proponents_mean_price",
    "proponents_capped_share",
    "opponents_mean_price",
    "opponents_capped_share",
    "map_neighbours_mean_price",
    "closeness_gain",
    "odd",
)


def _price_stats(prices: np.ndarray) -> tuple[float, float]:
    """Mean price and share at the cap of `prices` (k,); NaN for an empty set."""
    if not prices.size:
        return np.nan, np.nan
    return float(prices.mean()), float((prices >= CAPPED_PRICE).mean())


def per_house_table(
    houses: pd.DataFrame,
    proponents: dict[int, pd.DataFrame],
    train: pd.DataFrame,
    predictions: dict[int, np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per (seed, test house): seed, the keys of `PER_HOUSE_COLUMNS` (prices in
    $100,000, shares in [0, 1]) and the number `k` of the house's own proponents.

    houses: palo_alto_test_points.csv (M rows); proponents: seed -> proponents.parquet
    table; train: the training split with train_index in row order; predictions: seed ->
    the model's predictions (M,) in the order of `houses` (NaN for the seeds left out). The
    map neighbours of a house are the k training houses nearest to it on the map, k its
    own proponents' count (none: NaN).
    """
    predictions = predictions or {}
    prices = train[TARGET].to_numpy(np.float64)
    odd = odd_houses(houses)
    rows = []
    for seed in sorted(proponents):
        guess = np.asarray(predictions.get(seed, np.full(len(houses), np.nan)), np.float64)
        for j, (_, house) in enumerate(houses.iterrows()):
            i = int(house["test_index"])
            own = prices[aggregate(proponents[seed], "proponent", i)]
            against = prices[aggregate(proponents[seed], "opponent", i)]
            near = prices[map_neighbours(train, houses.iloc[[j]], own.size)] if own.size else own
            row = {"seed": seed, "test_index": i, "price": float(house[TARGET])}
            row["prediction"] = float(guess[j])
            row["proponents_mean_price"], row["proponents_capped_share"] = _price_stats(own)
            row["opponents_mean_price"], row["opponents_capped_share"] = _price_stats(against)
            row["map_neighbours_mean_price"] = _price_stats(near)[0]
            row["closeness_gain"] = abs(row["map_neighbours_mean_price"] - row["price"]) - abs(
                row["proponents_mean_price"] - row["price"]
            )
            rows.append(row | {"odd": bool(odd[j]), "k": int(own.size)})
    return pd.DataFrame(rows)


def _reason(house: dict) -> str:
    """Why a house's verdict is what it is, from its means over seeds."""
    return (
        f"price {house['price']:.2f}; proponents' mean price {house['proponents_mean_price']:.2f} "
        f"({house['proponents_capped_share']:.0%} at the cap), map neighbours' "
        f"{house['map_neighbours_mean_price']:.2f}, opponents' "
        f"{house['opponents_mean_price']:.2f} ($100,000, mean over seeds)"
    )


def per_house_verdicts(table: pd.DataFrame) -> dict:
    """The per-house claim judged by `PER_HOUSE_RULE` over seeds, from `per_house_table`.

    Returns a JSON-ready dict: claim, measurement, margin, houses (one dict per test house:
    test_index, odd, the means over seeds of the `PER_HOUSE_COLUMNS` values, the per-seed
    closeness gains with their mean, sd, 95% interval and n, the verdict and a reason),
    counts (outcome -> number of houses) and the test indices per outcome.
    """
    means = [c for c in PER_HOUSE_COLUMNS if c not in ("test_index", "odd", "closeness_gain")]
    houses = []
    for i, group in table.groupby("test_index", sort=False):
        gains = group.set_index("seed")["closeness_gain"].dropna()
        house = {"test_index": int(i), "odd": bool(group["odd"].iloc[0])}
        house |= {c: float(group[c].mean()) for c in means}  # NaN if no seed has a value
        house["closeness_gain"] = {
            "per_seed": {int(s): float(v) for s, v in gains.items()},
            **mean_sd_ci(gains.to_numpy(np.float64)),
        }
        house["verdict"] = PER_HOUSE_RULE.verdict(gains.to_numpy(np.float64))
        house["reason"] = _reason(house)
        houses.append(house)
    by_outcome = {o: [h["test_index"] for h in houses if h["verdict"] == o] for o in OUTCOMES}
    return {
        "claim": PER_HOUSE_CLAIM,
        "measurement": PER_HOUSE_MEASUREMENT,
        "margin": PER_HOUSE_RULE.describe(),
        "houses": houses,
        "counts": {o: len(ids) for o, ids in by_outcome.items()},
        "test_indices": by_outcome,
    }
