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
            "selection": {"train_explained_variance": 0.73, "test_explained_variance": 0.71},
            "closest_recipe_claims": [_claim("high_self_influence_rare", "reproduced")],
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
    assert "Of the 3 claims about TracIn" in text
    assert (
        "2 reproduce (the Palo Alto proponents are expensive and high self-influence houses "
        "are rare) and 1 shows no effect (low self-influence houses are typical)." in text
    )
    assert "the others do not" not in text and "the test could not decide" in text
    assert "7 of the 11 houses; the pooled verdict does not hold for every house" in text
    assert "0.91 (train) and 0.81 (test)" in text and "0.72 and 0.70" in text
    assert "0.73 and 0.71" in text and "not a result about TracIn" in text
    assert (
        "Spearman correlation of 0.93" in text
        and "better than self-influence (AUC 0.77 against 0.72)" in text
    )
    assert "explained variance" not in text.split("Separately")[0]  # TracIn claims only
    assert text.count("\n- ") == 3 and text.startswith("- ")


def test_compact_table_has_one_row_per_claim_and_the_per_house_claim():
    table = report_text.compact_table(_summary())
    assert list(table.columns) == ["claim", "the paper says", "we measure", "verdict"]
    assert len(table) == 6
    assert table["we measure"].iloc[0] == "a ratio: 1.50 [1.40, 1.60] over 3 seeds"
    assert table["the paper says"].iloc[0] == "palo alto proponents expensive (paper, p. 8)"
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
    noise = report_text.removal_noise_view(doc)
    assert list(noise["protocol"]) == ["fixed order", "new order"]
    expected = rv.noise_table(_removal_records())
    assert list(noise["smallest detectable effect (%)"]) == [
        f"{100 * v:.1f}" for v in expected["detectable_effect"]
    ]
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
        report_text.removal_noise_view({"verdicts": []})
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
    }
    view = report_text.lds_view(doc)
    assert list(view["95% bootstrap interval over subsets"]) == ["[0.050, 0.200]", "[0.100, 0.300]"]
    text = report_text.lds_takeaway(doc)
    assert "summed loss's, 0.200" in text and "noise ceiling of 0.600" in text
    assert "raw - summed_loss (-0.080)" in text
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
            "methods": {"raw": {"mean": 0.12}, "adam": {"mean": 0.2}},
            "noise_ceiling": {"mean": 0.6},
        }
    }
    line = report_text.bottom_line(doc).splitlines()[-1]
    verdicts = doc["removal"]["removal_summary_default"]["verdicts"]
    effects = [r["detectable_effect"] for r in verdicts if r["house"] == rv.AGGREGATE]
    assert f"{100 * min(effects):.1f}" == f"{100 * max(effects):.1f}"  # so one value is given
    assert line == (
        "- Counterfactually, retraining the default recipe without the chosen houses, all Palo "
        "Alto houses together, gives 2 reproduced of 2 removal comparisons (smallest "
        f"detectable effect {100 * effects[0]:.1f}% of the full model's loss); "
        "the highest LDS (adam, 0.20) against a noise ceiling of 0.60."
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
