"""Snakemake script: the ideal SGD run (batch size 1) on a training subsample, every step
recorded against the Palo Alto test points, checkpoints saved along the way."""

from pathlib import Path

import numpy as np
import pandas as pd

from tracin_study.config import ApproximationChainSettings, TrainingSettings
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.approximation_chain import record_ideal
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
prepared = load_prepared(PreparedFiles.of(sm.input))
test_index = pd.read_csv(sm.input.houses)["test_index"].to_numpy()
log.info("read %s and %s", sm.input.train, sm.input.houses)
chain = ApproximationChainSettings.from_params(sm.params.chain)
hidden = TrainingSettings.from_params(sm.params.training).hidden
steps = record_ideal(prepared, test_index, hidden, chain, Path(sm.output.manifest).parent)
np.savez_compressed(sm.output.steps, **steps)
log.info("wrote %s and %s", sm.output.steps, sm.output.manifest)
