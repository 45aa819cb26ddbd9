"""Snakemake script: execute a notebook template with papermill (and export HTML if asked)."""

from pathlib import Path

from tracin_study.notebooks import execute, to_html
from tracin_study.provenance import setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
execute(Path(sm.input.template), Path(sm.output.notebook), dict(sm.params.parameters), Path.cwd())
if "html" in sm.output.keys():
    to_html(Path(sm.output.notebook), Path(sm.output.html))
