"""Removal curves judged against random draws, the noise of each protocol and the power of
each test.

Every measurement is a loss change relative to the reference model's loss (see
`removal.removal_changes`): per house, the change over the mean reference loss of the test
houses; summed, the change of the summed loss over the summed reference loss (the two
agree: the mean over houses of the per-house value is the summed one). The effect of a set
in one seed is its relative change minus the mean relative change of the seed's random
draws of the same size; seeds are the unit of replication (`verdicts.EffectRule`).
"""

import math

import numpy as np
import pandas as pd

from tracin_study.experiments.removal import RANDOM, removal_changes
from tracin_study.influence import ALL_TEST_POINTS
from tracin_study.run_plans import AGGREGATE
from tracin_study.statistics import (
    detectable_effect,
    half_width,
    mean_sd_ci,
    pooled_sd,
    seeds_needed,
)
from tracin_study.verdicts import EffectRule

MARGIN = 0.05
"""Equivalence margin of every removal verdict: an effect within +-5% of the reference
loss counts as no effect."""

POWER_TARGET = 0.05
"""The design goal of the removal test: the smallest detectable effect of every aggregate
verdict at most 5% of the summed reference loss (`noise_table`'s `seeds_needed`)."""

DIRECTIONS = {
    "aggregate_proponents": 1,
    "aggregate_opponents": -1,
    "house_proponents": 1,
    "house_opponents": -1,
    "map_neighbours": 1,
}
"""Expected sign of each set's effect: removing proponents (or the map neighbours, the
rule-based baseline) raises the loss, removing opponents lowers it."""


def rule(direction: int) -> EffectRule:
    """The removal verdicts' rule: null 0, `direction`, margin +-`MARGIN`."""
    return EffectRule(null=0.0, direction=direction, margin=(-MARGIN, MARGIN))


WITHIN_SEED = "within seed"
ACROSS_SEEDS = "across seeds"
"""`noise_basis` of a noise sd: pooled within seeds, or (one draw per seed) over all draws."""


def noise_sd(values, seeds) -> tuple[float, str]:
    """The retraining noise of random draws' changes `values` made in model `seeds`:
    `pooled_sd` within seeds where some seed has two draws (basis `WITHIN_SEED`), else the
    sample sd over all draws (basis `ACROSS_SEEDS`, which adds the seeds' own differences:
    an upper bound on the within-seed noise, so a conservative detectable effect); NaN
    with fewer than two draws."""
    sd = pooled_sd(values, seeds)
    if math.isfinite(sd):
        return sd, WITHIN_SEED
    values = np.asarray(values, np.float64)
    return (float(np.std(values, ddof=1)) if values.size > 1 else math.nan), ACROSS_SEEDS


def _random_baseline(changes: pd.DataFrame) -> pd.DataFrame:
    """Mean relative change of the random draws per (protocol, seed, k, test house):
    column `random_change`, plus `n_draws`."""
    random = changes[changes["set"] == RANDOM]
    keys = ["protocol", "seed", "k", "test_index"]
    grouped = random.groupby(keys)["relative_change"]
    return grouped.agg(random_change="mean", n_draws="count").reset_index()


def effects(records: list[dict]) -> pd.DataFrame:
    """The effect of every non-random set in every seed, on every house it is measured on.

    One row per (protocol, score, set, k, seed, house): `house` is the test_index (for a
    house's own proponents or opponents, only that house) or `AGGREGATE` (the summed loss
    for aggregate proponents and map neighbours; the mean over houses of each house's own
    effect for the per-house sets); `effect` = the set's relative change - the random draws'
    mean on the same house(s), and `n_draws`.
    """
    changes = removal_changes(records)
    baseline = _random_baseline(changes)
    sets = changes[changes["set"] != RANDOM]
    own = (sets["target_house"] == ALL_TEST_POINTS) | (sets["target_house"] == sets["test_index"])
    table = sets[own].merge(baseline, on=["protocol", "seed", "k", "test_index"], how="inner")
    table["effect"] = table["relative_change"] - table["random_change"]
    keys = ["protocol", "score", "set", "k", "seed"]
    per_house = table[[*keys, "test_index", "effect", "n_draws"]].rename(
        columns={"test_index": "house"}
    )
    together = per_house.groupby(keys, sort=False).agg(
        effect=("effect", "mean"), n_draws=("n_draws", "min")
    )
    together = together.reset_index().assign(house=AGGREGATE)
    out = pd.concat([per_house.astype({"house": object}), together], ignore_index=True)
    return out[[*keys, "house", "effect", "n_draws"]]


def noise_by_house(records: list[dict]) -> pd.DataFrame:
    """The sd of the random draws' relative change (`noise_sd`) per (protocol, k, house);
    house `AGGREGATE` is the relative summed change. Columns: protocol, k, house,
    noise_sd, noise_basis, n_seeds, n_draws (per seed, smallest)."""
    changes = removal_changes(records)
    random = changes[changes["set"] == RANDOM]
    summed = random.groupby(["protocol", "k", "seed", "name"], sort=False).agg(
        relative_change=("relative_change", "mean")
    )
    summed = summed.reset_index().assign(test_index=AGGREGATE)
    both = pd.concat([random.astype({"test_index": object}), summed], ignore_index=True)
    rows = []
    for (protocol, k, house), part in both.groupby(["protocol", "k", "test_index"], sort=False):
        draws = part.groupby("seed").size()
        sd, basis = noise_sd(part["relative_change"], part["seed"])
        rows.append(
            {
                "protocol": protocol,
                "k": int(k),
                "house": house,
                "noise_sd": sd,
                "noise_basis": basis,
                "n_seeds": int(draws.size),
                "n_draws": int(draws.min()),
            }
        )
    return pd.DataFrame(rows)


def noise_table(records: list[dict]) -> pd.DataFrame:
    """The spread of the random draws' effect, one row per (protocol, k): `n_seeds`,
    `draws_per_seed` (smallest), `summed_sd` (`noise_sd` of the relative summed change)
    and its `noise_basis`, `summed_min`, `summed_max` (over all draws), `house_sd_median` and
    `house_sd_max` (of the per-house within-seed sds), `detectable_effect`: the
    smallest aggregate effect the rule could call reproduced at these seeds and draws
    (`statistics.detectable_effect` of `summed_sd`), its `shortfall` past `POWER_TARGET`
    (0 when within) and `seeds_needed`: the fewest seeds that reach `POWER_TARGET` at these
    draws (None if no number of seeds can)."""
    changes = removal_changes(records)
    random = changes[changes["set"] == RANDOM]
    summed = random.groupby(["protocol", "k", "seed", "name"], sort=False)["relative_change"]
    summed = summed.mean().reset_index()
    noise = noise_by_house(records)
    rows = []
    for (protocol, k), part in summed.groupby(["protocol", "k"], sort=False):
        house = noise[(noise["protocol"] == protocol) & (noise["k"] == k)]
        aggregate = house[house["house"] == AGGREGATE].iloc[0]
        single = house[house["house"] != AGGREGATE]["noise_sd"]
        sd = float(aggregate["noise_sd"])
        n_seeds, n_draws = int(aggregate["n_seeds"]), int(aggregate["n_draws"])
        effect = detectable_effect(sd, n_seeds, n_draws, MARGIN)
        rows.append(
            {
                "protocol": protocol,
                "k": int(k),
                "n_seeds": n_seeds,
                "draws_per_seed": n_draws,
                "summed_sd": sd,
                "noise_basis": aggregate["noise_basis"],
                "summed_min": float(part["relative_change"].min()),
                "summed_max": float(part["relative_change"].max()),
                "house_sd_median": float(single.median()),
                "house_sd_max": float(single.max()),
                "detectable_effect": effect,
                "shortfall": max(effect - POWER_TARGET, 0.0) if math.isfinite(effect) else effect,
                "seeds_needed": seeds_needed(sd, n_draws, POWER_TARGET, MARGIN),
            }
        )
    return pd.DataFrame(rows)


VERDICT_COLUMNS = (
    *("protocol", "score", "set", "k", "house", "direction", "n_seeds", "n_draws", "mean"),
    *("sd", "ci95_low", "ci95_high", "per_seed", "margin", "verdict", "noise_sd"),
    *("half_width", "detectable_effect"),
)
"""The columns of `verdict_table`, also when no set but the random draws was removed."""


def verdict_table(records: list[dict]) -> pd.DataFrame:
    """The verdict of every (protocol, score, set, k, house) of `effects` under `rule` of
    the set's direction, seeds as the unit of replication. Columns: protocol, score, set,
    k, house, direction, n_seeds, n_draws, mean, sd, ci95_low, ci95_high, per_seed (seed
    -> effect), margin, verdict, noise_sd (`noise_by_house` for that house), half_width
    and detectable_effect (`statistics.half_width`, `statistics.detectable_effect` at that
    noise and n). No rows when the records hold random draws only (a noise measurement).
    For the per-house sets the `AGGREGATE` row averages effects of separate retrainings
    (one per house), whose mean is less noisy than one retraining's summed change: its
    noise_sd, that of the summed change, overstates the noise there (a conservative
    detectable effect)."""
    table = effects(records)
    noise = noise_by_house(records).set_index(["protocol", "k", "house"])["noise_sd"]
    rows = []
    keys = ["protocol", "score", "set", "k", "house"]
    for (protocol, score, set_name, k, house), part in table.groupby(keys, sort=False):
        direction = DIRECTIONS[set_name]
        values = part["effect"].to_numpy(np.float64)
        stats = mean_sd_ci(values)
        n_draws = int(part["n_draws"].min())
        noise_sd = float(noise.get((protocol, k, house), math.nan))
        rows.append(
            {
                "protocol": protocol,
                "score": score,
                "set": set_name,
                "k": int(k),
                "house": house,
                "direction": direction,
                "n_seeds": int(values.size),
                "n_draws": n_draws,
                "mean": stats["mean"],
                "sd": stats["sd"],
                "ci95_low": stats["ci95"][0],
                "ci95_high": stats["ci95"][1],
                "per_seed": dict(zip(part["seed"].astype(int), values.tolist(), strict=True)),
                "margin": rule(direction).describe(),
                "verdict": rule(direction).verdict(values),
                "noise_sd": noise_sd,
                "half_width": half_width(noise_sd, values.size, n_draws),
                "detectable_effect": detectable_effect(noise_sd, values.size, n_draws, MARGIN),
            }
        )
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def _seed_interval(per_seed: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean, sd, 95% t-interval and n over seeds (`mean_sd_ci`) of `relative_change`, per
    group of `keys`: columns keys, mean, sd, ci95_low, ci95_high, n_seeds."""
    rows = []
    for values, part in per_seed.groupby(keys, sort=False):
        stats = mean_sd_ci(part["relative_change"])
        low, high = stats["ci95"]
        rows.append(
            {**dict(zip(keys, values, strict=True)), "mean": stats["mean"], "sd": stats["sd"]}
            | {"ci95_low": low, "ci95_high": high, "n_seeds": stats["n"]}
        )
    return pd.DataFrame(rows, columns=[*keys, "mean", "sd", "ci95_low", "ci95_high", "n_seeds"])


def curves(records: list[dict]) -> pd.DataFrame:
    """The removal curves: over seeds, the relative summed change per (protocol, score,
    set, k), random draws included (set "random", mean over a seed's draws first): columns
    protocol, score, set, k, mean, sd, ci95_low, ci95_high (95% t-interval across seeds),
    n_seeds. Fractions of the summed reference loss."""
    changes = removal_changes(records)
    summed = changes.groupby(["protocol", "score", "set", "k", "seed", "name"], sort=False)
    per_record = summed["relative_change"].mean().reset_index()
    per_seed = per_record.groupby(["protocol", "score", "set", "k", "seed"], sort=False)
    per_seed = per_seed["relative_change"].mean().reset_index()
    return _seed_interval(per_seed, ["protocol", "score", "set", "k"])


def house_curves(records: list[dict]) -> pd.DataFrame:
    """The removal curves of each test house: over seeds, the relative change of the house's
    loss (`removal_changes`) per (protocol, score, set, k, house) for the sets removed for
    all houses together (aggregate sets, map neighbours, random draws, a seed's draws
    averaged first); columns as `curves` plus `house` (test_index)."""
    changes = removal_changes(records)
    changes = changes[changes["target_house"] == ALL_TEST_POINTS]
    keys = ["protocol", "score", "set", "k", "test_index", "seed"]
    per_seed = changes.groupby(keys, sort=False)["relative_change"].mean().reset_index()
    table = _seed_interval(per_seed, keys[:-1])
    return table.rename(columns={"test_index": "house"})


def random_shift(records: list[dict]) -> pd.DataFrame:
    """The shift that removing k random houses gives the summed loss, per (protocol, k):
    the `curves` rows of the random draws (mean over seeds of each seed's mean over draws,
    sd across seeds, 95% interval, n_seeds), without the empty score column. Every set is
    judged against its own seed's draws because this shift differs between seeds."""
    table = curves(records)
    return table[table["set"] == RANDOM].drop(columns=["score", "set"]).reset_index(drop=True)


def _json_ready(table: pd.DataFrame) -> list[dict]:
    """Rows of `table` as dicts with NaN as None and numpy scalars as Python ones."""
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    return [{k: v.item() if isinstance(v, np.generic) else v for k, v in r.items()} for r in rows]


def summary(records: list[dict]) -> dict:
    """The removal experiment for summary.json: `margin`, `power_target`, `noise`
    (`noise_table`), `random_shift`, `curves`, `house_curves` and `verdicts`
    (`verdict_table`, per_seed keyed by seed as text), each a list of rows."""
    verdicts = verdict_table(records)
    verdicts["per_seed"] = [{str(s): v for s, v in d.items()} for d in verdicts["per_seed"]]
    return {
        "margin": MARGIN,
        "power_target": POWER_TARGET,
        "noise": _json_ready(noise_table(records)),
        "random_shift": _json_ready(random_shift(records)),
        "curves": _json_ready(curves(records)),
        "house_curves": _json_ready(house_curves(records)),
        "verdicts": _json_ready(verdicts),
    }
