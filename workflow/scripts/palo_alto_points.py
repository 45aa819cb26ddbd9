"""Snakemake script: the test houses nearest to the centre of Palo Alto."""

import logging
from pathlib import Path

from tracin_study.data import load_prepared
from tracin_study.geo import nearest_houses
from tracin_study.provenance import setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
where = sm.params.palo_alto
test = load_prepared(Path(sm.input.test).parent).test
houses = nearest_houses(test, where["latitude"], where["longitude"], where["n_houses"])
houses.to_csv(sm.output[0], index=False)
logging.getLogger("palo_alto").info(
    "%d test houses within %.2f km of (%.4f, %.4f)",
    len(houses),
    houses["distance_km"].max(),
    where["latitude"],
    where["longitude"],
)
