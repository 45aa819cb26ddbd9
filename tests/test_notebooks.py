"""The report's HTML shows the code of untagged cells only."""

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tracin_study.notebooks import HIDE_INPUT, INJECTED, to_html


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
