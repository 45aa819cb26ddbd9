"""End to end: the real `snakemake` command on config/smoke.yaml, in a temporary directory."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracin_study.checkpoints import load_checkpoint, read_manifest

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "config/smoke.yaml"


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
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


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    result = snakemake(workdir, "--configfile", str(SMOKE), "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


def test_smoke_run_trains_every_seed_with_verified_checkpoints(smoke_run):
    for seed in (0, 1):
        folder = smoke_run / f"results/seed_{seed}"
        manifest = read_manifest(folder / "checkpoints/manifest.json")
        assert [c.epoch for c in manifest.checkpoints] == [0, 2, 4]
        load_checkpoint(manifest.checkpoints[-1], manifest.build_model())
        metrics = json.loads((folder / "metrics.json").read_text())
        assert set(metrics["test"]) == {"mse", "mae", "explained_variance"}
        assert len(pd.read_csv(folder / "loss_curve.csv")) == 4
        assert (smoke_run / f"results/logs/train/seed_{seed}.log").stat().st_size > 0
        assert (smoke_run / f"results/benchmarks/train/seed_{seed}.tsv").exists()
    source = json.loads((smoke_run / "results/data/source.json").read_text())
    assert source["source"] == "snapshot" and source["n_train"] == 16_512


def test_smoke_run_writes_influence_tables_for_every_seed(smoke_run):
    houses = pd.read_csv(smoke_run / "results/palo_alto_test_points.csv")
    assert len(houses) == 11 and houses["distance_km"].is_monotonic_increasing
    for seed in (0, 1):
        folder = smoke_run / f"results/seed_{seed}"
        table = pd.read_parquet(folder / "self_influence.parquet")
        assert len(table) == 16_512 and (table["self_influence"] >= 0).all()
        assert {"train_index", "self_influence_last_layer", "Latitude", "MedHouseVal"} <= set(
            table.columns
        )
        ranked = pd.read_parquet(folder / "proponents.parquet")
        assert list(ranked.columns) == ["test_index", "train_index", "influence", "rank", "kind"]
        assert set(ranked["test_index"]) == set(houses["test_index"]) | {-1}
        assert (ranked.groupby(["test_index", "kind"]).size() <= 5).all()
        per_checkpoint = np.load(folder / "self_influence_per_checkpoint.npz")
        assert list(per_checkpoint["epochs"]) == [2, 4]
        np.testing.assert_allclose(per_checkpoint["all_layers"].sum(0), table["self_influence"])


def test_smoke_run_is_complete_and_a_training_change_reruns_only_training_onwards(smoke_run):
    assert planned_jobs(snakemake(smoke_run, "-n", "--configfile", str(SMOKE))) == {}
    changed = smoke_run / "changed.yaml"
    changed.write_text(SMOKE.read_text().replace("learning_rate: 0.001", "learning_rate: 0.002"))
    jobs = planned_jobs(snakemake(smoke_run, "-n", "--configfile", str(changed)))
    assert jobs.get("train") == 2 and jobs.get("influence") == 2 and "prepare_data" not in jobs
    changed.write_text(SMOKE.read_text().replace("epochs: [2, 4]", "epochs: [4]"))
    jobs = planned_jobs(snakemake(smoke_run, "-n", "--configfile", str(changed)))
    assert jobs.get("influence") == 2 and "train" not in jobs


def test_default_config_plans_a_training_job_per_seed(tmp_path):
    result = snakemake(tmp_path, "-n", "--cores", "4")
    assert result.returncode == 0, result.stderr[-4000:]
    assert planned_jobs(result)["train"] == 5


def test_an_invalid_config_fails_before_any_job_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  epochz: 3\n")
    result = snakemake(tmp_path, "-n", "--configfile", str(bad))
    assert result.returncode != 0
    assert "'epochz' was unexpected" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()
