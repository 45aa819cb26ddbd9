"""The workflow's structure: every path written once, every rule documented and logged."""

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").glob("*.smk"))]
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
        for block in re.split(r"\n(?=rule )", path.read_text())[1:]:
            name = block.split(":")[0].removeprefix("rule ")
            body = block.splitlines()[1].strip()
            assert body.startswith('"""'), f"rule {name} in {path.name} has no docstring"
            if "script:" in block or "shell:" in block or "run:" in block:  # not a target
                assert "log:" in block and "benchmark:" in block, f"rule {name} in {path.name}"


def test_notebook_rules_run_in_a_shadow_folder_of_their_declared_inputs():
    source = (ROOT / "workflow/rules/notebooks.smk").read_text()
    rules = re.split(r"\n(?=rule )", source)[1:]
    assert rules and all('shadow:\n        "minimal"' in rule for rule in rules)
