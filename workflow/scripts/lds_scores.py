"""Snakemake script: the LDS's scores (TracInCP variants and the summed training loss) of
every training house on the query houses, from the scored model's checkpoints."""

import time

import numpy as np
import pandas as pd

from tracin_study.checkpoints import read_manifest
from tracin_study.config import InfluenceSettings, LdsSettings
from tracin_study.data import PreparedFiles, load_prepared
from tracin_study.experiments.lds import (
    BASELINE,
    METHODS,
    baseline_scores,
    method_scores,
    query_houses,
)
from tracin_study.runner import start

sm = snakemake  # noqa: F821 (injected by Snakemake)
log = start(sm)
cfg = LdsSettings.from_params(sm.params.lds)
prepared = load_prepared(PreparedFiles.of(sm.input))
palo_alto = pd.read_csv(sm.input.houses)["test_index"]
queries = query_houses(len(prepared.test), palo_alto, cfg.n_queries, cfg.query_seed)
influence = InfluenceSettings.read(sm.input.influence_settings)  # the recipe's
epochs = influence.epochs
manifest = read_manifest(sm.input.checkpoints[0])
begin = time.perf_counter()
tracin = method_scores(manifest, prepared, queries, epochs, influence.batch_size)
baseline = baseline_scores(manifest, prepared, epochs, len(queries))
scores = np.concatenate([tracin, baseline[None]])
methods = [*METHODS, BASELINE]
np.savez_compressed(sm.output.scores, scores=scores, methods=np.array(methods), test_index=queries)
log.info(
    "scores %s of %s in %.1f s; wrote %s",
    scores.shape,
    methods,
    time.perf_counter() - begin,
    sm.output.scores,
)
