"""The report's wording and compact removal tables (tracin_study.report_text)."""

import json
import math
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tracin_study import report_text
from tracin_study.run_plans import AGGREGATE


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
    assert list(view["recipe"]) == [
        "our default recipe",
        "our default recipe",
        "the closest recipe",
        "the closest recipe",
    ]
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


ROOT = Path(__file__).resolve().parents[1]
COMMITTED = json.loads((ROOT / "report/summary.json").read_text())


def _verdicts_in_summary(summary: dict) -> Counter:
    """Every counterfactual verdict summary.json holds, counted independently of
    report_text: the removal rows on all houses together, plus the removal claims that
    compare with a set other than random houses."""
    counts = Counter(
        r["verdict"]
        for doc in summary.get("removal", {}).values()
        for r in doc["verdicts"]
        if r["house"] == AGGREGATE
    )
    lists = [summary["claims"], summary["claims_adam"]]
    lists.append(summary["recipe_sweep"]["closest_recipe_claims"])
    for docs in lists:
        for d in docs:
            if d["id"].startswith("removing_") and "_vs_random_" not in d["id"]:
                counts[d["verdict"]] += 1
    return counts


def _printed_counts(sentence: str) -> Counter:
    counts = Counter()
    for n, outcome in re.findall(
        r"(\d+) (reproduced|contradicted|no effect|inconclusive)", sentence
    ):
        counts[outcome] += int(n)
    return counts


def test_the_bottom_line_counts_every_counterfactual_comparison_in_summary_json():
    expected = _verdicts_in_summary(COMMITTED)
    line = next(
        s for s in report_text.bottom_line(COMMITTED).splitlines() if "Counterfactually" in s
    )
    printed = _printed_counts(line.split("; the smallest")[0])
    assert printed == expected
    total = re.search(r"the (\d+) comparisons", line).group(1)
    assert int(total) == sum(expected.values())
    table = report_text.comparison_counts(COMMITTED)
    assert {o: int(table[o].sum()) for o in expected} == dict(expected)
    assert int(table["comparisons"].sum()) == sum(expected.values())


def test_baselines_are_counted_apart_and_labelled_as_such():
    table = report_text.comparison_counts(COMMITTED)
    baselines = table[table["chosen by"] == "no score: a baseline"]
    rows = report_text.comparisons(COMMITTED)
    assert int(baselines["comparisons"].sum()) == sum(not r["score"] for r in rows) > 0
    line = report_text.comparisons_sentence(COMMITTED)
    assert "for the baselines no TracIn score chose (map neighbours)" in line


def test_comparisons_are_generic_over_sets_k_and_direction():
    doc = _doc()
    doc["verdicts"].append(
        _verdict(AGGREGATE, "contradicted", "adam", "aggregate_opponents", 300) | {"direction": -1}
    )
    summary = {
        "removal": {"removal_summary_closest": doc},
        "claims": [],
        "claims_adam": [],
        "recipe_sweep": {"closest_recipe_claims": []},
    }
    table = report_text.comparison_counts(summary)
    assert len(table) == 3
    row = table[table["houses removed"] == "aggregate opponents"].iloc[0]
    assert row["claimed effect"] == "removal should lower the Palo Alto loss more"
    assert row["houses removed (k)"] == "300" and row["contradicted"] == 1
    assert _printed_counts(report_text.comparisons_sentence(summary)) == _verdicts_in_summary(
        summary
    )


def test_a_removal_claim_against_random_houses_is_counted_once():
    summary = {
        "removal": {"removal_summary_closest": _doc()},
        "claims": [],
        "claims_adam": [],
        "recipe_sweep": {
            "closest_recipe_claims": [
                {"id": "removing_proponents_vs_random_k50", "verdict": "no effect"},
                {"id": "removing_proponents_vs_map_neighbours_k50", "verdict": "contradicted"},
            ]
        },
    }
    rows = report_text.comparisons(summary)
    assert [(r["set"], r["against"], r["verdict"]) for r in rows] == [
        ("aggregate_proponents", "random", "no effect"),
        ("map_neighbours", "random", "inconclusive"),
        ("aggregate_proponents", "map_neighbours", "contradicted"),
    ]


def test_the_readme_findings_are_exactly_the_text_generated_from_summary_json():
    readme = (ROOT / "README.md").read_text()
    assert report_text.readme_findings(COMMITTED) in readme, (
        "README.md's Findings differ from summary.json; regenerate them with "
        "report_text.readme_findings (see its docstring)"
    )
    findings = readme.split("## Findings")[1].split("\n## ")[0]
    commits = set(re.findall(r"\b[0-9a-f]{7,40}\b", readme))
    assert commits == {COMMITTED["provenance"]["git_commit"][:7]}  # the report's commit only
    assert COMMITTED["provenance"]["git_commit"][:7] in findings


def test_the_compact_table_never_gives_our_reading_as_the_papers_words():
    table = report_text.compact_table(COMMITTED)
    ours = table[table["whose claim"] != "the paper's"]
    assert len(ours) >= 1
    for _, row in ours.iterrows():
        assert row["what the paper states"].startswith("Not stated") or (
            row["whose claim"] == "our reading of the paper (per house)"
        )
    papers = table[table["whose claim"] == "the paper's"]
    assert all(text.endswith("(p. 8)") for text in papers["what the paper states"])


def test_provenance_names_commit_date_machine_config_hash_and_run_time():
    line = report_text.provenance_line(COMMITTED)
    run = COMMITTED["provenance"]
    for part in (run["git_commit"][:7], run["date_utc"][:10], run["machine"], run["config_hash"]):
        assert part in line
    assert report_text.duration(run["elapsed_since_data_stage_s"]) in line
    assert [report_text.duration(s) for s in (42, 1626.7, 3780)] == [
        "42 s",
        "27 min 7 s",
        "1 h 3 min",
    ]


def test_the_reproducibility_summary_has_every_part_of_the_mlrc_form():
    text = report_text.reproducibility_summary(COMMITTED)
    parts = [
        "Scope of reproducibility",
        "Methodology",
        "Results",
        "What was easy",
        "What was difficult",
        "Communication with the original authors",
    ]
    positions = [text.index(f"**{p}.**") for p in parts]
    assert positions == sorted(positions)
    assert report_text.ARXIV in text and "None." in text
    assert COMMITTED["provenance"]["machine"] in text


def test_the_lds_sentence_never_claims_more_than_its_interval():
    doc = {
        "n_queries": 100,
        "n_subsets": 24,
        "methods": {"raw": {"mean": 0.05, "ci95": [-0.22, 0.31]}},
        "noise_ceiling": {"mean": 0.19},
    }
    assert "cannot tell whether it predicts retraining at all" in report_text.lds_sentence(doc)
    doc["noise_ceiling"]["ci95"] = [0.1, 0.3]
    assert "noise ceiling of 0.19 [0.10, 0.30]" in report_text.lds_sentence(doc)
    doc["methods"]["raw"]["ci95"] = [0.02, 0.4]
    assert "excludes 0 and contains the ceiling" in report_text.lds_sentence(doc)


CODE_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\w+\(s\)|\{'|\['")


def _rendered(summary: dict) -> dict[str, str]:
    """Every table (headers and cells) and sentence report_text renders from `summary`."""
    removal = list(summary["removal"].values())
    lds = summary["lds"]["lds_summary_closest"]
    tables = {
        "compact table": report_text.compact_table(summary),
        "comparison counts": report_text.comparison_counts(summary),
        "facts": report_text.facts_view(summary),
        "recipes": report_text.recipes_view(summary),
        "stability": report_text.stability_view(summary),
        "approximation chain": report_text.chain_view(summary),
        "checkpoint ablation": report_text.ablation_view(summary),
        "corruption": report_text.corruption_view(summary),
        "correlations": report_text.correlation_view(summary),
        "prices": report_text.price_view(summary),
        "recall by change": report_text.recall_by_change_view(summary),
        "baselines": report_text.baselines_view(summary["claims"]),
        "removal power": pd.concat(report_text.removal_power_view(d) for d in removal),
        "removal verdicts": report_text.removal_aggregate_view(removal),
        "removal per house": report_text.removal_house_counts(removal),
        "LDS": report_text.lds_view(lds),
    }
    rendered = {
        name: " | ".join([*map(str, t.columns), *map(str, t.to_numpy().ravel())])
        for name, t in tables.items()
    }
    return rendered | {
        "bottom line": report_text.bottom_line(summary),
        "reproducibility summary": report_text.reproducibility_summary(summary),
        "provenance": report_text.provenance_line(summary),
        "conclusion": report_text.conclusion(summary),
        "takeaways": " ".join(
            [
                report_text.fragility(summary),
                report_text.chain_takeaway(summary),
                report_text.ablation_takeaway(summary),
                report_text.corruption_takeaway(summary),
                report_text.quality_takeaway(summary),
                report_text.stability_takeaway(summary),
                report_text.palo_alto_takeaway(summary),
                report_text.training_takeaway(summary),
                report_text.lds_takeaway(lds),
                *(report_text.removal_takeaway(d) for d in removal),
            ]
        ),
    }


def test_everything_rendered_from_the_committed_summary_reads_as_words():
    found = {name: CODE_NAME.findall(text) for name, text in _rendered(COMMITTED).items()}
    assert {name: names for name, names in found.items() if names} == {}
    assert CODE_NAME.findall("the fixed_order run, 1 checkpoint(s), {'a': 1}") == [
        "fixed_order",
        "checkpoint(s)",
        "{'",
    ]


def test_the_fit_sentence_follows_the_model_claims_verdicts():
    summary = json.loads(json.dumps(COMMITTED))
    assert report_text.fit_sentence(summary).startswith("the explained variances the paper")
    for d in summary["claims"]:
        d["verdict"] = "reproduced"
    assert report_text.fit_sentence(summary).startswith("our default recipe reaches")
    for d in summary["claims"] + summary["recipe_sweep"]["closest_recipe_claims"]:
        d["verdict"] = "contradicted"
    assert report_text.fit_sentence(summary).startswith("neither our default")


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
    assert "at k = 1000 it is 8.5%, 3.5% short with 8 seeds and 4 draws (20 seeds would)" in text
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


def test_a_removal_noise_measurement_adds_no_comparison():
    summary = json.loads(json.dumps(COMMITTED))
    before = report_text.comparisons(summary)
    summary["removal"]["noise_only"] = {"recipe": "default", "verdicts": []}
    assert report_text.comparisons(summary) == before


def test_side_by_side_aligns_claims_by_id_and_marks_missing_ones():
    def doc(claim_id, mean, verdict):
        return {
            "id": claim_id,
            "claim": f"claim {claim_id}",
            "mean": mean,
            "ci95": [mean - 0.1, mean + 0.1],
            "verdict": verdict,
        }

    table = report_text.side_by_side(
        {
            "raw": [doc("a", 1.0, "reproduced"), doc("b", 2.0, "no effect")],
            "adam": [doc("b", 3.0, "contradicted")],
        }
    )
    assert list(table["claim"]) == ["claim a", "claim b"]
    assert list(table["raw: verdict"]) == ["reproduced", "no effect"]
    assert list(table["adam: verdict"]) == ["not evaluated", "contradicted"]
    assert table.loc[1, "adam: mean [95% CI]"] == "3.000 [2.900, 3.100]"


def test_quality_view_rebuilds_the_per_seed_table_from_summary_json():
    doc = {
        "train MSE": {"per_seed": {"0": 0.2, "1": 0.3}, "mean": 0.25},
        "test MSE": {"per_seed": {"0": 0.4, "1": 0.5}, "mean": 0.45},
    }
    view = report_text.quality_view(json.loads(json.dumps({"model_quality": doc})))
    assert view.index.name == "seed" and list(view.index) == [0, 1]
    assert list(view.columns) == ["train MSE", "test MSE"]
    assert view.loc[1, "test MSE"] == 0.5


def test_stability_panels_are_the_summarys_matrices_with_words():
    from tracin_study.summary import matrix_doc

    matrix = pd.DataFrame([[1.0, 0.25], [0.25, 1.0]], index=[3, 7], columns=[3, 7])
    names = ("self_influence_spearman", "self_influence_top_overlap", "proponent_top_overlap")
    summary = json.loads(json.dumps({"stability_matrices": {n: matrix_doc(matrix) for n in names}}))
    panels = report_text.stability_panels(summary, top_n=100, k=20)
    assert list(panels) == [
        "Self-influence, all houses",
        "Self-influence, top houses",
        "Palo Alto proponents",
    ]
    table, label = panels["Palo Alto proponents"]
    assert label == "share of the top 20 in common"
    assert table.equals(matrix)
