"""Snakemake script: the ideal SGD run (batch size 1) on a training subsample, every step
recorded against the Palo Alto test points, checkpoints saved along the way."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study.data import load_prepared
from tracin_study.experiments.approximation_chain import record_ideal
from tracin_study.provenance import setup_logging

sm = snakemake  # noqa: F821 (injected by Snakemake)
setup_logging(sm.log[0])
log = logging.getLogger("validation_ideal_record")
torch.set_num_threads(sm.threads)
prepared = load_prepared(Path(sm.input.train).parent)
test_index = pd.read_csv(sm.input.palo_alto)["test_index"].to_numpy()
log.info("read %s and %s", sm.input.train, sm.input.palo_alto)
steps = record_ideal(
    prepared, test_index, sm.params.hidden, sm.params.ideal, Path(sm.output.manifest).parent
)
np.savez_compressed(sm.output.steps, **steps)
log.info("wrote %s and %s", sm.output.steps, sm.output.manifest)
