import numpy as np
import pandas as pd
import pytest
import torch

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.config import TrainingConfig
from tracin_study.experiments import removal
from tracin_study.influence import ALL_TEST_POINTS
from tracin_study.training import predict, train

CONFIG = TrainingConfig(
    hidden=(5, 3), epochs=3, batch_size=8, learning_rate=0.01, checkpoint_every=1
)


@pytest.fixture(scope="module")
def full(tiny_prepared, tmp_path_factory):
    """The full tiny model of seed 5 and its manifest."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("full")
    p = tiny_prepared
    train(p.X_train, p.y_train, p.X_test, p.y_test, CONFIG, 5, folder)
    return read_manifest(folder / "manifest.json")


@pytest.fixture(scope="module")
def houses(tiny_prepared):
    return tiny_prepared.test.iloc[[0, 3, 7]].reset_index(drop=True)


PROPONENTS = pd.DataFrame(
    {
        "test_index": ALL_TEST_POINTS,
        "train_index": [4, 9, 2, 30],
        "kind": ["proponent"] * 3 + ["opponent"],
    }
)


def test_removal_sets_have_the_proponents_size(tiny_prepared, houses):
    names = removal.removal_set_names(2)
    assert names == ["proponents", "map_neighbours", "random_0", "random_1"]
    sets = {n: removal.removed_houses(n, PROPONENTS, tiny_prepared, houses, 5, 0) for n in names}
    assert sets["proponents"].tolist() == [2, 4, 9]
    assert {len(s) for s in sets.values()} == {3}
    assert not np.array_equal(sets["random_0"], sets["random_1"])
    again = removal.removed_houses("random_0", PROPONENTS, tiny_prepared, houses, 5, 0)
    np.testing.assert_array_equal(again, sets["random_0"])
    with pytest.raises(ValueError, match="unknown removal set"):
        removal.removed_houses("opponents", PROPONENTS, tiny_prepared, houses, 5, 0)


def test_removing_nothing_reproduces_the_full_model(tiny_prepared, full):
    model = removal.retrain_without(tiny_prepared, CONFIG, 5, [])
    reference = load_checkpoint(full.checkpoints[-1], full.build_model())
    X = tiny_prepared.X_test
    np.testing.assert_array_equal(predict(model, X), predict(reference, X))


def test_records_and_effects(tiny_prepared, full, houses):
    records = []
    for name in removal.removal_set_names(2):
        removed = removal.removed_houses(name, PROPONENTS, tiny_prepared, houses, 5, 0)
        records.append(
            removal.removal_record(name, removed, full, tiny_prepared, houses, CONFIG, 5)
        )
    first = records[0]
    assert first["removed"] == [2, 4, 9] and len(first["loss_removed"]) == 3
    assert first["summed_change"] == pytest.approx(
        first["summed_loss_removed"] - first["summed_loss_full"]
    )
    assert len({r["summed_loss_full"] for r in records}) == 1
    changes = removal.per_house_changes(records)
    assert len(changes) == 12
    np.testing.assert_allclose(changes["change"], changes["loss_removed"] - changes["loss_full"])
    effects = removal.removal_effects(records)
    change = {r["removal_set"]: r["summed_change"] for r in records}
    random_mean = (change["random_0"] + change["random_1"]) / 2
    row = effects.loc[5]
    assert row["change__random"] == pytest.approx(random_mean)
    assert row["excess_vs_random"] == pytest.approx(
        (change["proponents"] - random_mean) / first["summed_loss_full"]
    )
    assert row["excess_vs_map_neighbours"] == pytest.approx(
        (change["proponents"] - change["map_neighbours"]) / first["summed_loss_full"]
    )
