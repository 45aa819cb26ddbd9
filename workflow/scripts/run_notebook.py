"""Snakemake script: execute a notebook template with papermill (and export HTML if asked).

The candidate parameters are the rule's params, `inputs` (the rule's named inputs but the
template: name -> path, or list of paths), the path of every named input and output as a
parameter of its own (lists stay lists) and the git commit of the code that ran it; the
notebook receives those its parameters cell declares, so that it reads exactly the files its
rule declares.
"""

from pathlib import Path

from tracin_study.notebooks import declared_parameters, execute, to_html
from tracin_study.provenance import git_commit
from tracin_study.runner import start


def as_paths(files) -> dict:
    """Name -> path (str), or list of paths, of a rule's named inputs or outputs."""
    return {name: list(p) if isinstance(p, list) else p for name, p in files.items()}


sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
inputs = as_paths(sm.input)
del inputs["template"]
outputs = as_paths(sm.output)
del outputs["notebook"]
parameters = {
    **dict(sm.params.items()),
    **inputs,
    **outputs,
    "inputs": inputs,
    "git_commit": git_commit(Path(sm.scriptdir)),
}
declared = declared_parameters(Path(sm.input.template))
parameters = {name: value for name, value in parameters.items() if name in declared}
execute(Path(sm.input.template), Path(sm.output.notebook), parameters, Path.cwd())
if "html" in sm.output.keys():
    to_html(Path(sm.output.notebook), Path(sm.output.html))
log.info("executed %s into %s", sm.input.template, sm.output.notebook)
