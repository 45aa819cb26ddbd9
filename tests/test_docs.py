"""Every file path and command path the README and docs/*.md name exists in the repository.

Checked: inline code spans that are a path, the paths and `make` targets of commands (in
inline code or in shell code blocks), and relative link targets. Paths the pipeline writes
are allowed by the prefixes in GENERATED; paths with a placeholder (`<seed>`, `{recipe}`,
`*`) are not checked.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Written by the pipeline, the environment or a tool, not committed.
GENERATED = (
    "results/",
    "report/snakemake_report.html",
    "data/scikit_learn/",
    ".venv",
    ".snakemake/",
)
# A bare file name (no folder) is checked when it is source of one of these kinds.
SOURCE_SUFFIXES = (".py", ".smk", ".md", ".ipynb", ".yaml", ".yml", ".toml", ".svg")
TOP_LEVEL = ("Makefile", "Snakefile")
PLACEHOLDER = re.compile(r"[<>{}*…]|\.\.\.|XXXX")
PATH = re.compile(r"^\.?[A-Za-z0-9_][\w.\-]*(/[\w.\-]+)*/?$")
COMMANDS = ("make", "python", "snakemake", "pip", "conda", "bash", "source")
SHELL_FENCES = ("bash", "sh", "shell", "console", "")

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def is_path(token: str) -> bool:
    """Whether `token` names a file or folder of the repository (rather than code)."""
    if PLACEHOLDER.search(token) or not PATH.match(token):
        return False
    return "/" in token or token.endswith(SOURCE_SUFFIXES) or token in TOP_LEVEL


def make_targets(root: Path) -> set[str]:
    """The targets the Makefile in `root` defines."""
    text = (root / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*):", text, re.M))


def command_paths(command: str) -> list[str]:
    """Paths (and `make:<target>` entries) named by one shell command line."""
    words = command.split("#")[0].split()
    if not words or words[0] not in COMMANDS:
        return []
    if words[0] == "make":
        return [f"make:{w}" for w in words[1:] if not w.startswith("-") and "=" not in w]
    return [w.strip("'\"") for w in words[1:] if is_path(w.strip("'\""))]


def named_paths(doc: Path, root: Path = ROOT) -> list[str]:
    """Every path, make target and relative link target `doc` names, as written. Links
    are resolved against the doc's folder and returned relative to `root`."""
    text = doc.read_text()
    found = []
    for lang, body in FENCE.findall(text):
        if lang in SHELL_FENCES:
            for line in body.splitlines():
                found += command_paths(line.strip())
    prose = FENCE.sub("", text)
    for span in INLINE.findall(prose):
        span = span.strip()
        found += command_paths(span) if span.split()[0] in COMMANDS else []
        if is_path(span):
            found.append(span)
    for target in LINK.findall(prose):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        resolved = (doc.parent / target.split("#")[0]).resolve()
        found.append(resolved.relative_to(root.resolve()).as_posix())
    return found


def missing(doc: Path, root: Path = ROOT) -> list[str]:
    """The paths and make targets `doc` names that the repository at `root` lacks."""
    targets = make_targets(root)
    bad = []
    for name in named_paths(doc, root):
        if name.startswith("make:"):
            if name[5:] not in targets:
                bad.append(f"`make {name[5:]}` (no such Makefile target)")
        elif not name.startswith(GENERATED) and not (root / name).exists():
            bad.append(name)
    return bad


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_every_named_path_exists(doc):
    bad = missing(doc)
    assert not bad, f"{doc.relative_to(ROOT)} names paths that do not exist: {bad}"


def test_docs_name_paths_at_all():
    """Guards the extraction: the README names its commands and the docs their files."""
    readme = named_paths(ROOT / "README.md")
    assert {"make:reproduce", "make:test", "environment.yml", "docs/engine.md"} <= set(readme)
    assert "benchmarks/stage_times.py" in named_paths(ROOT / "docs/measured-times.md")


def test_a_bad_path_is_reported(tmp_path):
    doc = tmp_path / "page.md"
    doc.write_text(
        "Run `python benchmarks/no_such_bench.py`, see `src/tracin_study/gone.py` and\n"
        "[the page](missing.md); `results/default/seed_0/metrics.json` is generated.\n"
        "```bash\nmake no_such_target\n```\n"
    )
    (tmp_path / "Makefile").write_text("test:\n\ttrue\n")
    (tmp_path / "benchmarks").mkdir()
    assert missing(doc, tmp_path) == [
        "`make no_such_target` (no such Makefile target)",
        "benchmarks/no_such_bench.py",
        "src/tracin_study/gone.py",
        "missing.md",
    ]
