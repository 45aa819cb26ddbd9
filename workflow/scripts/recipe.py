"""Snakemake script: the full settings of one recipe (recipe.json)."""

import json
from pathlib import Path

from tracin_study.plan import resolve_recipe
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
selection_file = getattr(sm.input, "selection", [])  # for the closest recipe only
selection = json.loads(Path(selection_file).read_text()) if selection_file else None
recipe = resolve_recipe(**sm.params.recipe, selection=selection)
Path(sm.output.recipe).write_text(json.dumps(recipe, indent=2, sort_keys=True) + "\n")
log.info("recipe %s: %s", sm.wildcards.recipe, recipe["overrides"] or "the config's settings")
