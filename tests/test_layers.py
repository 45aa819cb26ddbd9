"""The package's layers read top-down: library -> statistics -> study -> report.

Every module of src/tracin_study is assigned a layer here; a module may import only from
its own layer or a lower one, and the report (figures that take tables) not from the study.
The notebooks are read as the report: their cells import what the report may, but for the
usage example's cells (tagged `usage-example`), which show a reader the package itself.
"""

import ast
from pathlib import Path

import nbformat
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src/tracin_study"

LIBRARY, STATISTICS, STUDY, REPORT = "library", "statistics", "study", "report"
# module (dotted, below tracin_study) or package prefix ending in "." -> layer
LAYER = {
    "": LIBRARY,  # tracin_study/__init__.py
    "housing_table": LIBRARY,
    "recipes": LIBRARY,
    "run_plans": LIBRARY,
    "config": LIBRARY,
    "sections": LIBRARY,
    "provenance": LIBRARY,
    "runner": LIBRARY,
    "paper": LIBRARY,
    "data": LIBRARY,
    "geo": LIBRARY,
    "model": LIBRARY,
    "training": LIBRARY,
    "checkpoints": LIBRARY,
    "manifest_check": LIBRARY,
    "ideal": LIBRARY,
    "influence.": LIBRARY,
    "resources.": LIBRARY,
    "statistics": STATISTICS,
    "verdicts": STUDY,
    "palo_alto": STUDY,
    "loss_rankings": STUDY,
    "claims": STUDY,
    "summary": STUDY,
    "experiments.": STUDY,
    "plots": REPORT,
    "notebooks": REPORT,
    "names": REPORT,
    "report_text": REPORT,
}
MAY_IMPORT = {
    LIBRARY: {LIBRARY},
    STATISTICS: {LIBRARY, STATISTICS},
    STUDY: {LIBRARY, STATISTICS, STUDY},
    REPORT: {LIBRARY, STATISTICS, REPORT},
}


def module_name(path: Path) -> str:
    """`path`'s dotted name below the package ("" for the package's own __init__)."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] + [""] if parts[:-1] else [""]
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name below the package, or None if unassigned."""
    if module in LAYER:
        return LAYER[module]
    for prefix, layer in LAYER.items():
        if prefix.endswith(".") and (module + ".").startswith(prefix):
            return layer
    return None


def package_imports(path: Path) -> list[str]:
    """The modules of tracin_study that `path` imports, as dotted names below the package
    (an import of a package itself, `from tracin_study import x`, names x)."""
    return source_imports(path.read_text(), str(path))


def source_imports(source: str, where: str = "<cell>") -> list[str]:
    """The modules of tracin_study that the Python `source` imports, as by `package_imports`."""
    names = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("tracin_study.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "tracin_study":
                names += [f"tracin_study.{a.name}" for a in node.names]
            elif node.module.startswith("tracin_study."):
                names.append(node.module)
    return [n.removeprefix("tracin_study.") for n in names]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    unassigned = [module_name(p) for p in MODULES if layer_of(module_name(p)) is None]
    assert unassigned == [], f"assign these modules a layer in tests/test_layers.py: {unassigned}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_from_a_higher_layer(path):
    module = module_name(path)
    layer = layer_of(module)
    bad = [
        f"{module or '__init__'} ({layer}) imports tracin_study.{name} ({layer_of(name)})"
        for name in package_imports(path)
        if layer_of(name) not in MAY_IMPORT[layer]
    ]
    assert bad == []


def test_the_check_names_an_upward_import(tmp_path):
    # the report must not import the study: what the check sees in such a module
    source = "from tracin_study.experiments.sweep import mean_paths\nimport tracin_study.claims\n"
    path = tmp_path / "figure.py"
    path.write_text(source)
    names = package_imports(path)
    assert names == ["experiments.sweep", "claims"]
    assert {layer_of(n) for n in names} - MAY_IMPORT[REPORT] == {STUDY}
    assert layer_of("unknown_module") is None and layer_of("influence.engine") == LIBRARY


NOTEBOOKS = sorted((PACKAGE.parents[1] / "notebooks").glob("*.ipynb"))
USAGE_EXAMPLE = "usage-example"  # cell tag of the report's usage example


def notebook_imports(path: Path) -> dict[str, list[str]]:
    """ "report" and "usage example" -> the tracin_study modules their code cells import."""
    imports = {"report": [], "usage example": []}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            part = "usage example" if USAGE_EXAMPLE in cell.metadata.get("tags", []) else "report"
            imports[part] += source_imports(cell.source, str(path))
    return imports


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_render_and_import_only_the_report_layer(path):
    imports = notebook_imports(path)
    assert imports["report"], f"{path.name} imports nothing from the package"
    bad = [
        f"{path.name} imports tracin_study.{name} ({layer_of(name)})"
        for name in imports["report"]
        if layer_of(name) not in MAY_IMPORT[REPORT]
    ]
    assert bad == []
    unassigned = [name for name in imports["usage example"] if layer_of(name) is None]
    assert unassigned == []


def test_the_notebook_check_sees_a_study_import_outside_the_usage_example(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from tracin_study import claims, plots"),
        nbformat.v4.new_code_cell(
            "from tracin_study.summary import engine_check",
            metadata={"tags": [USAGE_EXAMPLE]},
        ),
    ]
    path = tmp_path / "report.ipynb"
    nbformat.write(notebook, path)
    assert notebook_imports(path) == {"report": ["claims", "plots"], "usage example": ["summary"]}
    with pytest.raises(AssertionError):
        test_notebooks_render_and_import_only_the_report_layer(path)
