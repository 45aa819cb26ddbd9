import math

import numpy as np
import pytest

from tracin_study import statistics
from tracin_study.experiments import removal_verdicts as rv
from tracin_study.statistics import t_quantile

REFERENCE = [1.0, 3.0]  # per-house reference losses: mean 2


def _record(seed, set_name, removed_loss, draw=-1, target=-1, score="raw", protocol="fixed_order"):
    return {
        "seed": seed,
        "protocol": protocol,
        "name": f"{set_name}/{score}/test{target}/draw{draw}",
        "set": set_name,
        "score": score if set_name != "random" else "",
        "k": 5,
        "draw": draw,
        "target_house": target,
        "test_index": [0, 1],
        "loss_reference": REFERENCE,
        "loss_removed": list(removed_loss),
    }


def _records(proponent_rise, draws=((0.1, 0.0), (-0.1, 0.0), (0.0, 0.3))):
    """Three seeds; random draws change the losses by `draws`; the aggregate proponents
    raise house 1's loss by proponent_rise[seed] (in loss units)."""
    records = []
    for seed, rise in enumerate(proponent_rise):
        for d, change in enumerate(draws):
            records.append(_record(seed, "random", np.add(REFERENCE, change), draw=d))
        records.append(_record(seed, "aggregate_proponents", [1.0, 3.0 + rise]))
        records.append(_record(seed, "house_opponents", [1.0 - rise, 3.0], target=0))
    return records


def test_effects_subtract_the_random_draws_mean_on_the_same_house():
    table = rv.effects(_records([0.4, 0.5, 0.6]))
    random_mean = np.mean([[0.1, 0.0], [-0.1, 0.0], [0.0, 0.3]], axis=0) / 2  # over mean ref
    agg = table[(table["set"] == "aggregate_proponents") & (table["seed"] == 1)]
    by_house = dict(zip(agg["house"], agg["effect"], strict=True))
    assert by_house[0] == pytest.approx(0 - random_mean[0])
    assert by_house[1] == pytest.approx(0.5 / 2 - random_mean[1])
    assert by_house[rv.AGGREGATE] == pytest.approx((0.5 - 0.3 / 3) / 4)  # summed: ref 4
    opp = table[(table["set"] == "house_opponents") & (table["seed"] == 0)]
    assert opp["house"].tolist() == [0, rv.AGGREGATE]  # only its own house
    assert opp["effect"].iloc[0] == pytest.approx(-0.4 / 2 - random_mean[0])


def test_noise_is_the_pooled_within_seed_spread_of_the_random_draws():
    records = _records([0.4, 0.5, 0.6])
    noise = rv.noise_table(records).iloc[0]
    summed = np.array([0.1, -0.1, 0.3]) / 4
    assert noise["summed_sd"] == pytest.approx(summed.std(ddof=1))  # same draws in each seed
    assert (noise["summed_min"], noise["summed_max"]) == pytest.approx((-0.025, 0.075))
    assert noise["n_seeds"] == 3 and noise["draws_per_seed"] == 3
    house = rv.noise_by_house(records).set_index("house")["noise_sd"]
    assert house[0] == pytest.approx(np.std([0.05, -0.05, 0.0], ddof=1))
    assert noise["detectable_effect"] == pytest.approx(
        statistics.detectable_effect(summed.std(ddof=1), 3, 3, rv.MARGIN)
    )


def test_one_draw_per_seed_takes_the_noise_across_seeds():
    records = _records([0.4, 0.5, 0.6], draws=((0.1, 0.0),))
    # one draw per seed, but a different change in each seed
    for seed, record in enumerate(r for r in records if r["set"] == "random"):
        record["loss_removed"] = list(np.add(REFERENCE, (0.1 * seed, 0.0)))
    noise = rv.noise_table(records).iloc[0]
    assert noise["noise_basis"] == rv.ACROSS_SEEDS and noise["draws_per_seed"] == 1
    assert noise["summed_sd"] == pytest.approx(np.std([0.0, 0.025, 0.05], ddof=1))
    assert math.isfinite(noise["detectable_effect"])
    within = rv.noise_table(_records([0.4, 0.5, 0.6])).iloc[0]
    assert within["noise_basis"] == rv.WITHIN_SEED
    assert rv.noise_sd([1.0], [0]) == (pytest.approx(math.nan, nan_ok=True), rv.ACROSS_SEEDS)


def test_verdicts_follow_the_expected_direction_of_each_set():
    table = rv.verdict_table(_records([2.0, 2.2, 2.4])).set_index(["set", "house"])
    assert table.loc[("aggregate_proponents", rv.AGGREGATE), "verdict"] == "reproduced"
    # opponents lowered the loss, as expected: reproduced with direction -1
    assert table.loc[("house_opponents", 0), "verdict"] == "reproduced"
    assert table.loc[("house_opponents", 0), "direction"] == -1
    assert table.loc[("aggregate_proponents", 0), "verdict"] == "no effect"  # untouched house
    flipped = rv.verdict_table(_records([-2.0, -2.2, -2.4])).set_index(["set", "house"])
    assert flipped.loc[("aggregate_proponents", rv.AGGREGATE), "verdict"] == "contradicted"
    small = rv.verdict_table(_records([0.01, 0.0, -0.01])).set_index(["set", "house"])
    assert small.loc[("aggregate_proponents", rv.AGGREGATE), "verdict"] == "no effect"
    row = table.loc[("aggregate_proponents", rv.AGGREGATE)]
    assert row["n_seeds"] == 3 and row["n_draws"] == 3 and set(row["per_seed"]) == {0, 1, 2}


def test_detectable_effect_formula():
    h = t_quantile(4) * 0.1 * math.sqrt(1 + 1 / 5) / math.sqrt(5)
    assert statistics.half_width(0.1, 5, 5) == pytest.approx(h)
    assert statistics.detectable_effect(0.1, 5, 5, 0.05) == pytest.approx(max(h, 0.05 - h))
    assert statistics.detectable_effect(0.001, 5, 5, 0.05) == pytest.approx(
        0.05 - statistics.half_width(0.001, 5, 5)
    )
    assert math.isnan(statistics.detectable_effect(0.1, 1, 5, 0.05))


def test_seeds_needed_is_the_fewest_seeds_that_reach_the_target():
    # brute force over n: the first n whose detectable effect is within the target
    for sd, draws in ((0.041, 4), (0.02, 2), (0.039, 4), (0.1, 1)):
        n = statistics.seeds_needed(sd, draws, 0.05, 0.05)
        effects = [statistics.detectable_effect(sd, m, draws, 0.05) for m in range(2, 1001)]
        first = next(m for m, e in zip(range(2, 1001), effects, strict=True) if e <= 0.05)
        assert n == first
        assert statistics.detectable_effect(sd, n - 1, draws, 0.05) > 0.05 or n == 2
    # the committed closest-recipe noise at k = 10 (sd 0.041): 3 seeds x 2 draws fall short,
    # 8 seeds x 4 draws reach 5%
    assert statistics.detectable_effect(0.041, 3, 2, 0.05) > 0.05
    assert statistics.detectable_effect(0.041, 8, 4, 0.05) <= 0.05
    # max(h, margin - h) never falls below margin / 2, so a smaller target is out of reach
    assert statistics.seeds_needed(0.01, 4, 0.02, 0.05) is None
    assert statistics.seeds_needed(math.nan, 4, 0.05, 0.05) is None


def test_noise_table_says_how_far_the_design_falls_short_of_the_target():
    records = _records([0.4, 0.5, 0.6], draws=((0.4, 0.0), (-0.4, 0.0), (0.0, 0.6)))
    noise = rv.noise_table(records).iloc[0]
    assert noise["detectable_effect"] > rv.POWER_TARGET
    assert noise["shortfall"] == pytest.approx(noise["detectable_effect"] - rv.POWER_TARGET)
    n = noise["seeds_needed"]
    assert n == statistics.seeds_needed(noise["summed_sd"], 3, rv.POWER_TARGET, rv.MARGIN)
    assert statistics.detectable_effect(noise["summed_sd"], n, 3, rv.MARGIN) <= rv.POWER_TARGET
    quiet = rv.noise_table(_records([0.4, 0.5, 0.6], draws=((0.01, 0.0), (0.0, 0.01)))).iloc[0]
    assert quiet["shortfall"] == 0.0 and quiet["seeds_needed"] <= 3


def _opponent_records(change):
    """Three seeds, two random draws that leave the loss as it is, and the aggregate
    opponents whose removal changes house 1's loss by change[seed]."""
    records = []
    for seed, c in enumerate(change):
        for d in range(2):
            records.append(_record(seed, "random", np.add(REFERENCE, (0.01 * d, 0.0)), draw=d))
        records.append(_record(seed, "aggregate_opponents", [1.0, 3.0 + c]))
    return records


def test_aggregate_opponents_are_judged_in_the_lower_the_loss_direction():
    lowered = rv.verdict_table(_opponent_records([-1.0, -1.2, -1.1])).set_index(["set", "house"])
    row = lowered.loc[("aggregate_opponents", rv.AGGREGATE)]
    assert row["direction"] == -1 and row["verdict"] == "reproduced"
    assert row["mean"] < 0
    raised = rv.verdict_table(_opponent_records([1.0, 1.2, 1.1])).set_index(["set", "house"])
    assert raised.loc[("aggregate_opponents", rv.AGGREGATE), "verdict"] == "contradicted"
    # house 0 is untouched by the set: no effect within the margin
    assert lowered.loc[("aggregate_opponents", 0), "verdict"] == "no effect"


def test_random_shift_is_the_random_draws_mean_over_seeds():
    records = _records([0.4, 0.5, 0.6])
    for r in records:  # give each seed its own shift: seed s's draws add 0.4 s to house 1
        if r["set"] == "random":
            r["loss_removed"][1] += 0.4 * r["seed"]
    shift = rv.random_shift(records).iloc[0]
    per_seed = np.array([0.3 / 3 + 0.4 * s * 1 for s in range(3)]) / 4
    assert shift["mean"] == pytest.approx(per_seed.mean())
    assert shift["sd"] == pytest.approx(per_seed.std(ddof=1))
    half = t_quantile(2) * per_seed.std(ddof=1) / math.sqrt(3)
    assert shift["ci95_low"] == pytest.approx(per_seed.mean() - half)
    assert shift["n_seeds"] == 3 and shift["k"] == 5
    assert "set" not in shift.index and "score" not in shift.index


def test_house_curves_give_each_house_its_change_over_seeds():
    table = rv.house_curves(_records([0.4, 0.5, 0.6])).set_index(["set", "house"])
    assert table.loc[("aggregate_proponents", 1), "mean"] == pytest.approx(0.5 / 2)
    assert table.loc[("aggregate_proponents", 0), "mean"] == pytest.approx(0.0)
    assert table.loc[("random", 1), "mean"] == pytest.approx(0.3 / 3 / 2)
    assert "house_opponents" not in table.index.get_level_values("set")  # own sets: per house


def test_noise_only_records_give_no_verdicts_but_the_noise():
    records = [r for r in _records([0.4, 0.5, 0.6]) if r["set"] == "random"]
    doc = rv.summary(records)
    assert doc["verdicts"] == [] and len(doc["noise"]) == 1 and len(doc["random_shift"]) == 1


def test_curves_average_draws_then_seeds():
    curves = rv.curves(_records([0.4, 0.5, 0.6])).set_index("set")
    assert curves.loc["aggregate_proponents", "mean"] == pytest.approx(0.5 / 4)
    sd = np.std([0.4 / 4, 0.5 / 4, 0.6 / 4], ddof=1)
    half = t_quantile(2) * sd / math.sqrt(3)
    assert curves.loc["aggregate_proponents", "ci95_high"] == pytest.approx(0.5 / 4 + half)
    assert curves.loc["random", "mean"] == pytest.approx(0.3 / 3 / 4)
    assert curves.loc["random", "n_seeds"] == 3


def test_summary_is_json_ready():
    import json

    doc = json.loads(json.dumps(rv.summary(_records([2.0, 2.2, 2.4])), allow_nan=False))
    assert doc["margin"] == rv.MARGIN and doc["noise"][0]["protocol"] == "fixed_order"
    verdicts = {(v["set"], v["house"]): v for v in doc["verdicts"]}
    assert verdicts["aggregate_proponents", rv.AGGREGATE]["verdict"] == "reproduced"
    assert set(verdicts["aggregate_proponents", rv.AGGREGATE]["per_seed"]) == {"0", "1", "2"}
