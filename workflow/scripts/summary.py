"""Snakemake script: report/summary.json, one key per report section that the rule files
declare (`tracin_study.sections`): each section's function, named by its dotted name, applied
to the section's own inputs. An input of the rule that no section claims fails the rule."""

import importlib
import json
from pathlib import Path

from tracin_study.provenance import git_commit
from tracin_study.runner import start
from tracin_study.sections import check_claimed
from tracin_study.summary import Context


def function(dotted: str):
    """The function named by `dotted` (module.function)."""
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def files(names) -> dict:
    """Name -> path (str), or list of paths, of the rule's inputs `names`."""
    return {n: list(p) if isinstance(p, list) else p for n, p in ((n, sm.input[n]) for n in names)}


sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
sections = sm.params.sections
check_claimed(sm.input.keys(), sections)
context = Context(
    seeds=tuple(sm.params.seeds),
    top_n=sm.params.report["top_n"],
    epochs=tuple(sm.params.influence["epochs"]),
    config_hash=sm.params.config_hash,
    git_commit=git_commit(Path(sm.scriptdir)),
)
doc = {
    key: function(section["function"])(files(section["inputs"]), context)
    for key, section in sections.items()
}
Path(sm.output.summary).write_text(json.dumps(doc, indent=2, default=float) + "\n")
log.info("wrote %s with sections %s", sm.output.summary, list(doc))
