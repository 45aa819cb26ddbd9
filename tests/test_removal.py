import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.config import PROTOCOLS, RemovalSettings, TrainingSettings
from tracin_study.experiments import removal
from tracin_study.run_plans import (
    REMOVAL_SETS,
    TRACIN_SCORES,
    chunk_of,
    removal_jobs,
    removal_retrainings,
)
from tracin_study.training import house_losses, retrain_without, train

CONFIG = TrainingSettings(
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


def _settings(**changes) -> RemovalSettings:
    options = {"seeds": (5,), "random_draws": 2, "random_seed": 0, "k": (3, 6)}
    options |= {"sets": REMOVAL_SETS, "protocol": "fixed_order"}
    options |= {"noise_protocols": PROTOCOLS, "noise_k": 3, "chunk": 4} | changes
    return RemovalSettings(**options)


def _plan(tiny_prepared, houses, **changes):
    rng = np.random.default_rng(3)
    scores = {"raw": rng.normal(size=(3, 40)), "adam": rng.normal(size=(3, 40))}
    cfg = _settings(**changes)
    return scores, removal.plan_removals(scores, [0, 3, 7], tiny_prepared, houses, 5, cfg)


def test_plan_removes_the_top_scored_houses_of_each_set(tiny_prepared, houses):
    scores, plan = _plan(tiny_prepared, houses)
    # per k: 2 scores x (2 aggregate + 3 houses x 2 kinds) + map neighbours + 2 draws
    assert len(plan) == 2 * (2 * 8 + 1 + 2) and plan["name"].is_unique
    judged = _settings(noise_protocols=("fixed_order",))
    assert len(plan) == len(removal_retrainings(judged, 3))
    row = plan[(plan["name"] == "aggregate_proponents/raw/k6")].iloc[0]
    summed = scores["raw"].sum(0)
    assert row["removed"] == sorted(np.argsort(-summed)[:6].tolist())
    opponents = plan[(plan["name"] == "aggregate_opponents/raw/k6")].iloc[0]
    assert opponents["removed"] == sorted(np.argsort(summed)[:6].tolist())
    assert (summed[opponents["removed"]] < 0).all()
    opp = plan[plan["name"] == "house_opponents/adam/test3/k3"].iloc[0]
    s = scores["adam"][1]
    assert opp["removed"] == sorted(np.argsort(s)[:3].tolist()) and (s[opp["removed"]] < 0).all()
    assert opp["target_house"] == 3 and opp["draw"] == -1
    draws = plan[plan["set"] == "random"]
    assert draws["n_removed"].tolist() == [3, 3, 6, 6] and draws["draw"].tolist() == [0, 1, 0, 1]
    assert draws["removed"].iloc[0] != draws["removed"].iloc[1]
    _, again = _plan(tiny_prepared, houses)
    pd.testing.assert_frame_equal(plan, again)
    near = plan[plan["name"] == "map_neighbours/k3"].iloc[0]["removed"]
    assert near == sorted(removal.map_neighbours(tiny_prepared.train, houses, 3).tolist())


def test_plan_keeps_only_the_configured_sets_and_names_bad_keys(tiny_prepared, houses):
    _, plan = _plan(tiny_prepared, houses, sets=("map_neighbours",))
    assert set(plan["set"]) == {"map_neighbours", "random"}
    with pytest.raises(ValueError, match=r"removal.sets has unknown sets \['nope'\]"):
        _plan(tiny_prepared, houses, sets=("nope",))
    with pytest.raises(ValueError, match="removal.k has 40"):
        _plan(tiny_prepared, houses, k=(40,))


def test_top_houses_keeps_only_scores_of_the_sign():
    assert removal.top_houses([0.5, -1.0, 2.0, 0.0], 3, 1).tolist() == [0, 2]
    assert removal.top_houses([0.5, -1.0, 2.0, 0.0], 3, -1).tolist() == [1]


def test_run_removals_records_each_row(tiny_prepared, houses, full, caplog):
    _, plan = _plan(tiny_prepared, houses)
    chunk = plan.iloc[[0, -1]]
    reference = load_checkpoint(full.checkpoints[-1], full.build_model())
    with caplog.at_level("INFO"):
        records = removal.run_removals(
            chunk, tiny_prepared, CONFIG, reference, [0, 3, 7], "fixed_order"
        )
    assert [r["name"] for r in records] == chunk["name"].tolist()
    assert sum("retraining" in m and " s" in m for m in caplog.messages) == 2
    again = retrain_without(tiny_prepared, CONFIG, 5, chunk.iloc[1]["removed"], "fixed_order")
    np.testing.assert_allclose(
        records[1]["loss_removed"], house_losses(again, tiny_prepared, [0, 3, 7])
    )
    np.testing.assert_array_equal(
        records[0]["loss_reference"], house_losses(reference, tiny_prepared, [0, 3, 7])
    )
    json.dumps(records)


def test_score_matrices_sum_the_checkpoints_of_the_seed_arrays(tmp_path):
    rng = np.random.default_rng(0)
    raw, adam = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5))
    np.savez(tmp_path / "a.npz", test_index=[4, 1, 2], all_layers=raw, all_layers_adam=adam)
    test_index, scores = removal.score_matrices(tmp_path / "a.npz")
    assert test_index.tolist() == [4, 1, 2]
    np.testing.assert_array_equal(scores["raw"], raw.sum(0))
    np.testing.assert_array_equal(scores["adam"], adam.sum(0))
    np.savez(tmp_path / "b.npz", test_index=[4, 1, 2], all_layers=raw)
    with pytest.raises(KeyError, match="all_layers_adam.*rerun the seed_influence"):
        removal.score_matrices(tmp_path / "b.npz")


def test_noise_draws_are_the_curves_random_draws_at_noise_k(tiny_prepared, houses):
    _, plan = _plan(tiny_prepared, houses)
    options = {"seeds": (5,), "random_draws": 2, "random_seed": 0, "k": (3, 6)}
    options |= {"sets": REMOVAL_SETS, "protocol": "fixed_order"}
    cfg = RemovalSettings(**options, noise_protocols=PROTOCOLS, noise_k=6, chunk=4)
    draws = removal.plan_noise_draws(tiny_prepared, houses, 5, cfg)
    expected = plan[(plan["set"] == "random") & (plan["k"] == 6)].reset_index(drop=True)
    pd.testing.assert_frame_equal(draws, expected)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"sets": ("aggregate_proponents",), "noise_protocols": ("fixed_order",)},
        {"sets": ("map_neighbours", "house_opponents"), "protocol": "new_order"},
    ],
)
def test_seed_plan_has_the_size_the_rules_chunk(tiny_prepared, houses, changes):
    scores, plan = _plan(tiny_prepared, houses, **changes)
    cfg = RemovalSettings(
        **{
            "seeds": (5,),
            "random_draws": 2,
            "random_seed": 0,
            "k": (3, 6),
            "sets": REMOVAL_SETS,
            "protocol": "fixed_order",
            "noise_protocols": PROTOCOLS,
            "noise_k": 3,
            "chunk": 4,
        }
        | changes
    )
    full = removal.seed_plan(scores, [0, 3, 7], tiny_prepared, houses, 5, cfg)
    planned = removal_retrainings(cfg, n_houses=3)
    assert len(full) == len(planned)
    assert full["protocol"].tolist() == [r.protocol for r in planned]
    assert full["set"].tolist() == [r.set for r in planned]
    judged = full[full["protocol"] == cfg.protocol].drop(columns="protocol")
    pd.testing.assert_frame_equal(judged.reset_index(drop=True), plan)
    others = full[full["protocol"] != cfg.protocol]
    assert set(others["set"]) <= {"random"} and set(others["k"]) <= {cfg.noise_k}


def test_run_chunk_retrains_each_row_under_its_protocol(tiny_prepared, full, houses):
    torch.set_num_threads(1)
    scores, _ = _plan(tiny_prepared, houses, k=(3,), sets=("aggregate_proponents",))
    cfg = RemovalSettings(
        seeds=(5,),
        random_draws=1,
        random_seed=0,
        k=(3,),
        sets=("aggregate_proponents",),
        protocol="fixed_order",
        noise_protocols=PROTOCOLS,
        noise_k=3,
        chunk=4,
    )
    plan = removal.seed_plan(scores, [0, 3, 7], tiny_prepared, houses, 5, cfg)
    assert plan["protocol"].tolist() == ["fixed_order"] * 3 + ["new_order"]
    reference = load_checkpoint(full.checkpoints[-1], full.build_model())
    records = removal.run_chunk(plan.iloc[2:], tiny_prepared, CONFIG, reference, [0, 3, 7])
    assert [(r["set"], r["protocol"]) for r in records] == [
        ("random", "fixed_order"),
        ("random", "new_order"),
    ]
    for row, record in zip(plan.iloc[2:].to_dict("records"), records, strict=True):
        model = retrain_without(tiny_prepared, CONFIG, 5, row["removed"], row["protocol"])
        assert record["loss_removed"] == house_losses(model, tiny_prepared, [0, 3, 7]).tolist()
    assert json.dumps(records)  # JSON-ready


def test_the_rules_count_the_scores_the_removal_plans():
    assert tuple(removal.SCORE_ARRAYS) == TRACIN_SCORES


LONGER = dataclasses.replace(CONFIG, epochs=20)


def _corrupted(prepared, n_bad: int):
    """`prepared` with the first `n_bad` training prices lowered by 20 (in $100,000)."""
    train = prepared.train.copy()
    train.loc[: n_bad - 1, "MedHouseVal"] -= 20.0
    return dataclasses.replace(prepared, train=train)


def test_opponents_are_judged_by_lowering_the_loss_on_a_tiny_model(tiny_prepared):
    """Eight training prices corrupted far downwards are true opponents of every test house:
    retraining without them lowers the test loss (reproduced, direction -1). A score that
    calls sixteen clean houses the opponents is contradicted: removing them raises the
    corrupted share and the loss."""
    from tracin_study.experiments import removal_verdicts as rv

    torch.set_num_threads(1)
    prepared = _corrupted(tiny_prepared, 8)
    bad = np.zeros(40)
    bad[:8] = -1.0  # "raw": the corrupted houses are the opponents
    clean = np.zeros(40)
    clean[8:24] = -1.0  # "adam": sixteen clean houses are the opponents
    test_index = np.arange(12)
    scores = {"raw": np.tile(bad, (12, 1)), "adam": np.tile(clean, (12, 1))}
    cfg = RemovalSettings(
        seeds=(0, 1, 2),
        random_draws=4,
        random_seed=0,
        k=(16,),  # the raw score has only its 8 negative houses to remove
        sets=("aggregate_opponents",),
        protocol="fixed_order",
        noise_protocols=("fixed_order",),
        noise_k=8,
        chunk=6,
    )
    records = []
    for seed in cfg.seeds:
        plan = removal.plan_removals(scores, test_index, prepared, None, seed, cfg)
        reference = retrain_without(prepared, LONGER, seed, [], "fixed_order")
        records += removal.run_removals(
            plan, prepared, LONGER, reference, test_index, "fixed_order"
        )
    table = rv.verdict_table(records)
    table = table[table["house"] == rv.AGGREGATE].set_index("score")
    assert (table["direction"] == -1).all()
    assert table.loc["raw", "ci95_high"] < 0 and table.loc["raw", "verdict"] == "reproduced"
    assert table.loc["adam", "ci95_low"] > 0
    assert table.loc["adam", "verdict"] == "contradicted", table[["mean", "ci95_low", "ci95_high"]]


def test_jobs_take_the_plan_in_chunks_that_cover_it_once(tiny_prepared, houses):
    scores, _ = _plan(tiny_prepared, houses)
    cfg = _settings(chunk=7)
    plan = removal.seed_plan(scores, [0, 3, 7], tiny_prepared, houses, 5, cfg)
    jobs = removal_jobs(cfg, n_houses=3)
    assert jobs == {"seed": [5], "chunk": list(range(-(-len(plan) // 7)))}
    names = [n for c in jobs["chunk"] for n in chunk_of(plan, c, cfg.chunk)["name"]]
    assert names == plan["name"].tolist()
    assert chunk_of(list(range(10)), 1, 4) == [4, 5, 6, 7]
