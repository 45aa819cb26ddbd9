"""Snakemake script: fetch and verify the table, split it 8:2, fit the scaler."""

from pathlib import Path

from tracin_study import data
from tracin_study.provenance import provenance
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
cfg = sm.params.data
table, source = data.load_table(cfg["source"], Path(cfg["sklearn_home"]))
train, test, scaler = data.split_tables(table, cfg["test_fraction"], cfg["split_seed"])
record = {
    "source": source,
    "content_sha256": data.CONTENT_SHA256,
    "test_fraction": cfg["test_fraction"],
    "split_seed": cfg["split_seed"],
    "n_train": len(train),
    "n_test": len(test),
    **provenance(source_dir=Path(sm.scriptdir)),
}
data.write_prepared(data.PreparedFiles.of(sm.output), train, test, scaler, record)
log.info("table from %s: %d train and %d test rows", source, len(train), len(test))
