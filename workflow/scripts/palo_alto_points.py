"""Snakemake script: the test houses nearest to the centre of Palo Alto."""

import pandas as pd

from tracin_study.config import PaloAltoSettings
from tracin_study.geo import nearest_houses
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
where = PaloAltoSettings.from_params(sm.params.palo_alto)
test = pd.read_parquet(sm.input.test)
houses = nearest_houses(test, where.latitude, where.longitude, where.n_houses)
houses.to_csv(sm.output.houses, index=False)
log.info(
    "%d test houses within %.2f km of (%.4f, %.4f)",
    len(houses),
    houses["distance_km"].max(),
    where.latitude,
    where.longitude,
)
