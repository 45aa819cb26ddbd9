"""Snakemake's own HTML report (`snakemake --report report.html`): a description of the
workflow, and a caption for every figure the notebooks save."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAPTIONS = ROOT / "workflow/report/figure.rst"


def saved_figures() -> set[str]:
    """The names of the figures the notebook templates save (`{figures}/<name>.png`)."""
    names = set()
    for template in (ROOT / "notebooks").glob("*.ipynb"):
        names |= set(re.findall(r"figures\}/(\w+)\.png", template.read_text()))
    return names


def test_every_saved_figure_has_its_own_caption():
    captioned = set(re.findall(r'^  "(\w+)": "', CAPTIONS.read_text(), re.M))
    assert saved_figures() <= captioned
    assert {"headline", "palo_alto_map", "recipe_paths"} <= saved_figures()


def test_the_report_rules_give_the_captions_and_the_workflow_description():
    rules = (ROOT / "workflow/rules/notebooks.smk").read_text()
    assert rules.count("caption=FIGURE_CAPTION") == rules.count("report(") == 2
    assert 'report: "../report/workflow.rst"' in rules
    description = (ROOT / "workflow/report/workflow.rst").read_text()
    assert "arxiv.org/abs/2002.08484" in description and "TracInCP" in description
