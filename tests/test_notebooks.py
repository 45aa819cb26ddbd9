"""The report's HTML shows the code of untagged cells only; a template receives the
parameters its parameters cell declares."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tracin_study.notebooks import HIDE_INPUT, INJECTED, declared_parameters, to_html


def cell(source: str, tag: str | None, shown: str):
    code = new_code_cell(source, metadata={"tags": [tag] if tag else []})
    code.outputs = [new_output("stream", name="stdout", text=shown)]
    return code


def test_html_hides_the_code_of_tagged_and_injected_cells_but_keeps_outputs(tmp_path):
    notebook = tmp_path / "report.ipynb"
    cells = [
        cell("hidden_code = 1", HIDE_INPUT, "output of hidden"),
        cell("injected_code = 2", INJECTED, "output of injected"),
        cell("shown_code = 3", None, "output of shown"),
    ]
    nbformat.write(new_notebook(cells=cells), notebook)
    to_html(notebook, tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text()
    assert "hidden_code" not in html and "injected_code" not in html
    assert "shown_code" in html
    assert all(f"output of {name}" in html for name in ("hidden", "injected", "shown"))


def test_declared_parameters_are_the_names_the_parameters_cell_assigns(tmp_path):
    notebook = tmp_path / "template.ipynb"
    cells = [
        new_code_cell("seed = 0\ntrain = test = ''\nx: int = 1", metadata={"tags": ["parameters"]}),
        new_code_cell("later = 1"),
    ]
    nbformat.write(new_notebook(cells=cells), notebook)
    assert declared_parameters(notebook) == {"seed", "train", "test"}
    nbformat.write(new_notebook(cells=cells[1:]), notebook)
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        declared_parameters(notebook)


def test_the_report_template_declares_inputs_and_no_per_name_paths():
    from pathlib import Path

    report = Path(__file__).resolve().parents[1] / "notebooks/report.ipynb"
    sections = {"report", "influence", "palo_alto", "approximation_chain"}  # of the config
    assert declared_parameters(report) == {"seeds", "git_commit", "inputs", "figures", *sections}
