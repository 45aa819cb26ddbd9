import json
import math

import numpy as np
import pandas as pd
import pytest

from tracin_study import claims, paper, report_text
from tracin_study.data import TARGET, PreparedData
from tracin_study.geo import nearest_houses
from tracin_study.influence import ALL_TEST_POINTS
from tracin_study.run_plans import AGGREGATE
from tracin_study.verdicts import OUTCOMES


def _removal_summary(per_seed, neighbours):
    """A removal summary (as the removal_summary rule writes it) with the aggregate rows
    of the raw score's proponents and of the map neighbours at k = 10."""

    def row(set_name, score, values):
        return {
            "protocol": "fixed_order",
            "score": score,
            "set": set_name,
            "k": 10,
            "house": AGGREGATE,
            "per_seed": {str(s): v for s, v in values.items()},
            "noise_sd": 0.02,
            "detectable_effect": 0.07,
        }

    verdicts = [row("aggregate_proponents", "raw", per_seed), row("map_neighbours", "", neighbours)]
    verdicts.append(row("aggregate_proponents", "raw", {0: -9.0}) | {"protocol": "new_order"})
    verdicts.append(row("aggregate_proponents", "raw", {0: -9.0}) | {"house": 3})
    return {"protocol": "fixed_order", "verdicts": verdicts}


def test_removal_claims_come_from_the_aggregate_verdicts_of_the_judged_protocol():
    summary = _removal_summary({0: 0.3, 1: 0.4, 2: 0.35}, {0: 0.1, 1: 0.1, 2: 0.05})
    found, measured = claims.removal_claims(summary, "raw")
    assert [c.id for c in found] == [
        "removing_proponents_vs_random_k10",
        "removing_proponents_vs_map_neighbours_k10",
    ]
    assert measured["removal_vs_random__k10"].tolist() == [0.3, 0.4, 0.35]
    assert measured["removal_vs_map_neighbours__k10"].tolist() == pytest.approx([0.2, 0.3, 0.3])
    assert dict(found[0].notes)["detectable_effect"] == 0.07
    h = claims.t_quantile(2) * 0.02 * math.sqrt(2 / 3)
    assert dict(found[1].notes)["detectable_effect"] == pytest.approx(max(h, 0.05 - h))
    _, docs = claims.evaluate(found, measured)
    assert docs[0]["verdict"] == "reproduced" and docs[0]["detectable_effect"] == 0.07
    assert claims.removal_claims(summary, "adam")[0] == ()  # no Adam rows here


def test_every_claim_states_source_margin_and_a_known_source():
    summary = _removal_summary({0: 0.3, 1: 0.4}, {0: 0.1, 1: 0.1})
    for claim in claims.claims(100, 50) + claims.removal_claims(summary, "raw")[0]:
        assert claim.source in paper.SHORT_SOURCES and claim.rule.describe()
    sources = {c.id: c.source for c in claims.claims(100, 50)}
    assert sources["high_self_influence_rare"] == paper.SELF_INFLUENCE_READING
    assert sources["palo_alto_proponents_expensive"] == paper.CA_SECTION


def test_evaluate_gives_table_and_json_ready_docs():
    claim_list = claims.claims(100, 50)
    columns = {c.column for c in claim_list} | {col for c in claim_list for _, col in c.baselines}
    measurements = pd.DataFrame({col: [1.5, 1.6, 1.55] for col in columns}, index=[0, 1, 2])
    measurements["train_explained_variance"] = [0.93, 0.935, 0.925]
    measurements["test_explained_variance"] = [0.70, 0.705, 0.695]
    measurements["knn_ratio_low__self_influence"] = [1.0, 1.01, 0.99]
    table, docs = claims.evaluate(claim_list, measurements)
    assert set(table["verdict"]) <= set(OUTCOMES)
    by_id = {d["id"]: d for d in docs}
    assert by_id["train_explained_variance"]["verdict"] == "contradicted"
    assert by_id["test_explained_variance"]["verdict"] == "reproduced"
    assert by_id["high_self_influence_rare"]["verdict"] == "reproduced"
    assert by_id["low_self_influence_typical"]["verdict"] == "no effect"
    baselines = by_id["high_self_influence_unusual_labels"]["baselines"]
    assert set(baselines) == {
        "ranked by final training loss",
        "ranked by training loss summed over the checkpoints",
    }
    assert list(table.columns) == [
        "claim",
        "source",
        "measurement",
        "mean [95% CI]",
        "baselines",
        "margin",
        "verdict",
    ]
    json.dumps(docs)
    assert set(docs[0]) >= {"source", "measurement", "per_seed", "ci95", "margin", "verdict"}


@pytest.fixture(scope="module")
def run(split):
    """Two fake seeds over the real split: self-influence tables, proponents and metrics."""
    train, test, scaler = split
    prepared = PreparedData(train, test, np.array(scaler["mean"]), np.array(scaler["scale"]))
    houses = nearest_houses(test, 37.4419, -122.1430, 11)
    rng = np.random.default_rng(0)
    tables, proponents, metrics = {}, {}, {}
    for seed in (0, 1):
        table = train[["train_index", TARGET]].copy()
        table["self_influence"] = table[TARGET] + rng.normal(0, 0.1, len(table))
        table["final_loss"] = rng.random(len(table))
        table["summed_loss"] = table["self_influence"] ** 2
        tables[seed] = table
        top = np.argsort(-train[TARGET].to_numpy(), kind="stable")[seed : seed + 10]
        proponents[seed] = pd.DataFrame(
            {
                "test_index": ALL_TEST_POINTS,
                "train_index": np.r_[top, np.arange(10)],
                "kind": ["proponent"] * 10 + ["opponent"] * 10,
            }
        )
        metrics[seed] = {s: {"explained_variance": 0.8} for s in ("train", "test")}
    return tables, proponents, prepared, houses, metrics


def test_evaluate_claims_end_to_end_with_optional_removal(run):
    table, docs, measurements = claims.evaluate_claims(*run, top_n=50)
    assert len(table) == 6 and list(measurements.index) == [0, 1]
    pa = {d["id"]: d for d in docs}["palo_alto_proponents_expensive"]
    assert "10 aggregate proponents" in pa["measurement"]
    ceiling = pa["baselines"]["highest attainable: every proponent at the cap"]["mean"]
    assert ceiling == pytest.approx(pa["mean"])  # every fake proponent is at the cap
    assert claims.price_summary(measurements).loc["proponents", "capped_share"] == 1.0
    correlations = claims.correlation_summary(measurements)
    assert correlations.loc["summed_loss", "mean"] > 0.9  # summed loss = self-influence^2 here
    assert list(correlations.columns) == ["mean", "sd", "ci95_low", "ci95_high", "n"]
    removal = _removal_summary({0: 0.5}, {0: 0.4})
    table, docs, _ = claims.evaluate_claims(*run, top_n=50, removal=removal)
    assert len(table) == 8 and docs[-1]["n"] == 1 and docs[-1]["verdict"] == "inconclusive"
    assert docs[-2]["id"] == "removing_proponents_vs_random_k10"
    adam = {seed: t.assign(self_influence_adam=t["self_influence"]) for seed, t in run[0].items()}
    _, docs_adam, _ = claims.evaluate_claims_adam(adam, *run[1:], top_n=50, removal=removal)
    assert len(docs_adam) == 6  # the summary has no removal rows of the Adam score


def test_adam_claims_use_the_adam_self_influence_and_proponents(run):
    tables, proponents, prepared, houses, metrics = run
    same = {seed: t.assign(self_influence_adam=t["self_influence"]) for seed, t in tables.items()}
    _, docs, measured = claims.evaluate_claims(*run, top_n=50)
    _, docs_same, measured_same = claims.evaluate_claims_adam(
        same, proponents, prepared, houses, metrics, top_n=50
    )
    pd.testing.assert_frame_equal(measured_same, measured)
    assert [d["verdict"] for d in docs_same] == [d["verdict"] for d in docs]
    # An Adam score that ranks the houses the other way round changes every ranking claim.
    flipped = {
        seed: t.assign(self_influence_adam=-t["self_influence"]) for seed, t in tables.items()
    }
    _, _, measured_flipped = claims.evaluate_claims_adam(
        flipped, proponents, prepared, houses, metrics, top_n=50
    )
    for column in ("capped_ratio_high__self_influence", "spearman__summed_loss"):
        assert measured_flipped[column].tolist() != measured[column].tolist()
    assert (
        measured_flipped["capped_ratio_high__final_loss"]
        == measured["capped_ratio_high__final_loss"]
    ).all()
    # The proponents come from the table passed as the Adam one.
    cheap = {
        seed: p.assign(train_index=np.r_[np.arange(10, 20), np.arange(10)])
        for seed, p in proponents.items()
    }
    _, _, measured_cheap = claims.evaluate_claims_adam(
        same, cheap, prepared, houses, metrics, top_n=50
    )
    assert (measured_cheap["mean_price__proponents"] != measured["mean_price__proponents"]).all()


def test_adam_claims_need_the_adam_column(run):
    tables, proponents, prepared, houses, metrics = run
    with pytest.raises(KeyError, match="rerun the seed_influence rule"):
        claims.evaluate_claims_adam(tables, proponents, prepared, houses, metrics, top_n=50)


CAP = 5.00001
# Per test house: its price, its 3 map neighbours' price, its proponents' price per seed
# (0, 1, 2), built so that each of the four outcomes is reached once.
DESIGN = {
    100: (CAP, 3.0, (CAP, CAP, CAP)),  # reproduced: gain 2 in every seed
    101: (CAP, 4.5, (1.0, 1.0, 1.0)),  # contradicted: gain 0.5 - 4 = -3.5
    102: (2.0, 2.5, (1.5, 2.5, 2.52)),  # no effect: gains 0, 0, -0.02
    103: (2.0, 3.0, (2.0, 4.5, 2.0)),  # inconclusive: gains 1, -1.5, 1
}
EXPECTED = dict(zip(DESIGN, OUTCOMES, strict=True))


@pytest.fixture(scope="module")
def per_house():
    """Test houses one degree apart, each with 3 training houses next to it, and a pool of
    training houses far away (San Diego) from which the proponents and opponents come."""
    rows, houses, pool = [], [], {}
    for j, (i, (price, neighbour_price, _)) in enumerate(DESIGN.items()):
        lat, lon = 36.0 + j, -121.0
        houses.append({"test_index": i, "Latitude": lat, "Longitude": lon, TARGET: price})
        rows += [(lat + d, lon + d, neighbour_price) for d in (0.001, 0.002, -0.001)]
    for price in sorted({p for _, _, ps in DESIGN.values() for p in ps} | {0.5}):
        pool[price] = list(range(len(rows), len(rows) + 3))
        rows += [(32.7, -117.1, price)] * 3
    train = pd.DataFrame(rows, columns=["Latitude", "Longitude", TARGET])
    train.insert(0, "train_index", np.arange(len(train)))
    houses = pd.DataFrame(houses).assign(MedInc=[8.0, 8.0, 3.0, 3.0])
    proponents = {}
    for seed in (0, 1, 2):
        parts = []
        for i, (_, _, prices) in DESIGN.items():
            for kind, ids in (("proponent", pool[prices[seed]]), ("opponent", pool[0.5])):
                parts.append(pd.DataFrame({"test_index": i, "kind": kind, "train_index": ids}))
        proponents[seed] = pd.concat(parts, ignore_index=True)
    return houses, proponents, train


def test_per_house_table_measures_each_house_against_its_own_map_neighbours(per_house):
    houses, proponents, train = per_house
    predictions = {0: np.array([4.0, 4.1, 2.2, 2.3])}
    table = claims.per_house_table(houses, proponents, train, predictions)
    assert len(table) == 3 * 4 and set(claims.PER_HOUSE_COLUMNS) <= set(table.columns)
    row = table.query("seed == 1 and test_index == 103").iloc[0]
    assert row["proponents_mean_price"] == pytest.approx(4.5)
    assert row["map_neighbours_mean_price"] == pytest.approx(3.0)
    assert row["closeness_gain"] == pytest.approx(abs(3.0 - 2.0) - abs(4.5 - 2.0))
    assert row["opponents_mean_price"] == pytest.approx(0.5) and row["k"] == 3
    first = table.query("test_index == 100")
    assert (first["proponents_capped_share"] == 1).all()
    assert (first["opponents_capped_share"] == 0).all()
    assert table.query("seed == 0")["prediction"].tolist() == [4.0, 4.1, 2.2, 2.3]
    assert table.query("seed > 0")["prediction"].isna().all()  # no model given for them
    assert table["odd"].tolist() == [False, False, False, False] * 3


def test_per_house_verdicts_reach_every_outcome_and_are_json_ready(per_house):
    table = claims.per_house_table(*per_house)
    doc = claims.per_house_verdicts(table)
    json.dumps(doc)
    verdicts = {h["test_index"]: h["verdict"] for h in doc["houses"]}
    assert verdicts == EXPECTED
    assert doc["counts"] == dict.fromkeys(OUTCOMES, 1)
    assert doc["test_indices"]["contradicted"] == [101]
    gain = doc["houses"][2]["closeness_gain"]
    assert gain["per_seed"] == pytest.approx({0: 0.0, 1: 0.0, 2: -0.02})
    assert gain["n"] == 3 and doc["margin"] == claims.PER_HOUSE_RULE.describe()
    text = report_text.describe_per_house(doc)
    assert text.startswith("Judged house by house") and "1 of the 4" in text
    assert "house 101: contradicted" in text and "house 100" not in text
    assert "Measured per seed: |mean price" in text and doc["margin"] in text
    assert "\\$100,000" in text and text.count("$") == text.count(r"\$")


def test_per_house_view_is_rounded_and_named_in_words(per_house):
    doc = claims.per_house_verdicts(
        claims.per_house_table(*per_house, {s: np.full(4, 3.14159) for s in (0, 1, 2)})
    )
    view = report_text.per_house_view(doc)
    assert list(view.columns) == [*report_text.PER_HOUSE_LABELS.values(), "verdict over seeds"]
    first = view.iloc[0]
    assert first["model's prediction ($100,000)"] == 3.14
    assert first["proponents at the price cap (%)"] == 100
    assert first["proponents closer in price than map neighbours by ($100,000)"].startswith("+2.00")
    assert view["verdict over seeds"].tolist() == list(OUTCOMES)
    assert not any("_" in column for column in view.columns)
