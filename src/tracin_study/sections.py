"""The sections of report/summary.json: each key defined once, and the registry through which
a rule file declares the section its experiment adds.

A section is declared once, next to the targets of the rule file that makes its inputs
(`report_section` in workflow/rules/common.smk): its key, its named inputs, the dotted name
of the function that summarises them and the tables the report's figures draw besides
summary.json. The summary rule builds every registered section and fails on an input that no
section claims. This module imports nothing heavy: the rule files import it when Snakemake
parses the workflow.
"""

from dataclasses import dataclass, field

PROVENANCE = "provenance"
CLAIMS = "claims"
PAPER_FACTS = "paper_facts"
CLAIMS_ADAM = "claims_adam"
WORKED_EXAMPLE = "worked_example"
MODEL_QUALITY = "model_quality"
SELF_INFLUENCE_VS_LOSS = "self_influence_vs_loss"
PALO_ALTO_PER_HOUSE = "palo_alto_per_house"
PALO_ALTO_SELECTION = "palo_alto_selection"
SELF_INFLUENCE_GEOGRAPHY = "self_influence_geography"
PROPONENT_PRICES = "proponent_prices"
STABILITY = "stability"
STABILITY_MATRICES = "stability_matrices"
APPROXIMATION_CHAIN = "approximation_chain"
CHECKPOINT_ABLATION = "checkpoint_ablation"
CORRUPTION_DETECTION = "corruption_detection"
RECIPE_SWEEP = "recipe_sweep"
REMOVAL = "removal"
LDS = "lds"


@dataclass(frozen=True)
class Section:
    """One section of summary.json.

    key: its key in summary.json; function: the dotted name of a function
    (files, context) -> JSON-ready value, `files` the section's `inputs` (name -> path, or
    list of paths) and `context` a `tracin_study.summary.Context`; inputs: the files the
    function reads (named inputs of the summary rule); figure_inputs: the files the report
    notebook reads besides summary.json (named inputs of the report rule).
    """

    key: str
    function: str
    inputs: dict = field(default_factory=dict)
    figure_inputs: dict = field(default_factory=dict)


def register(registry: dict[str, Section], section: Section) -> None:
    """Add `section` to `registry` (key -> Section); a key declared twice raises ValueError."""
    if section.key in registry:
        raise ValueError(f"the report section {section.key!r} is declared twice")
    registry[section.key] = section


def merged_inputs(sections, attribute: str = "inputs") -> dict:
    """The union of the sections' `attribute` (inputs or figure_inputs), name -> path(s); a
    name that two sections give different paths raises ValueError naming it."""
    merged = {}
    for section in sections:
        for name, path in getattr(section, attribute).items():
            if name in merged and merged[name] != path:
                raise ValueError(
                    f"the report input {name!r} of section {section.key!r} names {path}, "
                    f"another section's {merged[name]}; give one of them another name"
                )
            merged[name] = path
    return merged


def outline(sections) -> dict[str, dict]:
    """Key -> {"function": dotted name, "inputs": [input names, as declared]} of each
    section: what the summary rule hands its script (plain values, so that Snakemake can
    compare them)."""
    return {s.key: {"function": s.function, "inputs": list(s.inputs)} for s in sections}


def check_claimed(input_names, outline: dict[str, dict]) -> None:
    """Raise ValueError naming every one of `input_names` that no section of `outline` (as
    from `outline`) claims."""
    claimed = {name for section in outline.values() for name in section["inputs"]}
    unclaimed = sorted(set(input_names) - claimed)
    if unclaimed:
        raise ValueError(
            f"the summary rule's inputs {unclaimed} belong to no report section: declare "
            "them in a section (report_section in the rule file that makes them) or drop them"
        )
