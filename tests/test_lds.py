import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from scipy import stats

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.config import ConfigError, TrainingConfig, validate_config
from tracin_study.experiments import lds
from tracin_study.influence import TracInCP
from tracin_study.training import train

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
CONFIG = TrainingConfig(
    hidden=(5, 3), epochs=3, batch_size=8, learning_rate=0.01, checkpoint_every=1
)


def test_subsets_have_the_right_size_are_distinct_and_reproducible():
    subsets = [lds.lds_subset(101, 0.5, 7, m) for m in range(4)]
    for m, s in enumerate(subsets):
        assert len(s) == round(0.5 * 101) == len(np.unique(s))
        assert np.all(np.diff(s) > 0) and s.min() >= 0 and s.max() < 101
        np.testing.assert_array_equal(s, lds.lds_subset(101, 0.5, 7, m))
    assert len({tuple(s) for s in subsets}) == 4
    assert not np.array_equal(subsets[0], lds.lds_subset(101, 0.5, 8, 0))


def _records(masks, actual, test_index):
    return [
        {
            "subset": m,
            "kept": np.flatnonzero(mask).tolist(),
            "loss": list(a),
            "test_index": test_index,
        }
        for m, (mask, a) in enumerate(zip(masks, actual, strict=True))
    ]


def test_lds_equals_brute_force_spearman():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2, 3, 12))  # methods, houses, training houses
    masks = rng.random((6, 12)) < 0.5
    actual = rng.normal(size=(6, 3))
    table = lds.lds_per_house(
        scores, ["a", "b"], [10, 11, 12], _records(masks, actual, [10, 11, 12])
    )
    for (method, house), lds_value in table.set_index(["method", "test_index"])["lds"].items():
        s = scores[["a", "b"].index(method), [10, 11, 12].index(house)]
        predicted = [-sum(s[i] for i in range(12) if mask[i]) for mask in masks]
        expected = stats.spearmanr(predicted, actual[:, [10, 11, 12].index(house)]).statistic
        assert lds_value == pytest.approx(expected, abs=1e-12)
    summary = lds.lds_by_method(table)
    assert summary.loc["a", "mean"] == pytest.approx(table[table.method == "a"].lds.mean())
    assert (summary["n"] == 3).all()
    doc = lds.summary_doc(summary, [{"seed": 4}] * 6)
    assert doc["subsets"] == 6 and doc["seed"] == 4
    assert doc["methods"]["b"]["sd"] == pytest.approx(table[table.method == "b"].lds.std())


def test_additive_outcome_gives_lds_one_and_its_negation_minus_one():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(2, 30))
    masks = np.stack([np.isin(np.arange(30), lds.lds_subset(30, 0.5, 0, m)) for m in range(8)])
    # A positive score lowers the test loss: the loss is minus the kept scores' sum.
    actual = 5.0 - masks @ scores.T
    np.testing.assert_allclose(lds.house_lds(scores, masks, actual), 1.0)
    np.testing.assert_allclose(lds.house_lds(-scores, masks, actual), -1.0)


def test_records_on_other_test_houses_are_refused():
    records = _records(np.ones((2, 4), dtype=bool), [[1.0], [2.0]], [3])
    with pytest.raises(ValueError, match="rerun lds_train and lds_scores"):
        lds.lds_per_house(np.zeros((1, 1, 4)), ["raw"], [5], records)


def test_subset_record_retrains_on_the_kept_houses(tiny_prepared):
    torch.set_num_threads(1)
    houses = tiny_prepared.test.iloc[[0, 3]].reset_index(drop=True)
    kept = lds.lds_subset(len(tiny_prepared.train), 0.5, 0, 1)
    record = lds.subset_record(1, kept, tiny_prepared, houses, CONFIG, 5)
    assert record["kept"] == kept.tolist() and record["subset"] == 1 and record["seed"] == 5
    assert len(record["loss"]) == 2 and all(v >= 0 for v in record["loss"])
    again = lds.subset_record(1, kept, tiny_prepared, houses, CONFIG, 5)
    assert again["loss"] == record["loss"]


def test_method_scores_sum_the_right_checkpoints_and_layers(tiny_prepared, tmp_path):
    torch.set_num_threads(1)
    p = tiny_prepared
    train(p.X_train, p.y_train, p.X_test, p.y_test, CONFIG, 5, tmp_path)
    manifest = read_manifest(tmp_path / "manifest.json")
    scores = lds.method_scores(manifest, p, np.array([0, 3]), [3], 16)
    assert scores.shape == (len(lds.METHODS), 2, len(p.train))
    X_test, y_test = p.test_points([0, 3])

    def engine(epochs, **options):
        tracin = TracInCP(manifest.build_model(), manifest.select(epochs), **options)
        return tracin.compute(p.X_train, p.y_train, X_test, y_test).influence_total()

    np.testing.assert_allclose(scores[0], engine([3]), rtol=1e-12)
    np.testing.assert_allclose(scores[1], engine([3], preconditioner="adam"), rtol=1e-12)
    np.testing.assert_allclose(scores[2], engine([3], layers="last"), rtol=1e-12)
    np.testing.assert_allclose(scores[3], engine([1, 2, 3]), rtol=1e-12)


@pytest.fixture
def default():
    return yaml.safe_load((ROOT / "config/config.yaml").read_text())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("seed", 9, "'lds.seed'"),
        ("subsets", 1, "'lds.subsets'"),
        ("fraction", 1.0, "'lds.fraction'"),
        ("subset_seed", 1.5, "'lds.subset_seed'"),
    ],
)
def test_config_errors_name_the_lds_key(default, key, value, message):
    config = copy.deepcopy(default)
    config["lds"][key] = value
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def _per_house(values: dict[str, list[float]]):
    import pandas as pd

    return pd.concat(
        pd.DataFrame({"method": m, "test_index": range(len(v)), "lds": v})
        for m, v in values.items()
    )


def test_compare_methods_prefers_a_method_only_when_the_paired_interval_excludes_zero():
    better = _per_house({"adam": [0.5, 0.6, 0.7, 0.55], "raw": [0.3, 0.35, 0.5, 0.4]})
    doc = lds.compare_methods(better, "adam", "raw")
    assert doc["preferred"] == "adam" and doc["n"] == 4
    assert doc["mean"] == pytest.approx(np.mean([0.2, 0.25, 0.2, 0.15]))
    assert lds.compare_methods(better, "raw", "adam")["preferred"] == "adam"
    mixed = _per_house({"adam": [0.5, 0.2, 0.7, 0.1], "raw": [0.3, 0.4, 0.5, 0.3]})
    assert lds.compare_methods(mixed, "adam", "raw")["preferred"] is None
    with pytest.raises(KeyError, match="'nope'"):
        lds.compare_methods(better, "nope", "raw")


def test_queries_are_the_palo_alto_houses_then_a_fixed_sample():
    q = lds.query_houses(50, [7, 3, 9], 10, 1)
    assert q[:3].tolist() == [7, 3, 9] and len(np.unique(q)) == 10
    assert np.all(np.diff(q[3:]) > 0) and q.max() < 50
    np.testing.assert_array_equal(q, lds.query_houses(50, [7, 3, 9], 10, 1))
    with pytest.raises(ValueError, match="lds.n_queries=2"):
        lds.query_houses(50, [7, 3, 9], 2, 1)


def test_column_spearman_equals_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
    a[:3, 1] = a[0, 1]  # ties
    b[:, 3] = 1.0  # constant
    got = lds.column_spearman(a, b)
    for j in range(3):
        assert got[j] == pytest.approx(stats.spearmanr(a[:, j], b[:, j]).statistic, abs=1e-12)
    assert np.isnan(got[3])


def test_bootstrap_interval_holds_the_lds_and_the_paired_difference():
    rng = np.random.default_rng(3)
    masks = np.stack([np.isin(np.arange(30), lds.lds_subset(30, 0.5, 0, m)) for m in range(40)])
    truth = rng.normal(size=(5, 30))
    actual = 5.0 - masks @ truth.T + 0.5 * rng.normal(size=(40, 5))
    scores = np.stack([truth, truth + 2 * rng.normal(size=truth.shape)])
    records = _records(masks, actual, list(range(5)))
    doc = lds.bootstrap_lds(scores, ["good", "noisy"], records[::-1], 200, 0)
    per_house = lds.lds_per_house(scores, ["good", "noisy"], list(range(5)), records)
    for method in ("good", "noisy"):
        expected = per_house[per_house.method == method].lds.mean()
        entry = doc["methods"][method]
        assert entry["mean"] == pytest.approx(expected, abs=1e-12)
        assert entry["ci95"][0] < expected < entry["ci95"][1] and entry["n_queries"] == 5
    diff = doc["differences"]["good - noisy"]
    assert diff["mean"] == pytest.approx(
        doc["methods"]["good"]["mean"] - doc["methods"]["noisy"]["mean"]
    )
    assert diff["ci95"][0] > 0  # the noiseless score is better, and the test sees it
    assert doc["subsets"] == 40 and doc["queries"] == 5
    again = lds.bootstrap_lds(scores, ["good", "noisy"], records, 200, 0)
    assert again == doc


def test_noise_ceiling_correlates_two_retrainings_of_the_same_subsets():
    rng = np.random.default_rng(4)
    masks = rng.random((8, 10)) < 0.5
    a = rng.normal(size=(8, 3))
    first = _records(masks, a, [0, 1, 2])
    same = lds.noise_ceiling(first, _records(masks, 2 * a + 1, [0, 1, 2]))
    assert same["mean"] == pytest.approx(1.0) and same["subsets"] == 8
    flipped = lds.noise_ceiling(first, _records(masks, -a, [0, 1, 2]))
    assert flipped["per_query"] == pytest.approx([-1.0] * 3)
    with pytest.raises(ValueError, match="same subsets"):
        lds.noise_ceiling(first, first[:-1])


def test_run_subsets_retrains_each_subset_without_its_complement(tiny_prepared):
    torch.set_num_threads(1)
    records = lds.run_subsets([2, 0], 40, 0.5, 0, tiny_prepared, [1, 4], CONFIG, 5, "fixed_order")
    assert [r["subset"] for r in records] == [2, 0]
    kept = lds.lds_subset(40, 0.5, 0, 2)
    assert records[0]["kept"] == kept.tolist() and records[0]["protocol"] == "fixed_order"
    removed = np.setdiff1d(np.arange(40), kept)
    model = lds.retrain_without(tiny_prepared, CONFIG, 5, removed, "fixed_order")
    np.testing.assert_array_equal(
        records[0]["loss"], lds.house_losses(model, tiny_prepared, [1, 4])
    )


def test_baseline_scores_repeat_the_summed_training_loss(tiny_prepared, tmp_path):
    torch.set_num_threads(1)
    p = tiny_prepared
    train(p.X_train, p.y_train, p.X_test, p.y_test, CONFIG, 5, tmp_path)
    manifest = read_manifest(tmp_path / "manifest.json")
    scores = lds.baseline_scores(manifest, p, [2, 3], 4)
    assert scores.shape == (4, 40) and (scores == scores[0]).all()
    X, y = torch.as_tensor(p.X_train), torch.as_tensor(p.y_train)
    expected = np.zeros(40)
    for checkpoint in manifest.select([2, 3]):
        model = load_checkpoint(checkpoint, manifest.build_model())
        with torch.no_grad():
            expected += ((model(X).squeeze(1) - y) ** 2).double().numpy()
    np.testing.assert_allclose(scores[0], expected, rtol=1e-5)


def test_spearman_standard_error():
    assert lds.spearman_se(103) == pytest.approx(0.1)
    assert math.isnan(lds.spearman_se(3))
