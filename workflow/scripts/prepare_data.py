"""Snakemake script: fetch and verify the table, split it 8:2, fit the scaler."""

from pathlib import Path

from tracin_study import data
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
train, test, scaler, record = data.prepare(sm.params.data)
record |= provenance(source_dir=Path(sm.scriptdir))
data.write_prepared(data.PreparedFiles.of(sm.output), train, test, scaler, record)
log.info("table from %s: %d train and %d test rows", record["source"], len(train), len(test))
