import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from tracin_study.checkpoints import read_manifest
from tracin_study.config import TrainingSettings
from tracin_study.experiments.seed_influence import compute_seed_influence
from tracin_study.influence import TracInCP, top_k
from tracin_study.training import train

CONFIG = TrainingSettings(
    hidden=(5, 3), epochs=3, batch_size=8, learning_rate=0.01, checkpoint_every=1
)


@pytest.fixture(scope="module")
def seed_run(tiny_prepared, tmp_path_factory):
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("seed")
    p = tiny_prepared
    train(p.X_train, p.y_train, p.X_test, p.y_test, CONFIG, 3, folder)
    manifest = read_manifest(folder / "manifest.json")
    return manifest, compute_seed_influence(manifest, p, np.array([0, 2, 5]), [2, 3], 16, adam=True)


def test_adam_columns_are_the_preconditioned_engine_scores(seed_run, tiny_prepared):
    manifest, result = seed_run
    p = tiny_prepared
    X_test, y_test = p.X_test[[0, 2, 5]], p.y_test[[0, 2, 5]]
    engine = TracInCP(manifest.build_model(), manifest.select([2, 3]), preconditioner="adam")
    adam = engine.compute(p.X_train, p.y_train, X_test, y_test)
    with_rows = dataclasses.replace(p, train=p.train.assign(row=np.arange(len(p.train))))
    table = result.self_influence_table(with_rows)
    np.testing.assert_allclose(table["self_influence_adam"], adam.self_total(), rtol=1e-12)
    assert not np.allclose(table["self_influence_adam"], table["self_influence"])
    expected = top_k(adam.influence_total(), 4, test_ids=[0, 2, 5])
    got = result.proponents_adam_table(4)
    np.testing.assert_array_equal(got["train_index"], expected["train_index"])
    np.testing.assert_allclose(got["influence"], expected["influence"], rtol=1e-12)


def test_without_adam_the_raw_scores_are_unchanged_and_adam_tables_are_refused(
    seed_run, tiny_prepared
):
    manifest, with_adam = seed_run
    p = tiny_prepared
    raw_only = compute_seed_influence(manifest, p, np.array([0, 2, 5]), [2, 3], 16, adam=False)
    with_rows = dataclasses.replace(p, train=p.train.assign(row=np.arange(len(p.train))))
    table = raw_only.self_influence_table(with_rows)
    assert "self_influence_adam" not in table
    expected = with_adam.self_influence_table(with_rows).drop(columns="self_influence_adam")
    pd.testing.assert_frame_equal(table, expected)
    np.testing.assert_array_equal(raw_only.influence, with_adam.influence)
    with pytest.raises(ValueError, match="adam=True"):
        raw_only.proponents_adam_table(4)
