"""Snakemake script: execute a notebook template with papermill (and export HTML if asked).

The notebook's parameters are the rule's params, the path of every named input and output
(lists stay lists), so that a notebook reads exactly the files its rule declares, and the
git commit of the code that ran it.
"""

from pathlib import Path

from tracin_study.notebooks import execute, to_html
from tracin_study.provenance import git_commit
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
files = {**dict(sm.input.items()), **dict(sm.output.items())}
paths = {name: list(p) if isinstance(p, list) else p for name, p in files.items()}
del paths["template"], paths["notebook"]
parameters = {**dict(sm.params.items()), **paths, "git_commit": git_commit(Path(sm.scriptdir))}
execute(Path(sm.input.template), Path(sm.output.notebook), parameters, Path.cwd())
if "html" in sm.output.keys():
    to_html(Path(sm.output.notebook), Path(sm.output.html))
log.info("executed %s into %s", sm.input.template, sm.output.notebook)
