"""The summary's sections and the report's words rendered from them, on synthetic inputs:
model quality, geography, the engine check's houses, the corruption means, the bottom line,
the compact table, the fragility note, and the removal and LDS views on summaries built by
`removal_verdicts.summary` from fake records."""

import math

import numpy as np
import pandas as pd
import pytest

from tracin_study import report_text, summary
from tracin_study.claims import CA_SECTION
from tracin_study.experiments import removal_verdicts as rv


def _fit(train_ev, test_ev):
    return {
        "train": {"explained_variance": train_ev, "mse": 1 - train_ev},
        "test": {"explained_variance": test_ev, "mse": 1 - test_ev},
    }


def test_model_quality_gives_per_seed_values_and_their_mean():
    doc = summary.model_quality({0: _fit(0.8, 0.7), 1: _fit(0.9, 0.6)})
    assert doc["train explained variance"]["per_seed"] == {0: 0.8, 1: 0.9}
    assert doc["train explained variance"]["mean"] == pytest.approx(0.85)
    assert doc["test MSE"]["mean"] == pytest.approx(0.35)
    assert doc["test MSE"]["n"] == 2


def test_geography_counts_bay_area_houses_among_the_highest_and_lowest():
    # 4 houses in San Francisco, 6 in Fresno; the San Francisco ones have the highest scores
    table = pd.DataFrame(
        {
            "Latitude": [37.77] * 4 + [36.74] * 6,
            "Longitude": [-122.42] * 4 + [-119.79] * 6,
            "self_influence": [10, 9, 8, 7, 1, 2, 3, 4, 5, 6],
        }
    )
    doc = summary.geography(table, 4)
    assert doc["high"] == {"bay_area_share": 1.0, "n": 4}
    assert doc["low"] == {"bay_area_share": 0.0, "n": 4}
    assert doc["all"]["bay_area_share"] == pytest.approx(0.4)


def test_check_houses_are_the_extremes_and_the_median():
    stored = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 0.5, 6.0])
    rows = summary.check_houses(stored)
    assert list(stored[rows]) == [6.0, 5.0, 3.0, 1.0, 0.5]


def test_corruption_detection_averages_recall_over_seeds_per_score_and_change():
    tables = [
        pd.DataFrame(
            {
                "score": ["a", "a"],
                "change": ["small", "large"],
                "n_corrupted": [3, 5],
                "recall_at_0.1": [0.0, 0.4],
                "seed": s,
            }
        )
        for s in (0, 1)
    ]
    tables[1]["recall_at_0.1"] = [0.2, 0.6]
    doc = summary.corruption_detection({"seeds": [0, 1]}, tables)
    rows = {r["change"]: r for r in doc["recall_by_change"]}
    assert rows["small"]["recall_at_0.1"] == pytest.approx(0.1)
    assert rows["large"]["recall_at_0.1"] == pytest.approx(0.5)
    assert doc["seeds"] == [0, 1] and "seed" not in rows["small"]


def _claim(claim_id, verdict, mean=1.5):
    return {
        "id": claim_id,
        "claim": claim_id.replace("_", " "),
        "source": CA_SECTION,
        "measurement": "a ratio",
        "mean": mean,
        "ci95": [mean - 0.1, mean + 0.1],
        "n": 3,
        "verdict": verdict,
    }


def _summary(rare_adam="reproduced"):
    raw = [
        _claim("train_explained_variance", "contradicted", 0.9),
        _claim("test_explained_variance", "contradicted", 0.8),
        _claim("palo_alto_proponents_expensive", "reproduced"),
        _claim("high_self_influence_rare", "reproduced"),
        _claim("low_self_influence_typical", "no effect", 1.0),
    ]
    adam = [*raw[:3], _claim("high_self_influence_rare", rare_adam)]
    return {
        "claims": raw,
        "claims_adam": adam,
        "paper_facts": [
            {"name": "train_explained_variance", "value": "0.72"},
            {"name": "test_explained_variance", "value": "0.70"},
            {"name": "palo_alto", "value": "11 houses; their proponents are expensive"},
        ],
        "palo_alto_per_house": {
            "counts": {"reproduced": 7, "no effect": 0, "contradicted": 1, "inconclusive": 3},
            "houses": [{}] * 11,
            "measurement": "a gain",
        },
        "model_quality": {
            "train explained variance": {"mean": 0.91},
            "test explained variance": {"mean": 0.81},
        },
        "recipe_sweep": {
            "selection": {"recipe": "minmax", "epoch": 20},
            "closest_recipe_claims": [
                _claim("train_explained_variance", "reproduced", 0.73),
                _claim("test_explained_variance", "reproduced", 0.71),
                _claim("high_self_influence_rare", "reproduced"),
            ],
        },
        "self_influence_vs_loss": [
            {"loss": "summed_loss", "mean": 0.93},
            {"loss": "final_loss", "mean": 0.6},
        ],
        "corruption_detection": {
            "scores": {
                "self_influence_all_layers": {"auc": {"mean": 0.72}},
                "summed_loss": {"auc": {"mean": 0.77}},
            }
        },
    }


def test_bottom_line_renders_the_summary_values_and_separates_the_model():
    text = report_text.bottom_line(_summary())
    assert text.startswith(
        "- On the default recipe, scored by raw TracInCP: of 3 claims stated by the paper's "
        "California-housing section, 2 reproduce (the Palo Alto proponents are expensive and "
        "high self-influence houses are rare) and 1 shows no effect (low self-influence houses "
        "are typical)."
    )
    assert "for 7 of the 11 houses (our per-house reading" in text
    assert "0.91 (train) and 0.81 (test)" in text and "0.72 and 0.70" in text
    assert "the closest recipe (min-max scaled features, 20 epochs) reaches 0.73 and 0.71" in text
    assert "The model, not TracIn" in text
    assert (
        "Spearman correlation of 0.93" in text
        and "better than self-influence (AUC 0.77 against 0.72)" in text
    )
    assert "explained variance" not in text.split("The model, not TracIn")[0]
    assert "Counterfactually" not in text and "LDS" not in text  # no such sections
    assert text.count("\n- ") == 3 and text.startswith("- ")


def test_bottom_line_keeps_our_readings_apart_from_the_papers_claims():
    doc = _summary()
    doc["claims"][3]["source"] = report_text.SELF_INFLUENCE_READING
    text = report_text.bottom_line(doc).splitlines()[0]
    assert "of 2 claims stated by the paper's California-housing section, 1 reproduces" in text
    assert (
        "of 1 claim that is our reading of the paper, 1 reproduces (high self-influence "
        "houses are rare)" in text
    )


def test_compact_table_has_one_row_per_claim_and_the_per_house_claim():
    table = report_text.compact_table(_summary())
    assert list(table.columns) == [
        "claim",
        "what the paper states",
        "whose claim",
        "we measure",
        "verdict",
    ]
    assert len(table) == 6
    assert table["we measure"].iloc[0] == "a ratio: 1.50 [1.40, 1.60] over 3 seeds"
    assert table["what the paper states"].iloc[0] == "Palo alto proponents expensive (p. 8)"
    assert table["whose claim"].iloc[0] == "the paper's"
    assert table["what the paper states"].iloc[3] == (
        "11 houses; their proponents are expensive (p. 8)"
    )
    assert table["whose claim"].iloc[3] == "our reading of the paper (per house)"
    assert (
        table["verdict"].iloc[3] == "7 reproduced, 3 inconclusive and 1 contradicted of 11 houses"
    )
    assert list(table["claim"].iloc[:3]) == [
        "The Palo Alto proponents are expensive",
        "High self-influence houses are rare",
        "Low self-influence houses are typical",
    ]
    # the model's replication comes after the claims about TracIn, labelled as such
    assert list(table["claim"].iloc[4:]) == [
        "The model (not TracIn): explained variance, training split",
        "The model (not TracIn): explained variance, test split",
    ]


def test_fragility_says_when_the_rare_claim_flips():
    assert "is fragile" in report_text.fragility(_summary(rare_adam="inconclusive"))
    assert "keeps its verdict" in report_text.fragility(_summary())


def _removal_records():
    records = []
    for protocol in ("fixed_order", "new_order"):
        for seed, rise in enumerate([2.0, 2.2, 2.4]):
            for d, change in enumerate(((0.1, 0.0), (-0.1, 0.0), (0.0, 0.3))):
                records.append(_record(seed, "random", np.add([1.0, 3.0], change), d, -1, protocol))
            records.append(
                _record(seed, "aggregate_proponents", [1.0, 3.0 + rise], -1, -1, protocol)
            )
    return records


def _record(seed, set_name, removed, draw, target, protocol):
    return {
        "seed": seed,
        "protocol": protocol,
        "name": f"{set_name}/test{target}/draw{draw}",
        "set": set_name,
        "score": "raw" if set_name != "random" else "",
        "k": 5,
        "draw": draw,
        "target_house": target,
        "test_index": [0, 1],
        "loss_reference": [1.0, 3.0],
        "loss_removed": list(removed),
    }


def test_removal_views_give_each_verdict_with_its_detectable_effect_in_percent():
    doc = rv.summary(_removal_records()) | {"recipe": "default"}
    expected = rv.noise_table(_removal_records())
    aggregate = report_text.removal_aggregate_view([doc])
    assert list(aggregate["verdict"]) == ["reproduced", "reproduced"]  # one row per protocol
    assert list(aggregate["smallest detectable effect (%)"]) == [
        f"{100 * v:.1f}" for v in expected["detectable_effect"]
    ]
    text = report_text.removal_takeaway(doc)
    assert "the 2 removal comparisons of the default recipe give 2 reproduced" in text
    smallest = min(r["detectable_effect"] for r in doc["verdicts"] if r["house"] == rv.AGGREGATE)
    assert f"{100 * smallest:.1f}%" in text


def test_missing_sections_raise_an_error_naming_the_key():
    with pytest.raises(KeyError, match="'removal_summary_default' is missing from the report"):
        report_text.require({"summary": "x"}, "removal_summary_default")
    with pytest.raises(KeyError, match="'noise' is missing from the removal summary"):
        report_text.removal_power_view({"power_target": 0.05, "verdicts": []})
    with pytest.raises(KeyError, match="'noise_ceiling' is missing from the LDS summary"):
        report_text.lds_takeaway({"methods": {}, "differences": {}})


def test_lds_view_and_takeaway_give_intervals_and_the_noise_ceiling():
    doc = {
        "methods": {
            "raw": {"mean": 0.12, "ci95": [0.05, 0.2], "per_query_sd": 0.3, "n_queries": 20},
            "summed_loss": {"mean": 0.2, "ci95": [0.1, 0.3], "per_query_sd": 0.2, "n_queries": 20},
        },
        "differences": {"raw - summed_loss": {"mean": -0.08, "ci95": [-0.15, -0.01]}},
        "noise_ceiling": {"mean": 0.6, "per_query": [0.6], "subsets": 50},
        "n_queries": 20,
        "n_subsets": 50,
    }
    view = report_text.lds_view(doc)
    assert list(view["95% bootstrap interval over subsets"]) == ["[0.050, 0.200]", "[0.100, 0.300]"]
    text = report_text.lds_takeaway(doc)
    assert "the highest mean is that of summed loss, 0.20 [0.10, 0.30]" in text
    assert "noise ceiling of 0.60 (one estimate, no interval)" in text
    assert "its interval excludes both 0 and the ceiling" in text
    assert "raw TracInCP minus summed loss (-0.080)" in text
    assert "agree to every digit" not in text
    assert list(view["mean LDS over queries"]) == ["0.120", "0.200"]


def differences(before, after, path="", rtol=1e-6, atol=1e-9) -> list[str]:
    """Where two summary.json documents differ, beyond floating-point noise: one line per
    leaf (or key present in only one) under the keys both share at the top level."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = before.keys() & after.keys() if not path else before.keys() | after.keys()
        out = []
        for key in sorted(keys, key=str):
            if key not in before or key not in after:
                out.append(f"{path}/{key}: only in {'after' if key in after else 'before'}")
            else:
                out += differences(before[key], after[key], f"{path}/{key}", rtol, atol)
        return out
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{path}: {len(before)} items before, {len(after)} after"]
        return [
            line
            for i, (a, b) in enumerate(zip(before, after, strict=True))
            for line in differences(a, b, f"{path}[{i}]", rtol, atol)
        ]
    numbers = (int, float)
    if isinstance(before, numbers) and isinstance(after, numbers):
        both_nan = math.isnan(before) and math.isnan(after)
        close = both_nan or math.isclose(before, after, rel_tol=rtol, abs_tol=atol)
        return [] if close else [f"{path}: {before!r} before, {after!r} after"]
    return [] if before == after else [f"{path}: {before!r} before, {after!r} after"]


def test_differences_ignore_float_noise_and_name_every_change():
    before = {"a": {"x": 1.0, "y": [1, 2]}, "gone": 1, "b": "text"}
    after = {"a": {"x": 1.0 + 1e-12, "y": [1, 3], "z": 0}, "new": 2, "b": "other"}
    assert differences(before, after) == [
        "/a/y[1]: 2 before, 3 after",
        "/a/z: only in after",
        "/b: 'text' before, 'other' after",
    ]


def test_the_bottom_line_adds_the_counterfactual_results_when_the_summary_has_them():
    doc = _summary()
    assert "Counterfactually" not in report_text.bottom_line(doc)
    doc["removal"] = {
        "removal_summary_default": rv.summary(_removal_records()) | {"recipe": "default"}
    }
    doc["lds"] = {
        "lds_summary_closest": {
            "n_queries": 100,
            "n_subsets": 24,
            "methods": {
                "raw": {"mean": 0.12, "ci95": [0.05, 0.2]},
                "adam": {"mean": 0.2, "ci95": [-0.1, 0.5]},
            },
            "noise_ceiling": {"mean": 0.6},
        }
    }
    lines = report_text.bottom_line(doc).splitlines()
    verdicts = doc["removal"]["removal_summary_default"]["verdicts"]
    effects = [r["detectable_effect"] for r in verdicts if r["house"] == rv.AGGREGATE]
    assert f"{100 * min(effects):.1f}" == f"{100 * max(effects):.1f}"  # so one value is given
    assert lines[2] == (
        "- Counterfactually (our own test: retraining without houses), the 2 comparisons on all "
        "Palo Alto houses together give, for houses chosen by TracIn, 2 reproduced, "
        "0 contradicted, 0 no effect and 0 inconclusive of 2; the smallest effect these seeds "
        f"and draws could detect is {100 * effects[0]:.1f}% of the full model's Palo Alto loss."
    )
    assert lines[3] == (
        "- The linear datamodeling score (LDS) on the closest recipe, 100 query houses and 24 "
        "retrainings: the highest mean is that of Adam-preconditioned TracInCP, 0.20 "
        "[-0.10, 0.50], against a noise ceiling of 0.60 (one estimate, no interval); its "
        "interval contains 0 but not the ceiling: no predictive power is shown."
    )


def test_baselines_view_gives_each_claim_then_its_baselines():
    claim = _claim("palo_alto_proponents_expensive", "reproduced")
    claim |= {"margin": "no effect within [0.9, 1.1]"}
    claim["baselines"] = {
        "vs random houses": {"mean": 1.0, "ci95": [0.9, 1.1], "verdict": "no effect"}
    }
    view = report_text.baselines_view([claim])
    assert list(view["measured on"]) == ["the claim's own houses", "vs random houses"]
    assert list(view["mean [95% interval]"]) == ["1.50 [1.40, 1.60]", "1.00 [0.90, 1.10]"]
    assert list(view["verdict"]) == ["reproduced", "no effect"]
    assert view["margin of the verdict"].iloc[0] == "no effect within [0.9, 1.1]"
