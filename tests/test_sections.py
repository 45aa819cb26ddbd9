"""The registry of report sections: declared once, inputs merged, unclaimed inputs named."""

import re

import pytest

from tracin_study import sections
from tracin_study.sections import Section, check_claimed, merged_inputs, outline, register

QUALITY = Section(
    "model_quality",
    "tracin_study.summary.model_quality_section",
    {"metrics": ["s0/metrics.json", "s1/metrics.json"]},
    {"curves": ["s0/curve.csv", "s1/curve.csv"]},
)
GEOGRAPHY = Section(
    "self_influence_geography",
    "tracin_study.summary.self_influence_geography_section",
    {"self_influence": ["s0/si.parquet", "s1/si.parquet"]},
    {"self_influence": ["s0/si.parquet", "s1/si.parquet"]},
)
STABILITY = Section(
    "stability",
    "tracin_study.summary.stability_section",
    {"self_influence": ["s0/si.parquet", "s1/si.parquet"], "proponents": ["s0/p.parquet"]},
)


def test_a_section_is_declared_once():
    registry = {}
    register(registry, QUALITY)
    with pytest.raises(ValueError, match="'model_quality' is declared twice"):
        register(registry, QUALITY)
    assert registry == {"model_quality": QUALITY}


def test_inputs_shared_by_sections_are_merged_and_a_clash_is_named():
    merged = merged_inputs([QUALITY, GEOGRAPHY, STABILITY])
    assert merged == {
        "metrics": ["s0/metrics.json", "s1/metrics.json"],
        "self_influence": ["s0/si.parquet", "s1/si.parquet"],
        "proponents": ["s0/p.parquet"],
    }
    assert set(merged_inputs([QUALITY, GEOGRAPHY], "figure_inputs")) == {
        "curves",
        "self_influence",
    }
    clash = Section("other", "m.f", {"metrics": "elsewhere.json"})
    with pytest.raises(ValueError, match="'metrics' of section 'other' names elsewhere.json"):
        merged_inputs([QUALITY, clash])


def test_the_outline_names_each_sections_function_and_inputs():
    assert outline([QUALITY, STABILITY]) == {
        "model_quality": {
            "function": "tracin_study.summary.model_quality_section",
            "inputs": ["metrics"],
        },
        "stability": {
            "function": "tracin_study.summary.stability_section",
            "inputs": ["self_influence", "proponents"],  # as declared
        },
    }


def test_an_input_no_section_claims_fails_with_its_name():
    plan = outline([QUALITY, STABILITY])
    check_claimed(["metrics", "self_influence", "proponents"], plan)  # all claimed
    with pytest.raises(ValueError, match=re.escape("inputs ['extra', 'houses'] belong to no")):
        check_claimed(["metrics", "houses", "extra"], plan)


def test_every_section_key_is_its_constants_name_in_lower_case():
    keys = {name: value for name, value in vars(sections).items() if name.isupper()}
    assert {"MODEL_QUALITY", "REMOVAL", "LDS"} <= set(keys)
    assert all(value == name.lower() for name, value in keys.items())
