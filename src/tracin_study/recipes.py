"""The study's recipes: the pipeline variants that each run the study's rules on their own
settings. `DEFAULT` is the config's own, each recipe of the sweep changes a few of its
settings (`OVERRIDES`), and `CLOSEST` is the sweep's choice, known only at run time.

A recipe's settings are written per section (`tracin_study.config.RECIPE_SECTIONS`) by the
rule `recipe`: `section_settings` while the workflow is parsed, `resolve_section` at run
time once the sweep has chosen. Plain Python, no torch."""

import math
from dataclasses import replace

DEFAULT = "default"  # the config's own recipe
CLOSEST = "closest"  # the sweep's choice (selection.json), known only at run time

# Sweep recipe key -> (config section, key in it). A new key needs an entry here and one in
# the schema's sweep.recipes items (workflow/schemas/config.schema.yaml).
OVERRIDES = {
    "preprocessing": ("data", "preprocessing"),
    "split": ("data", "split"),
    "batch_size": ("training", "batch_size"),
}


def overridden(section: str, settings, overrides: dict):
    """`settings` (the dataclass of config section `section`) with the keys of that section
    that `overrides` (recipe key -> value) names replaced; `KeyError` for an unknown key."""
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise KeyError(f"recipe keys {unknown} are not among {sorted(OVERRIDES)}")
    changed = {
        key: overrides[name]
        for name, (sec, key) in OVERRIDES.items()
        if sec == section and name in overrides
    }
    return replace(settings, **changed)


def section_settings(study, recipe: str, section: str):
    """Section `section` (data, training or influence) of recipe `recipe`'s settings, from
    the `StudySettings` `study`: the study's with the sweep recipe's overrides. For `CLOSEST`
    the study's, which the selection replaces at run time (`resolve_section`); its influence
    epochs are then empty (the selection gives them), so that changing the study's does not
    rerun the closest recipe."""
    settings = overridden(section, getattr(study, section), study.sweep.recipes.get(recipe, {}))
    if recipe == CLOSEST and section == "influence":
        return replace(settings, epochs=())
    return settings


def resolve_section(section: str, settings, selection: dict | None = None):
    """The settings of `section` of a recipe: `settings` (`section_settings`) as they are, or
    for the closest recipe with `selection` (the sweep's selection.json) applied: its
    overrides, the epochs trained (`epoch`) with a checkpoint every
    greatest-common-divisor-th of the influence epochs (`checkpoint_epochs`), and those
    epochs as the influence section's."""
    if selection is None:
        return settings
    settings = overridden(section, settings, selection["overrides"])
    epochs = tuple(selection["checkpoint_epochs"])
    if section == "training":
        return replace(settings, epochs=selection["epoch"], checkpoint_every=math.gcd(*epochs))
    if section == "influence":
        return replace(settings, epochs=epochs)
    return settings
