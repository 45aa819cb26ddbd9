import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from scipy import stats

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.config import ConfigError, LdsSettings, TrainingSettings, validate_config
from tracin_study.experiments import lds
from tracin_study.influence import TracInCP
from tracin_study.run_plans import lds_retrainings
from tracin_study.training import house_losses, retrain_without, train

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
CONFIG = TrainingSettings(
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
            "wall_seconds": 2.0,
        }
        for m, (mask, a) in enumerate(zip(masks, actual, strict=True))
    ]


def test_per_query_lds_equals_brute_force_spearman():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2, 3, 12))  # methods, houses, training houses
    masks = rng.random((6, 12)) < 0.5
    actual = rng.normal(size=(6, 3))
    records = _records(masks, actual, [10, 11, 12])
    second = _records(masks, actual + rng.normal(size=(6, 3)), [10, 11, 12])
    table = lds.per_query(scores, ["a", "b"], records[::-1], second, palo_alto=[11])
    assert table["test_index"].tolist() == [10, 11, 12]
    assert table["palo_alto"].tolist() == [False, True, False]
    for j in range(3):
        for i, method in enumerate(["a", "b"]):
            s = scores[i, j]
            predicted = [-sum(s[n] for n in range(12) if mask[n]) for mask in masks]
            expected = stats.spearmanr(predicted, actual[:, j]).statistic
            assert table.loc[j, method] == pytest.approx(expected, abs=1e-12)
        ceiling = stats.spearmanr(actual[:, j], [r["loss"][j] for r in second]).statistic
        assert table.loc[j, "noise_ceiling"] == pytest.approx(ceiling, abs=1e-12)


def test_additive_outcome_gives_lds_one_and_its_negation_minus_one():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(2, 30))
    masks = np.stack([np.isin(np.arange(30), lds.lds_subset(30, 0.5, 0, m)) for m in range(8)])
    # A positive score lowers the test loss: the loss is minus the kept scores' sum.
    actual = 5.0 - masks @ scores.T
    records = _records(masks, actual, [0, 1])
    table = lds.per_query(np.stack([scores, -scores]), ["s", "minus"], records, records, [])
    np.testing.assert_allclose(table["s"], 1.0)
    np.testing.assert_allclose(table["minus"], -1.0)
    np.testing.assert_allclose(table["noise_ceiling"], 1.0)


def _lds_config(**changes):
    options = {"subsets": 3, "fraction": 0.5, "subset_seed": 0, "seed": 5}
    options |= {"protocol": "fixed_order", "n_queries": 2, "query_seed": 0}
    options |= {"ceiling_seed": 6, "bootstrap": 20, "bootstrap_seed": 0, "chunk": 2}
    return LdsSettings(**(options | changes))


def test_run_retrainings_runs_each_seed_and_protocol_as_run_subsets(tiny_prepared):
    torch.set_num_threads(1)
    cfg = _lds_config()
    plan = lds_retrainings(cfg)
    assert plan == [(5, "fixed_order", m) for m in range(3)] + [
        (6, "fixed_order", m) for m in range(3)
    ]
    chunk = plan[2:4]  # one of seed 5, one of the ceiling's seed 6
    records = lds.run_retrainings(chunk, tiny_prepared, [1, 4], CONFIG, cfg)
    n = len(tiny_prepared.train)
    for (seed, protocol, m), record in zip(chunk, records, strict=True):
        alone = lds.run_subsets([m], n, 0.5, 0, tiny_prepared, [1, 4], CONFIG, seed, protocol)
        assert (record["seed"], record["subset"]) == (seed, m)
        assert record["loss"] == alone[0]["loss"]
    other = lds_retrainings(_lds_config(subsets=2, ceiling_seed=None))
    assert other[2:] == [(5, "new_order", 0), (5, "new_order", 1)]


def test_summary_splits_the_scored_retrainings_from_the_ceiling():
    rng = np.random.default_rng(5)
    masks = np.stack([np.isin(np.arange(30), lds.lds_subset(30, 0.5, 0, m)) for m in range(8)])
    truth = rng.normal(size=(4, 30))
    actual = 5.0 - masks @ truth.T
    scored = [
        r | {"seed": 5, "protocol": "fixed_order"} for r in _records(masks, actual, [3, 1, 0, 2])
    ]
    noisy = actual + rng.normal(size=actual.shape)
    ceiling = [
        r | {"seed": 6, "protocol": "fixed_order"} for r in _records(masks, noisy, [3, 1, 0, 2])
    ]
    cfg = _lds_config(subsets=8, n_queries=4)
    doc, table = lds.summary(np.stack([truth]), ["raw"], ceiling + scored, cfg, [3])
    assert (doc["n_subsets"], doc["n_queries"], doc["n_palo_alto"]) == (8, 4, 1)
    assert doc["methods"]["raw"]["mean"] == pytest.approx(1.0)
    assert doc["noise_ceiling"]["seed"] == 6 and doc["noise_ceiling"]["subsets"] == 8
    assert doc["noise_ceiling"]["mean"] == pytest.approx(table["noise_ceiling"].mean())
    assert doc["spearman_se"] == pytest.approx(1 / math.sqrt(5))
    assert table["raw"].tolist() == pytest.approx([1.0] * 4)
    low, high = doc["noise_ceiling"]["ci95"]
    assert low <= doc["noise_ceiling"]["mean"] <= high
    assert doc["power"]["seconds_per_retraining"] == 2.0


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
        ("seed", 9, "'experiments.lds.recipes.closest.seed'.*rerun_seeds"),
        ("ceiling_seed", 9, "'experiments.lds.recipes.closest.ceiling_seed'"),
        ("subsets", 1, "'experiments.lds.recipes.closest.subsets'"),
        ("fraction", 1.0, "'experiments.lds.recipes.closest.fraction'"),
        ("subset_seed", 1.5, "'experiments.lds.recipes.closest.subset_seed'"),
    ],
)
def test_config_errors_name_the_lds_key(default, key, value, message):
    config = copy.deepcopy(default)
    config["experiments"]["lds"]["recipes"]["closest"][key] = value
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def test_queries_are_the_palo_alto_houses_then_a_fixed_sample():
    q = lds.query_houses(50, [7, 3, 9], 10, 1)
    assert q[:3].tolist() == [7, 3, 9] and len(np.unique(q)) == 10
    assert np.all(np.diff(q[3:]) > 0) and q.max() < 50
    np.testing.assert_array_equal(q, lds.query_houses(50, [7, 3, 9], 10, 1))
    with pytest.raises(ValueError, match="lds.n_queries=2"):
        lds.query_houses(50, [7, 3, 9], 2, 1)


def test_bootstrap_interval_holds_the_lds_and_the_paired_difference():
    rng = np.random.default_rng(3)
    masks = np.stack([np.isin(np.arange(30), lds.lds_subset(30, 0.5, 0, m)) for m in range(40)])
    truth = rng.normal(size=(5, 30))
    actual = 5.0 - masks @ truth.T + 0.5 * rng.normal(size=(40, 5))
    scores = np.stack([truth, truth + 2 * rng.normal(size=truth.shape)])
    records = _records(masks, actual, list(range(5)))
    doc = lds.lds_intervals(scores, ["good", "noisy"], records[::-1], 200, 0)
    per_query = lds.per_query(scores, ["good", "noisy"], records, records, [])
    for method in ("good", "noisy"):
        expected = per_query[method].mean()
        entry = doc["methods"][method]
        assert entry["mean"] == pytest.approx(expected, abs=1e-12)
        assert entry["ci95"][0] < expected < entry["ci95"][1] and entry["n_queries"] == 5
    diff = doc["differences"]["good - noisy"]
    assert diff["mean"] == pytest.approx(
        doc["methods"]["good"]["mean"] - doc["methods"]["noisy"]["mean"]
    )
    assert diff["ci95"][0] > 0  # the noiseless score is better, and the test sees it
    assert diff["detectable_difference"] == pytest.approx((diff["ci95"][1] - diff["ci95"][0]) / 2)
    assert doc["subsets"] == 40 and doc["queries"] == 5
    again = lds.lds_intervals(scores, ["good", "noisy"], records, 200, 0)
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
    model = retrain_without(tiny_prepared, CONFIG, 5, removed, "fixed_order")
    np.testing.assert_array_equal(records[0]["loss"], house_losses(model, tiny_prepared, [1, 4]))


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


def test_ceiling_interval_resamples_the_subsets_as_the_lds_bootstrap():
    rng = np.random.default_rng(8)
    masks = rng.random((12, 10)) < 0.5
    a = rng.normal(size=(12, 3))
    b = a + rng.normal(size=(12, 3))
    first, second = _records(masks, a, [0, 1, 2]), _records(masks, b, [0, 1, 2])
    got = lds.ceiling_interval(first, second[::-1], 50, 7)
    draw = np.random.default_rng(7)
    replicates = []
    for _ in range(50):  # brute force: the same resamples, scipy's Spearman per query
        idx = draw.integers(0, 12, size=12)
        replicates.append(
            np.mean([stats.spearmanr(a[idx, j], b[idx, j]).statistic for j in range(3)])
        )
    assert got == pytest.approx([np.percentile(replicates, 2.5), np.percentile(replicates, 97.5)])
    assert lds.ceiling_interval(first, _records(masks, 3 * a, [0, 1, 2]), 20, 0) == (
        pytest.approx([1.0, 1.0])
    )
    with pytest.raises(ValueError, match="same subsets"):
        lds.ceiling_interval(first, second[:-1], 20, 0)


def test_power_gives_the_subsets_and_cost_of_a_five_hundredths_interval():
    doc = {
        "n_subsets": 24,
        "methods": {"raw": {"ci95": [-0.2, 0.3]}, "adam": {"ci95": [-0.1, 0.1]}},
        "noise_ceiling": {"mean": 0.2},
    }
    plan = lds.power(doc, 9.0)
    assert plan["half_width"] == pytest.approx(0.25)  # the widest interval
    assert plan["subsets_needed"] == 24 * 25  # (0.25 / 0.05)^2 times as many subsets
    one, two = plan["models_per_subset"][:2]
    assert one["ceiling"] == pytest.approx(math.sqrt(0.2))
    assert two["ceiling"] == pytest.approx(math.sqrt(2 * 0.2 / 1.2))
    assert two["cpu_hours"] == pytest.approx(600 * 2 * 2 * 9.0 / 3600)
    doc["noise_ceiling"]["mean"] = -0.1  # no agreement: no ceiling to project
    assert {m["ceiling"] for m in lds.power(doc, 9.0)["models_per_subset"]} == {None}
