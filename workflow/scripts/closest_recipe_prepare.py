"""Snakemake script: the prepared data of the recipe closest to the paper (selection.json)."""

import json
from pathlib import Path

from tracin_study import data
from tracin_study.experiments.sweep import recipe_section
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
selection = json.loads(Path(sm.input.selection).read_text())
cfg = recipe_section("data", sm.params.data, selection["overrides"])
train, test, scaler, record = data.prepare(cfg)
record |= {"recipe": selection["recipe"], **provenance(source_dir=Path(sm.scriptdir))}
data.write_prepared(data.PreparedFiles.of(sm.output), train, test, scaler, record)
log.info(
    "recipe %s (%s split, %s features): %d train and %d test rows",
    selection["recipe"],
    cfg["split"],
    cfg["preprocessing"],
    len(train),
    len(test),
)
