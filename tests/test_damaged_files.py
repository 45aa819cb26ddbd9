"""Issue 26: bad input refused before any job, damaged files noticed on a plain rerun.

The dry runs are the real `snakemake -n` command on variants of config/smoke.yaml; the
damaged checkpoints are made in a copy of the session's smoke run (tests/conftest.py)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from conftest import ROOT, SMOKE
from test_faults import damage
from test_pipeline import DEFAULT, planned_jobs, planned_outputs, snakemake

from tracin_study.checkpoints import (
    CheckpointError,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
    write_manifest,
)
from tracin_study.housing_table import SNAPSHOT
from tracin_study.manifest_check import DamagedCheckpointsError, check_manifests, damaged_files
from tracin_study.model import build_mlp

MODEL = {"n_features": 2, "hidden": [3]}


@pytest.fixture
def trained(tmp_path) -> Path:
    """A manifest.json of two checkpoints of a tiny model: epoch 0 (weights only) and epoch
    1 (weights and Adam's state, after one step)."""
    torch.manual_seed(0)
    model = build_mlp(**MODEL)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    saved = [save_checkpoint(model, tmp_path / "epoch_0000.pt", 0, 0, 0.01)]
    model(torch.ones(4, 2)).sum().backward()
    optimizer.step()
    saved.append(save_checkpoint(model, tmp_path / "epoch_0001.pt", 1, 1, 0.01, optimizer))
    write_manifest(tmp_path / "manifest.json", 0, MODEL, saved)
    return tmp_path / "manifest.json"


# The manifest's sizes and the cheap check


def test_the_manifest_records_the_size_of_every_file(trained):
    entries = json.loads(trained.read_text())["checkpoints"]
    folder = trained.parent
    assert [e["bytes"] for e in entries] == [
        (folder / name).stat().st_size for name in ("epoch_0000.pt", "epoch_0001.pt")
    ]
    assert "optimizer_bytes" not in entries[0]
    assert entries[1]["optimizer_bytes"] == (folder / "epoch_0001.adam.pt").stat().st_size
    assert damaged_files(trained) == []
    read_manifest(trained)  # the sizes are extra keys: the manifest still loads


@pytest.mark.parametrize("how", ["truncated", "empty", "missing"])
@pytest.mark.parametrize("name", ["epoch_0000.pt", "epoch_0001.adam.pt"])
def test_a_truncated_emptied_or_deleted_checkpoint_file_is_named(trained, how, name):
    path = trained.parent / name
    size = path.stat().st_size
    damage(path, how)
    expected = (
        f"{path} is missing"
        if how == "missing"
        else f"{path} has {path.stat().st_size} bytes, the manifest says {size}"
    )
    assert damaged_files(trained) == [expected]


def test_a_manifest_without_sizes_is_compared_by_sha256(trained):
    doc = json.loads(trained.read_text())
    for entry in doc["checkpoints"]:
        entry.pop("bytes")
        entry.pop("optimizer_bytes", None)
    trained.write_text(json.dumps(doc))
    assert damaged_files(trained) == []
    path = trained.parent / "epoch_0001.adam.pt"
    damage(path, "byte_flipped")
    assert damaged_files(trained) == [f"{path} has another sha256 than the manifest says"]


def test_a_flipped_byte_passes_the_size_check_and_is_refused_when_the_file_is_read(trained):
    path = trained.parent / "epoch_0000.pt"
    damage(path, "byte_flipped")
    assert damaged_files(trained) == []  # same size: the cheap check cannot see it
    with pytest.raises(CheckpointError, match=r"epoch_0000.pt has sha256 .* Re-run training"):
        load_checkpoint(read_manifest(trained).checkpoints[0], build_mlp(**MODEL))


@pytest.mark.parametrize("text", ['{"seed": 0, "checkp', "[]", '{"seed": 0}'])
def test_a_manifest_that_cannot_be_read_is_named(trained, text):
    trained.write_text(text)
    (line,) = damaged_files(trained)
    assert line.startswith(f"{trained} cannot be read as a manifest (")


def test_a_missing_manifest_is_left_to_snakemake(trained):
    trained.unlink()
    assert damaged_files(trained) == []


def test_the_refusal_lists_every_damaged_file_and_says_which_folders_to_delete(tmp_path):
    manifests = []
    for seed in (0, 1, 2):
        folder = tmp_path / f"seed_{seed}"
        folder.mkdir()
        model = build_mlp(**MODEL)
        saved = [save_checkpoint(model, folder / "epoch_0000.pt", 0, 0, 0.01)]
        write_manifest(folder / "manifest.json", seed, MODEL, saved)
        manifests.append(folder / "manifest.json")
    check_manifests(manifests)
    damage(tmp_path / "seed_0/epoch_0000.pt", "missing")
    damage(tmp_path / "seed_2/epoch_0000.pt", "truncated")
    with pytest.raises(DamagedCheckpointsError) as refused:
        check_manifests(manifests)
    lines = str(refused.value).splitlines()
    assert lines[1] == f"  {tmp_path / 'seed_0/epoch_0000.pt'} is missing"
    assert lines[2].startswith(f"  {tmp_path / 'seed_2/epoch_0000.pt'} has ")
    assert f"rm -r {tmp_path / 'seed_0'} {tmp_path / 'seed_2'})" in lines[3]


# Bad config values: refused by the dry run, before any job


def nested(keys: str, value) -> dict:
    """{"a": {"b": value}} for keys "a.b"."""
    for key in reversed(keys.split(".")):
        value = {key: value}
    return value


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "experiments.removal.recipes.closest.k",
            [100000],
            "'experiments.removal.recipes.closest.k': [100000] remove all 16512 training rows "
            "or more (data.test_fraction=0.2 gives 16512 training rows of 20640); each size "
            "must lie in [1, 16511]",
        ),
        (
            "experiments.lds.recipes.default.n_queries",
            100000,
            "'experiments.lds.recipes.default.n_queries': 100000 must lie in [11, 4128]",
        ),
        (
            "experiments.lds.recipes.closest.n_queries",
            5,
            "'experiments.lds.recipes.closest.n_queries': 5 must lie in [11, 4128]",
        ),
        ("influence.top_k", 100000, "'influence.top_k': 100000 is greater than the maximum"),
        ("influence.top_k", 61, "'influence.top_k': 61 exceeds the 60 training houses"),
    ],
)
def test_a_value_beyond_the_data_s_size_is_refused_by_the_dry_run(tmp_path, key, value, message):
    variant = tmp_path / "variant.yaml"
    variant.write_text(yaml.safe_dump(nested(key, value)))
    result = snakemake(tmp_path, "-n", "--configfile", str(SMOKE), str(variant))
    assert result.returncode != 0
    assert message in result.stdout + result.stderr, result.stdout[-3000:]
    assert "Job stats" not in result.stdout and not (tmp_path / "results").exists()


# Config files that cannot be read


def fake_clone(root: Path) -> Path:
    """A copy of this checkout's workflow, config and package (no results, no .git), whose
    Snakefile is run with PYTHONPATH set to its own src/."""
    ignore = shutil.ignore_patterns(".git", ".venv", "results", "__pycache__", ".snakemake")
    root.mkdir()
    for name in ("Snakefile", "environment.yml"):
        shutil.copy2(ROOT / name, root / name)
    for name in ("workflow", "config", "src", "notebooks"):
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    return root


def run_clone(clone: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(clone / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    env = {**os.environ, "PYTHONPATH": str(clone / "src")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)


def test_a_study_config_that_is_not_valid_yaml_is_named_with_its_line(tmp_path):
    clone = fake_clone(tmp_path / "clone")
    config = clone / "config/config.yaml"
    lines = config.read_text().splitlines()
    lines[6] = "seeds: [0, 1"
    config.write_text("\n".join(lines) + "\n")
    result = run_clone(clone, tmp_path, "-n")
    assert result.returncode != 0
    assert (
        f"config file {config} is not valid YAML: line 9, column 5: expected ',' or ']', but "
        "got ':' (while parsing a flow sequence that starts at line 7)\n"
    ) in result.stdout, result.stdout[-3000:]
    config.unlink()
    result = run_clone(clone, tmp_path, "-n")
    assert f"config file {config} does not exist\n" in result.stdout, result.stdout[-3000:]


def test_a_missing_configfile_is_named_on_the_last_line(tmp_path):
    # Snakemake reads --configfile files itself, before the Snakefile runs: its last line.
    result = snakemake(tmp_path, "-n", "--configfile", str(tmp_path / "nope.yaml"))
    assert result.returncode != 0
    last = (result.stdout + result.stderr).strip().splitlines()[-1]
    assert last == f"FileNotFoundError: [Errno 2] No such file or directory: '{tmp_path}/nope.yaml'"


def test_an_edited_snapshot_replans_the_data_step_whose_checksum_refuses_it(tmp_path):
    clone = fake_clone(tmp_path / "clone")
    work = tmp_path / "work"
    work.mkdir()
    target = f"{DEFAULT}/data/train.parquet"
    args = ("--configfile", str(SMOKE), "--cores", "1")
    assert run_clone(clone, work, *args, target).returncode == 0
    assert "Nothing to be done" in run_clone(clone, work, "-n", *args, target).stdout
    snapshot = clone / "src/tracin_study/resources" / SNAPSHOT
    damage(snapshot, "byte_flipped")
    dry = run_clone(clone, work, "-n", *args, target)
    assert planned_outputs(dry) == {"prepare_data": {"default/data/train.parquet"}}, dry.stdout
    assert f"reason: Updated input files: {snapshot}\n" in dry.stdout, dry.stdout
    run = run_clone(clone, work, *args, target)
    assert run.returncode != 0
    log = (work / "results/smoke/logs/prepare_data/default.log").read_text()
    assert f"data snapshot {snapshot}" in log


# Damaged checkpoints of a finished run, then the plain command


@pytest.fixture
def smoke_copy(smoke_run, tmp_path) -> Path:
    """A copy of the smoke run (results and Snakemake's records), free to damage."""
    workdir = tmp_path / "copy"
    shutil.copytree(smoke_run, workdir, symlinks=True)
    return workdir


def test_a_deleted_manifest_replans_that_seed_s_training(smoke_copy):
    assert planned_jobs(snakemake(smoke_copy, "-n", "--configfile", str(SMOKE))) == {}
    (smoke_copy / DEFAULT / "seed_1/checkpoints/manifest.json").unlink()
    plan = planned_outputs(snakemake(smoke_copy, "-n", "--configfile", str(SMOKE)))
    assert plan["train"] == {"default/seed_1/checkpoints"}, plan


@pytest.mark.parametrize(
    ("name", "how"), [("epoch_0004.pt", "truncated"), ("epoch_0002.adam.pt", "missing")]
)
def test_a_damaged_checkpoint_stops_the_plain_rerun_naming_the_file_and_the_fix(
    smoke_copy, name, how
):
    folder = smoke_copy / DEFAULT / "seed_0/checkpoints"
    size = (folder / name).stat().st_size
    damage(folder / name, how)
    result = snakemake(smoke_copy, "-n", "--configfile", str(SMOKE))
    assert result.returncode != 0
    found = "is missing" if how == "missing" else f"has {size // 2} bytes, the manifest says {size}"
    relative = Path(DEFAULT) / "seed_0/checkpoints"
    said = result.stdout + result.stderr
    assert f"  {relative / name} {found}\n" in said, said[-3000:]
    assert f"(rm -r {relative}) and run the same command again" in said
    shutil.rmtree(folder)  # the fix: its training, and what reads it, planned again
    plan = planned_outputs(snakemake(smoke_copy, "-n", "--configfile", str(SMOKE)))
    # (its loss curve feeds the sweep's choice, so the closest recipe follows)
    default = {p for p in plan["train"] | plan["seed_influence"] if p.startswith("default/")}
    assert default == {"default/seed_0/checkpoints", "default/seed_0/self_influence.parquet"}
