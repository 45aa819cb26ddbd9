import math

import numpy as np
import pytest

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
        rv.detectable_effect(summed.std(ddof=1), 3, 3)
    )
    assert rv.pooled_sd([1.0, 3.0, 10.0, 14.0], [0, 0, 1, 1]) == pytest.approx(
        math.sqrt((2 + 8) / 2)
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
    assert rv.half_width(0.1, 5, 5) == pytest.approx(h)
    assert rv.detectable_effect(0.1, 5, 5) == pytest.approx(max(h, rv.MARGIN - h))
    assert rv.detectable_effect(0.001, 5, 5) == pytest.approx(
        rv.MARGIN - rv.half_width(0.001, 5, 5)
    )
    assert math.isnan(rv.detectable_effect(0.1, 1, 5))


def test_curves_average_draws_then_seeds():
    curves = rv.curves(_records([0.4, 0.5, 0.6])).set_index("set")
    assert curves.loc["aggregate_proponents", "mean"] == pytest.approx(0.5 / 4)
    assert curves.loc["random", "mean"] == pytest.approx(0.3 / 3 / 4)
    assert curves.loc["random", "n_seeds"] == 3


def test_summary_is_json_ready():
    import json

    doc = json.loads(json.dumps(rv.summary(_records([2.0, 2.2, 2.4])), allow_nan=False))
    assert doc["margin"] == rv.MARGIN and doc["noise"][0]["protocol"] == "fixed_order"
    verdicts = {(v["set"], v["house"]): v for v in doc["verdicts"]}
    assert verdicts["aggregate_proponents", rv.AGGREGATE]["verdict"] == "reproduced"
    assert set(verdicts["aggregate_proponents", rv.AGGREGATE]["per_seed"]) == {"0", "1", "2"}
