"""The package's layers read top-down: library -> statistics -> study -> report.

Every module of src/tracin_study is assigned a layer here; a module may import only from
its own layer or a lower one, and the report (figures that take tables) not from the study.
"""

import ast
from pathlib import Path

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
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
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
