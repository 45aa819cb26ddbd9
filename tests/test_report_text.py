"""The report's wording and compact removal tables (tracin_study.report_text)."""

import math

import pytest

from tracin_study import report_text
from tracin_study.plan import AGGREGATE


def _verdict(house, verdict, score="raw", set_name="aggregate_proponents", k=50, effect=0.04):
    return {
        "protocol": "fixed_order",
        "score": score,
        "set": set_name,
        "k": k,
        "house": house,
        "mean": 0.01,
        "ci95_low": -0.02,
        "ci95_high": 0.04,
        "verdict": verdict,
        "detectable_effect": effect,
    }


def _doc(recipe="closest"):
    """Two (score, set, k) groups of 11 houses each, plus their aggregate rows."""
    outcomes = ["reproduced"] * 3 + ["no effect"] * 6 + ["inconclusive"] * 2
    verdicts = [_verdict(AGGREGATE, "no effect", effect=0.031)]
    verdicts += [_verdict(3670 + i, o) for i, o in enumerate(outcomes)]
    verdicts += [_verdict(AGGREGATE, "inconclusive", "", "map_neighbours", 10, effect=0.052)]
    verdicts += [_verdict(3670 + i, "no effect", "", "map_neighbours", 10) for i in range(11)]
    return {"recipe": recipe, "verdicts": verdicts}


def test_outcomes_sentence_counts_each_outcome_with_its_claims_in_words():
    docs = [
        {"id": "high_self_influence_rare", "verdict": "reproduced"},
        {"id": "low_self_influence_typical", "verdict": "inconclusive"},
        {"id": "removing_proponents_vs_random_k50", "verdict": "inconclusive"},
        {"id": "palo_alto_proponents_expensive", "verdict": "no effect"},
    ]
    assert report_text.outcomes_sentence(docs) == (
        "1 reproduces (high self-influence houses are rare), 1 shows no effect (the Palo Alto "
        "proponents are expensive) and 2 are inconclusive (low self-influence houses are "
        "typical and removing the 50 aggregate proponents hurts more than removing 50 random "
        "houses)."
    )


def test_claim_names_read_as_words_for_every_removal_k():
    assert report_text.claim_name("removing_proponents_vs_map_neighbours_k1000") == (
        "Removing the 1000 aggregate proponents hurts more than removing 1000 map neighbours"
    )
    assert report_text.claim_name("some_new_claim") == "Some new claim"


def test_removal_aggregate_view_keeps_only_the_all_houses_rows_in_percent():
    view = report_text.removal_aggregate_view([_doc("default"), _doc()])
    assert len(view) == 4  # two groups per recipe
    assert list(view["recipe"]) == ["default", "default", "closest", "closest"]
    assert list(view["score that chose the houses"])[:2] == ["raw TracInCP", "none"]
    assert list(view["houses removed"])[:2] == ["aggregate proponents", "map neighbours"]
    assert view["effect vs random, mean [95% interval] (%)"].iloc[0] == "+1.0 [-2.0, +4.0]"
    assert list(view["smallest detectable effect (%)"])[:2] == ["3.1", "5.2"]
    assert list(view["verdict"])[:2] == ["no effect", "inconclusive"]


def test_removal_aggregate_view_says_when_one_seed_gives_no_interval():
    doc = _doc()
    for r in doc["verdicts"]:
        r |= {"ci95_low": math.nan, "ci95_high": math.nan, "detectable_effect": math.nan}
    view = report_text.removal_aggregate_view([doc])
    assert set(view["effect vs random, mean [95% interval] (%)"]) == {"one seed: no interval"}
    assert set(view["smallest detectable effect (%)"]) == {"-"}


def test_removal_house_counts_give_one_row_per_group_and_name_few_houses():
    view = report_text.removal_house_counts([_doc()])
    assert len(view) == 2
    counts = list(view["verdicts of the test houses"])
    assert counts == ["3 reproduced, 6 no effect and 2 inconclusive of 11", "11 no effect of 11"]
    named = view["houses by outcome (outcomes with few houses)"]
    assert named.iloc[0] == "reproduced: 3670, 3671, 3672; inconclusive: 3679, 3680"
    assert named.iloc[1] == "-"  # the only outcome has more houses than are listed


def test_removal_takeaway_gives_the_range_of_detectable_effects():
    text = report_text.removal_takeaway(_doc())
    assert (
        "the 2 removal comparisons of the closest recipe give 1 no effect and 1 inconclusive"
        in (text)
    )
    assert "could detect is 3.1% to 5.2% of the full model's summed loss" in text


def test_removal_views_name_the_missing_key():
    with pytest.raises(KeyError, match="'recipe' is missing from the removal summary"):
        report_text.removal_takeaway({"verdicts": []})
    with pytest.raises(KeyError, match="'verdicts' is missing from the removal summary"):
        report_text.removal_house_counts([{"recipe": "default"}])


def test_stability_takeaway_says_when_proponents_agree_less_than_self_influence():
    summary = {
        "stability": {
            "self_influence_spearman": {"mean": 0.92},
            "self_influence_top_overlap": {"mean": 0.75},
            "proponent_top_overlap": {"mean": 0.4},
        }
    }
    text = report_text.stability_takeaway(summary)
    assert "Spearman correlation of 0.92" in text and "75% of their top" in text
    assert "only 40% of the Palo Alto proponents" in text
    summary["stability"]["proponent_top_overlap"]["mean"] = 0.8
    assert "only" not in report_text.stability_takeaway(summary)


def _power_doc():
    noise = [
        {"protocol": "fixed_order", "k": 10, "n_seeds": 8, "draws_per_seed": 4}
        | {"summed_sd": 0.041, "detectable_effect": 0.0387, "shortfall": 0.0, "seeds_needed": 6},
        {"protocol": "fixed_order", "k": 1000, "n_seeds": 8, "draws_per_seed": 4}
        | {"summed_sd": 0.09, "detectable_effect": 0.085, "shortfall": 0.035, "seeds_needed": 20},
    ]
    shift = [
        {"protocol": "fixed_order", "k": 10, "n_seeds": 8, "mean": -0.043, "sd": 0.05}
        | {"ci95_low": -0.085, "ci95_high": -0.001},
    ]
    return {"recipe": "closest", "protocol": "fixed_order", "power_target": 0.05} | {
        "noise": noise,
        "random_shift": shift,
    }


def test_removal_power_says_which_k_fall_short_and_by_how_much():
    text = report_text.removal_power_takeaway(_power_doc())
    assert "at k = 10 the smallest detectable effect" in text and "within the goal of 5.0%" in text
    assert (
        "at k = 1000 it is 8.5%, 3.5% short with 8 seed(s) and 4 draw(s) (20 seeds would)" in text
    )
    one_seed = _power_doc() | {"recipe": "default"}
    one_seed["noise"] = [
        one_seed["noise"][0]
        | {"n_seeds": 1, "summed_sd": 0.39, "detectable_effect": None}
        | {"shortfall": None, "seeds_needed": 296}
    ]
    assert report_text.removal_power_takeaway(one_seed) == (
        "On the default recipe, at k = 10 the noise sd is 39.0% of the summed loss (4 random "
        "draws of one seed), so a smallest detectable effect of 5.0% needs 296 seeds with as "
        "many draws."
    )
    view = report_text.removal_power_view(_power_doc())
    assert list(view["short of 5% by (%)"]) == ["0.0", "3.5"]
    assert list(view["seeds for 5% at these draws"]) == [6, 20]


def test_random_shift_view_gives_the_mean_and_interval_across_seeds():
    view = report_text.random_shift_view(_power_doc())
    assert view["random shift, mean [95% interval] (%)"].iloc[0] == "-4.3 [-8.5, -0.1]"
    assert view["sd across seeds (%)"].iloc[0] == "5.0"


def test_lds_power_takeaway_states_the_ceiling_interval_and_the_cost():
    doc = {
        "noise_ceiling": {"mean": 0.19, "ci95": [0.1, 0.28], "subsets": 24},
        "differences": {"raw - adam": {"mean": 0.001, "ci95": [-0.03, 0.03]}} | {},
        "power": {
            "target_half_width": 0.05,
            "half_width": 0.27,
            "subsets_needed": 679,
            "seconds_per_retraining": 9.0,
            "models_per_subset": [
                {"models": 1, "ceiling": 0.44, "cpu_hours": 3.4},
                {"models": 8, "ceiling": 0.81, "cpu_hours": 27.2},
            ],
        },
    }
    doc["differences"]["raw - adam"]["detectable_difference"] = 0.03
    text = report_text.lds_power_takeaway(doc)
    assert "mean Spearman of 0.19 [0.10, 0.28]" in text
    assert "smaller than ±0.03 cannot be told from 0" in text
    assert "about 679 subsets, 3.4 CPU hours with one model" in text
    assert "from 0.44 to 0.81, at 27 CPU hours" in text
    for entry in doc["power"]["models_per_subset"]:
        entry["ceiling"] = None
    assert "do not agree at all" in report_text.lds_power_takeaway(doc)


def test_the_bottom_line_leaves_out_a_removal_noise_measurement():
    noise_only = {"recipe": "default", "verdicts": []}
    assert report_text.counterfactual_line({"removal": {"default": noise_only}}) == ""
    line = report_text.counterfactual_line({"removal": {"a": noise_only, "b": _doc()}})
    assert "default recipe" not in line and "closest recipe" in line
