"""Snakemake script: one section of the settings of one recipe ({section}.json)."""

import json
from pathlib import Path

from tracin_study.config import RECIPE_SECTIONS
from tracin_study.recipes import resolve_section
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
selection_file = getattr(sm.input, "selection", [])  # for the closest recipe only
selection = json.loads(Path(selection_file).read_text()) if selection_file else None
section = sm.wildcards.section
settings = RECIPE_SECTIONS[section].from_params(sm.params.settings)
settings = resolve_section(section, settings, selection).params()
Path(sm.output.settings).write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
log.info("recipe %s, %s: %s", sm.wildcards.recipe, sm.wildcards.section, settings)
