"""The workflow's structure: every path written once, every rule documented and logged."""

import ast
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from conftest import RULE_FILES

ROOT = Path(__file__).resolve().parents[1]
PATH_LIKE = re.compile(r"/|\.(json|csv|parquet|npz|pt|png|ipynb|html|tsv|log)$")


def string_literals(source: str) -> list[str]:
    """The string constants of a Snakemake file, found by Python's own tokenizer."""
    import io
    import tokenize

    strings = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            try:
                value = ast.literal_eval(token.string)
            except ValueError:  # an f-string: keep its literal text
                value = token.string
            if isinstance(value, str):
                strings.append(value)
    return strings


def test_no_path_is_written_twice_in_the_workflow():
    paths = Counter(
        s
        for f in RULE_FILES
        for s in string_literals(f.read_text())
        if PATH_LIKE.search(s) and not s.startswith("../scripts/")  # a script may serve two rules
    )
    assert [p for p, n in paths.items() if n > 1] == []


def test_every_rule_has_a_docstring_a_log_and_a_benchmark():
    for path in RULE_FILES:
        for block in re.split(r"(?m)^(?=rule )", path.read_text())[1:]:
            name = block.split(":")[0].removeprefix("rule ")
            body = block.splitlines()[1].strip()
            assert body.startswith('"""'), f"rule {name} in {path.name} has no docstring"
            if "script:" in block or "shell:" in block or "run:" in block:  # not a target
                assert "log:" in block and "benchmark:" in block, f"rule {name} in {path.name}"


def test_notebook_rules_run_in_a_shadow_folder_of_their_declared_inputs():
    source = (ROOT / "workflow/rules/notebooks.smk").read_text()
    rules = re.split(r"\n(?=rule )", source)[1:]
    assert rules and all('shadow:\n        "minimal"' in rule for rule in rules)


PARSE_TIME_MODULES = {
    "tracin_study.config",  # the settings
    "tracin_study.recipes",  # the recipes and their settings
    "tracin_study.run_plans",  # the retrainings and jobs of each experiment
    "tracin_study.housing_table",  # the table's size and shipped snapshot
    "tracin_study.sections",  # the keys of report/summary.json's sections
    "tracin_study.provenance",  # the Snakefile's kernel pinning and source check
    "tracin_study.manifest_check",  # the Snakefile's check of finished training runs
}


def test_parsing_the_workflow_imports_neither_torch_nor_scikit_learn():
    # Every Snakemake run parses the Snakefile, and on a cluster every job starts its own
    # Snakemake: an import of torch there costs seconds per job. The rule files import
    # only from the torch-free modules of PARSE_TIME_MODULES (docs/cluster.md, "Why a Slurm
    # job costs more than a local one").
    imports = [
        line.strip()
        for f in RULE_FILES
        for line in f.read_text().splitlines()
        if re.match(r"\s*(from|import) tracin_study\b", line)
    ]
    assert imports, "no tracin_study import found in the workflow files"
    modules = {line.split()[1] for line in imports}
    assert modules <= PARSE_TIME_MODULES, modules - PARSE_TIME_MODULES
    code = "\n".join([*imports, "import sys", "print(*sorted(sys.modules))"])
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"torch", "sklearn"} & set(loaded) == set(), imports
