"""Snakemake script: TracInCP of the training houses on the Palo Alto test houses for each
scoring method of the LDS, from model lds.seed's checkpoints."""

import time

import numpy as np
import pandas as pd

from tracin_study.checkpoints import read_manifest
from tracin_study.config import InfluenceConfig
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.lds import METHODS, method_scores
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
cfg = InfluenceConfig.from_params(sm.params.influence)
prepared = load_prepared(PreparedFiles.of(sm.input))
test_index = pd.read_csv(sm.input.houses)["test_index"].to_numpy()
begin = time.perf_counter()
scores = method_scores(
    read_manifest(sm.input.checkpoints[0]), prepared, test_index, list(cfg.epochs), cfg.batch_size
)
np.savez_compressed(
    sm.output.scores, scores=scores, methods=np.array(METHODS), test_index=test_index
)
log.info(
    "scores %s of methods %s in %.1f s; wrote %s",
    scores.shape,
    list(METHODS),
    time.perf_counter() - begin,
    sm.output.scores,
)
