"""Snakemake script: fetch and verify the table, split it into training and test rows and
fit the scaler, as the recipe's data section says."""

from pathlib import Path

from tracin_study import data
from tracin_study.config import DataSettings
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
settings = DataSettings.read(sm.input.data_settings)
train, test, scaler, record = data.prepare(settings)
record |= {"recipe": sm.wildcards.recipe, **provenance(source_dir=Path(sm.scriptdir))}
data.write_prepared(data.PreparedFiles.of(sm.output), train, test, scaler, record)
log.info(
    "recipe %s, table from %s (%s split, %s features): %d train and %d test rows",
    sm.wildcards.recipe,
    record["source"],
    settings.split,
    settings.preprocessing,
    len(train),
    len(test),
)
