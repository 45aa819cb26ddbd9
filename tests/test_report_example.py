"""The report's usage example runs top to bottom from its visible cells: the code cells
tagged `usage-example` of notebooks/report.ipynb, executed in order against the smoke run's
results with the `inputs` and `config` the pipeline gave the report."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
TAG = "usage-example"


def usage_cells(notebook: Path) -> list[str]:
    """The source of every code cell tagged `TAG`, in order."""
    cells = json.loads(notebook.read_text())["cells"]
    return [
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and TAG in c["metadata"].get("tags", [])
    ]


def injected_parameters(executed: Path) -> dict:
    """The parameters papermill injected into an executed notebook, as a namespace dict."""
    cells = json.loads(executed.read_text())["cells"]
    cell = next(c for c in cells if "injected-parameters" in c["metadata"].get("tags", []))
    namespace = {}
    exec("".join(cell["source"]), namespace)
    return namespace


def test_the_example_is_visible_and_tagged():
    cells = json.loads((ROOT / "notebooks/report.ipynb").read_text())["cells"]
    tagged = [c for c in cells if TAG in c["metadata"].get("tags", [])]
    assert len([c for c in tagged if c["cell_type"] == "code"]) >= 4
    assert all("hide-input" not in c["metadata"]["tags"] for c in tagged)
    assert all(c["cell_type"] == "markdown" for c in (tagged[0], tagged[-1]))  # words around


def test_usage_example_runs_top_to_bottom_on_the_smoke_results(smoke_run, monkeypatch):
    executed = smoke_run / "results/smoke/report/report.ipynb"
    parameters = injected_parameters(executed)
    namespace = {"inputs": parameters["inputs"], "config": parameters["config"]}
    monkeypatch.chdir(smoke_run)
    for source in usage_cells(ROOT / "notebooks/report.ipynb"):
        exec(compile(source, TAG, "exec"), namespace)
    check = namespace["check"]
    assert len(check) == 5
    assert check["relative error"].max() < 1e-4
    chosen = namespace["chosen"]
    assert set(chosen["kind"]) <= {"proponent", "opponent"} and len(chosen) > 0
    assert len(namespace["self_influence"]) == len(namespace["prepared"].train)
