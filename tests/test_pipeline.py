"""End to end: the real `snakemake` command on config/smoke.yaml, in a temporary directory.

The smoke run itself is the session fixture `smoke_run` (tests/conftest.py), shared with
tests/test_slurm.py, which compares its Slurm run with it."""

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import snakemake_command

from tracin_study.checkpoints import load_checkpoint, read_manifest
from tracin_study.influence import ALL_TEST_POINTS
from tracin_study.verdicts import OUTCOMES

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "config/smoke.yaml"
RESULTS = "results/smoke"  # the smoke config's paths.results
DEFAULT = f"{RESULTS}/default"  # its default recipe's folder
CLOSEST = f"{RESULTS}/closest"  # and the closest recipe's
REPORT = "results/smoke/report"  # and its paths.report


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = snakemake_command(workdir, *args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule name -> job count from the job-stats table of a dry run."""
    jobs, in_table = {}, False
    for line in result.stdout.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
        elif in_table and len(parts) == 2 and parts[1].isdigit():
            jobs[parts[0]] = int(parts[1])
    return jobs


def planned_outputs(result: subprocess.CompletedProcess) -> dict[str, set[str]]:
    """Rule name -> the first output of each of its jobs in a dry run, relative to the
    smoke config's results folder (e.g. "default/recipe/training.json")."""
    outputs, rule = {}, None
    for line in result.stdout.splitlines():
        if match := re.fullmatch(r"(?:local)?rule (\w+):", line):
            rule = match.group(1)
        elif rule and line.startswith("    output: "):
            first = line.removeprefix("    output: ").split(", ")[0]
            outputs.setdefault(rule, set()).add(first.removeprefix(f"{RESULTS}/"))
            rule = None
    return outputs


def test_smoke_run_trains_every_seed_with_verified_checkpoints(smoke_run):
    for seed in (0, 1):
        folder = smoke_run / DEFAULT / f"seed_{seed}"
        manifest = read_manifest(folder / "checkpoints/manifest.json")
        assert [c.epoch for c in manifest.checkpoints] == [0, 2, 4]
        load_checkpoint(manifest.checkpoints[-1], manifest.build_model())
        metrics = json.loads((folder / "metrics.json").read_text())
        assert set(metrics["test"]) == {"mse", "mae", "explained_variance"}
        assert len(pd.read_csv(folder / "loss_curve.csv")) == 4
        assert (smoke_run / RESULTS / f"logs/train/default_seed_{seed}.log").stat().st_size > 0
        assert (smoke_run / RESULTS / f"benchmarks/train/default_seed_{seed}.tsv").exists()
    source = json.loads((smoke_run / DEFAULT / "data/source.json").read_text())
    assert source["source"] == "snapshot" and source["n_train"] == 16_512


def test_smoke_run_writes_influence_tables_for_every_seed(smoke_run):
    houses = pd.read_csv(smoke_run / DEFAULT / "palo_alto_test_points.csv")
    assert len(houses) == 11 and houses["distance_km"].is_monotonic_increasing
    for seed in (0, 1):
        folder = smoke_run / DEFAULT / f"seed_{seed}"
        table = pd.read_parquet(folder / "self_influence.parquet")
        assert len(table) == 16_512 and (table["self_influence"] >= 0).all()
        assert {
            "train_index",
            "self_influence_last_layer",
            "self_influence_adam",
            "final_loss",
            "summed_loss",
        } <= set(table.columns)
        assert (table["self_influence_adam"] >= 0).all()
        ranked = pd.read_parquet(folder / "proponents.parquet")
        assert list(ranked.columns) == ["test_index", "train_index", "influence", "rank", "kind"]
        ranked_adam = pd.read_parquet(folder / "proponents_adam.parquet")
        assert list(ranked_adam.columns) == list(ranked.columns)
        assert set(ranked["test_index"]) == set(houses["test_index"]) | {ALL_TEST_POINTS}
        assert (ranked.groupby(["test_index", "kind"]).size() <= 5).all()
        per_checkpoint = np.load(folder / "self_influence_per_checkpoint.npz")
        assert list(per_checkpoint["epochs"]) == [2, 4]
        np.testing.assert_allclose(per_checkpoint["all_layers"].sum(0), table["self_influence"])


def test_smoke_run_writes_the_experiments(smoke_run):
    folder = smoke_run / RESULTS
    ideal = pd.read_csv(folder / "approximation_chain/summary.csv")
    first_order = ideal.query("reference == 'ideal' and method == 'first_order'")
    assert first_order.set_index("metric").loc["pearson", "mean"] > 0.99
    adam = ideal.query("optimizer == 'adam' and method == 'first_order_adam'")
    assert adam.set_index("metric").loc["pearson", "mean"] > 0.99
    detection = pd.read_csv(folder / "corruption/summary.csv")
    assert set(detection["score"]) == {
        "self_influence_all_layers",
        "self_influence_last_layer",
        "self_influence_last_checkpoint",
        "final_loss",
        "summed_loss",
        "random",
    }
    assert (detection["n"] == 2).all()
    main_models = pd.read_csv(folder / "checkpoint_ablation/summary.csv")
    assert set(main_models["variant_b"]) == {
        "all_layers_all_checkpoints",
        "last_layer_paper_checkpoints",
    }


METHODS = ["raw", "adam", "last_layer", "raw_all_checkpoints", "summed_training_loss"]


def test_smoke_run_writes_the_removal_summaries_with_verdicts_and_power(smoke_run):
    closest = json.loads((smoke_run / CLOSEST / "removal/summary.json").read_text())
    assert {"margin", "power_target", "noise", "random_shift", "curves", "house_curves"} <= set(
        closest
    )
    assert closest["scores"] == ["adam", "raw"] and closest["seeds"] == [0, 1]
    verdicts = closest["verdicts"]
    assert verdicts and all(v["verdict"] in OUTCOMES for v in verdicts)
    assert all(v["detectable_effect"] is not None for v in verdicts)
    aggregate = [v for v in verdicts if v["house"] == "all houses"]
    sets = {"aggregate_proponents", "aggregate_opponents", "map_neighbours"}
    assert {v["set"] for v in aggregate} >= sets | {"house_proponents", "house_opponents"}
    assert {v["score"] for v in aggregate} == {"raw", "adam", ""}
    assert {v["direction"] for v in aggregate if v["set"] == "aggregate_opponents"} == {-1}
    assert {v["house"] for v in verdicts} - {"all houses"}  # per house too
    for name in ("noise", "curves", "verdicts"):
        table = pd.read_csv(smoke_run / CLOSEST / f"removal/{name}.csv")
        assert len(table) == len(closest[name])
    noise = {(n["protocol"], n["k"]) for n in closest["noise"]}
    assert noise == {("fixed_order", 5), ("fixed_order", 20), ("new_order", 5)}
    assert all(n["detectable_effect"] is not None for n in closest["noise"])
    assert {(r["protocol"], r["k"]) for r in closest["random_shift"]} == noise
    # the default recipe: its fixed-order noise alone, one seed, no verdict
    default = json.loads((smoke_run / DEFAULT / "removal/summary.json").read_text())
    assert default["verdicts"] == [] and default["seeds"] == [0]
    (row,) = default["noise"]
    assert (row["protocol"], row["k"], row["draws_per_seed"]) == ("fixed_order", 5, 2)
    assert row["detectable_effect"] is None  # one seed: no interval, but the seeds it needs
    assert row["seeds_needed"] is None or row["seeds_needed"] >= 2


def test_smoke_run_writes_the_lds_summaries_with_ceiling(smoke_run):
    for recipe, ceiling in ((DEFAULT, (0, "new_order")), (CLOSEST, (1, "fixed_order"))):
        summary = json.loads((smoke_run / recipe / "lds/summary.json").read_text())
        assert (summary["n_queries"], summary["n_subsets"], summary["n_palo_alto"]) == (15, 6, 11)
        assert list(summary["methods"]) == METHODS
        for entry in summary["methods"].values():
            low, high = entry["ci95"]
            assert -1 <= low <= high <= 1
        assert "raw - adam" in summary["differences"]
        assert (summary["noise_ceiling"]["seed"], summary["noise_ceiling"]["protocol"]) == ceiling
        assert -1 <= summary["noise_ceiling"]["mean"] <= 1
        low, high = summary["noise_ceiling"]["ci95"]
        assert -1 <= low <= summary["noise_ceiling"]["mean"] <= high <= 1
        assert summary["differences"]["raw - adam"]["detectable_difference"] >= 0
        assert summary["power"]["subsets_needed"] >= 6
        assert summary["spearman_se"] == pytest.approx(1 / 3**0.5)
        per_query = pd.read_csv(smoke_run / recipe / "lds/per_query.csv")
        assert list(per_query.columns) == ["test_index", "palo_alto", *METHODS, "noise_ceiling"]
        assert len(per_query) == 15 and per_query["palo_alto"].sum() == 11


def test_smoke_run_reruns_the_claims_on_the_closest_recipe(smoke_run):
    selection = json.loads((smoke_run / RESULTS / "sweep/selection.json").read_text())
    settings = {
        section: json.loads((smoke_run / CLOSEST / f"recipe/{section}.json").read_text())
        for section in ("data", "training", "influence")
    }
    assert settings["training"]["training"]["epochs"] == selection["epoch"]
    assert settings["influence"]["epochs"] == selection["checkpoint_epochs"]
    for name, value in selection["overrides"].items():
        assert value in (settings["data"].get(name), settings["training"]["training"].get(name))
    manifest = read_manifest(smoke_run / CLOSEST / "seed_0/checkpoints")
    assert {c.epoch for c in manifest.checkpoints} >= set(selection["checkpoint_epochs"])
    for recipe_folder in (DEFAULT, CLOSEST):
        for score in ("raw", "adam"):
            doc = json.loads((smoke_run / recipe_folder / f"claims/{score}.json").read_text())
            assert doc["score"] == score and doc["seeds"] == [0, 1]
            assert all(claim["verdict"] in OUTCOMES for claim in doc["claims"])
            # the removal claims of both scores, each with the effect it could detect, where
            # the removal test judges sets (the closest recipe; the default one: noise only)
            removal = [c for c in doc["claims"] if c["id"].startswith("removing_proponents")]
            if recipe_folder == CLOSEST:
                assert "removing_proponents_vs_random_k5" in {c["id"] for c in removal}
                assert all(c["detectable_effect"] is not None for c in removal)
            else:
                assert removal == []


def _error_outputs(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return [
        output.get("ename", "")
        for cell in cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def test_smoke_run_executes_every_notebook_without_errors(smoke_run):
    notebooks = [smoke_run / DEFAULT / f"seed_{s}/analysis.ipynb" for s in (0, 1)]
    notebooks.append(smoke_run / REPORT / "report.ipynb")
    for notebook in notebooks:
        assert _error_outputs(notebook) == [], notebook
    assert (smoke_run / DEFAULT / "seed_0/figures/self_influence_map.png").stat().st_size > 10_000
    figures = {p.name for p in (smoke_run / REPORT / "figures").glob("*.png")}
    assert {
        "explained_variance.png",
        "self_influence_map.png",
        "palo_alto_map.png",
        "self_influence_deciles.png",
        "correlation_vs_k.png",
        "corruption_detection.png",
        "removal_curves.png",
        "removal_house_curves_raw.png",
        "removal_house_curves_adam.png",
    } <= figures
    assert "TracInIdeal" in (smoke_run / REPORT / "report.html").read_text()


def test_the_report_holds_no_absolute_path_of_this_machine(smoke_run):
    for name in ("report.ipynb", "summary.json"):
        text = (smoke_run / REPORT / name).read_text()
        assert not re.search(r'(= |: )\\?"/[A-Za-z_]', text), name


def test_report_summary_holds_the_headline_numbers_with_their_seeds(smoke_run):
    summary = json.loads((smoke_run / REPORT / "summary.json").read_text())
    assert summary["provenance"]["seeds"] == [0, 1]
    assert summary["worked_example"]["max_relative_error_engine_vs_brute_force"] < 1e-6
    ev = summary["model_quality"]["test explained variance"]
    assert set(ev["per_seed"]) == {"0", "1"}
    claims = {c["id"]: c for c in summary["claims"]}
    assert "test_explained_variance" in claims
    # the removal claims: on the closest recipe, where the removal test judges sets
    assert not any(c.startswith("removing_proponents") for c in claims)
    closest = {c["id"]: c for c in summary["recipe_sweep"]["closest_recipe_claims"]}
    assert "removing_proponents_vs_random_k5" in closest
    for claim in [*claims.values(), *closest.values()]:
        assert claim["verdict"] in OUTCOMES and set(claim["per_seed"]) <= {"0", "1"}
        assert {"source", "measurement", "baselines", "ci95", "margin"} <= set(claim)
    assert "self_influence_all_layers" in summary["corruption_detection"]["scores"]
    assert summary["approximation_chain"] and summary["checkpoint_ablation"]
    assert summary["paper_facts"]


def test_snakemake_html_report_renders(smoke_run):
    out = smoke_run / "snakemake_report.html"
    result = snakemake(smoke_run, "--configfile", str(SMOKE), "--report", str(out))
    assert result.returncode == 0, result.stderr[-4000:]
    assert out.stat().st_size > 10_000


def test_a_changed_setting_reruns_its_step_and_what_follows_only(smoke_run):
    assert planned_jobs(snakemake(smoke_run, "-n", "--configfile", str(SMOKE))) == {}
    changed = smoke_run / "changed.yaml"
    changed.write_text(SMOKE.read_text().replace("learning_rate: 0.001", "learning_rate: 0.002"))
    plan = planned_outputs(snakemake(smoke_run, "-n", "--configfile", str(changed)))
    # the training section of every recipe; closest's sections follow the sweep's new choice
    assert plan["recipe"] == {
        "default/recipe/training.json",
        "minmax/recipe/training.json",
        *(f"closest/recipe/{s}.json" for s in ("data", "training", "influence")),
    }, plan
    assert plan["prepare_data"] == {"closest/data/train.parquet"}, plan
    assert len(plan["train"]) == 5 and len(plan["seed_influence"]) == 4, plan
    changed.write_text(SMOKE.read_text().replace("epochs: [2, 4]", "epochs: [4]"))
    plan = planned_outputs(snakemake(smoke_run, "-n", "--configfile", str(changed)))
    # the influence epochs: the default recipe's influence section and what reads it
    assert plan["recipe"] == {"default/recipe/influence.json"}, plan
    assert {"prepare_data", "train", "sweep_summary"} & set(plan) == set(), plan
    assert plan["seed_influence"] == {
        f"default/seed_{seed}/self_influence.parquet" for seed in (0, 1)
    }, plan
    assert plan["claims"] == {f"default/claims/{score}.json" for score in ("raw", "adam")}


def test_a_changed_report_setting_reruns_the_notebooks(smoke_run):
    changed = smoke_run / "top_n.yaml"
    changed.write_text(SMOKE.read_text().replace("top_n: 20", "top_n: 25"))
    jobs = planned_jobs(snakemake(smoke_run, "-n", "--configfile", str(changed)))
    assert jobs.get("seed_notebook") == 2 and jobs.get("report") == 1
    assert jobs.get("claims") == 4  # top_n: both recipes, both scores
    assert "train" not in jobs and "seed_influence" not in jobs


def test_a_config_with_reordered_keys_plans_nothing(smoke_run):
    config = yaml.safe_load(SMOKE.read_text())
    reordered = smoke_run / "reordered.yaml"
    reordered.write_text(yaml.safe_dump(config, sort_keys=True))
    assert yaml.safe_dump(config, sort_keys=False) != reordered.read_text()
    assert planned_jobs(snakemake(smoke_run, "-n", "--configfile", str(reordered))) == {}


def test_a_killed_forced_rerun_is_planned_again(smoke_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(smoke_run, workdir, symlinks=True)
    manifest = workdir / DEFAULT / "seed_0/checkpoints/manifest.json"
    cmd = snakemake_command(
        workdir, "--configfile", str(SMOKE), "--cores", "1", "--forcerun", "train"
    )
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while manifest.exists() and time.monotonic() < deadline:  # deleted when its job starts
        time.sleep(0.05)
    process.kill()
    process.wait()
    assert not manifest.exists(), "the forced rerun never started"
    assert snakemake(workdir, "--unlock").returncode == 0
    plain = snakemake(workdir, "-n", "--configfile", str(SMOKE))
    assert "Nothing to be done" not in plain.stdout + plain.stderr
    # the recovery docs/troubleshooting.md gives: --rerun-incomplete redoes what the kill
    # left half-done
    recovery = snakemake(workdir, "-n", "--configfile", str(SMOKE), "--rerun-incomplete")
    jobs = planned_jobs(recovery)
    assert jobs.get("train", 0) >= 1 and jobs.get("report") == 1, recovery.stdout[-3000:]


def test_default_config_plans_a_training_job_per_seed_even_with_a_committed_report(tmp_path):
    # A fresh clone carries the committed report; the study must still be recomputed.
    (tmp_path / "report").mkdir()
    for name in ("report.ipynb", "report.html", "summary.json"):
        (tmp_path / "report" / name).write_text("{}")
    result = snakemake(tmp_path, "-n", "--cores", "4")
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = planned_jobs(result)
    assert jobs["train"] == 5 + 8 + 3 and jobs["report"] == 1  # default, closest, sweep


def test_an_invalid_config_fails_before_any_job_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  epochz: 3\n")
    result = snakemake(tmp_path, "-n", "--configfile", str(bad))
    assert result.returncode != 0
    assert "'epochz' was unexpected" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()
