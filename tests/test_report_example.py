"""The report's usage example runs from exactly the code the HTML shows: every code cell of
notebooks/report.ipynb whose input is not hidden, in order, executed in a fresh kernel
started in a folder holding the smoke run's results (nothing injected by the pipeline)."""

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tracin_study.notebooks import HIDE_INPUT, KERNEL

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "notebooks/report.ipynb"
TAG = "usage-example"


def visible_code(notebook: Path) -> list[nbformat.NotebookNode]:
    """The code cells whose input the HTML shows (not tagged `HIDE_INPUT`), in order."""
    cells = nbformat.read(notebook, as_version=4).cells
    return [c for c in cells if c.cell_type == "code" and HIDE_INPUT not in c.metadata.tags]


def run_visible_cells(notebook: Path, cwd: Path) -> nbformat.NotebookNode:
    """A notebook of `notebook`'s visible code cells, executed in a fresh kernel in `cwd`."""
    fresh = nbformat.v4.new_notebook(cells=visible_code(notebook))
    fresh.metadata.kernelspec = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    NotebookClient(
        fresh, kernel_name=KERNEL, timeout=600, resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return fresh


def outputs_text(cell) -> str:
    """The text a cell printed or displayed (stdout and text/plain or text/html data)."""
    parts = []
    for out in cell.outputs:
        parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts.append(data.get("text/plain", "") + data.get("text/html", ""))
    return "".join(parts)


def test_the_visible_code_is_exactly_the_tagged_usage_example():
    cells = json.loads(TEMPLATE.read_text())["cells"]
    tagged = [c for c in cells if TAG in c["metadata"].get("tags", [])]
    visible = visible_code(TEMPLATE)
    assert [c.source for c in visible] == [
        "".join(c["source"]) for c in tagged if c["cell_type"] == "code"
    ]
    assert len(visible) >= 4
    assert all(c["cell_type"] == "markdown" for c in (tagged[0], tagged[-1]))  # words around


def test_the_usage_example_uses_the_readmes_api():
    code = "\n".join(c.source for c in visible_code(TEMPLATE))
    readme = (ROOT / "README.md").read_text()
    for call in (
        "tracin.compute(",
        ".self_total()",
        ".influence_total()",
        "test_points(",
        "top_k(",
    ):
        assert call in code and call in readme, call


def test_usage_example_runs_from_its_visible_cells_on_the_smoke_results(smoke_run):
    executed = run_visible_cells(TEMPLATE, smoke_run)
    printed = "".join(outputs_text(c) for c in executed.cells)
    assert "largest relative error" in printed
    error = float(printed.split("largest relative error: ")[1].split()[0])
    assert error < 1e-4
    assert "results/smoke/default" in printed and "epochs [2, 4]" in printed
    assert "proponent" in printed and "opponent" in printed
    assert any(
        "image/png" in out.get("data", {}) for c in executed.cells for out in c.outputs
    )  # the map
