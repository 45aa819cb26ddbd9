"""Regression tests of issue 9 ("Faults"): each reproduces a fault and checks its refusal."""

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch

import tracin_study
from tracin_study import data
from tracin_study.checkpoints import CheckpointError, read_manifest, save_checkpoint, write_manifest
from tracin_study.config import AdamStepSettings, ApproximationChainSettings, TrainingSettings
from tracin_study.experiments.approximation_chain import record_ideal
from tracin_study.housing_table import SNAPSHOT
from tracin_study.model import build_mlp
from tracin_study.provenance import PINNED_KERNELS, check_package_source
from tracin_study.training import TrainingError, train

DAMAGES = ["truncated", "byte_flipped", "empty", "missing"]


def damage(path, how: str) -> None:
    """Damage the file at `path` in place: cut it in half, flip a byte, empty or delete it."""
    raw = path.read_bytes()
    if how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "byte_flipped":
        middle = len(raw) // 2
        path.write_bytes(raw[:middle] + bytes([raw[middle] ^ 0xFF]) + raw[middle + 1 :])
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()


# Item 5: non-finite values


def test_a_nan_in_the_raw_table_is_refused_naming_the_file_and_row(monkeypatch, table, tmp_path):
    poisoned = table.copy()
    poisoned.loc[123, "AveRooms"] = np.nan
    monkeypatch.setattr(data, "fetch_sklearn", lambda _: poisoned)
    cache = data.sklearn_cache(tmp_path)
    with pytest.raises(
        data.DataError,
        match=rf"{re.escape(str(cache))}: row 123 has non-finite values in \['AveRooms'\]",
    ):
        data.load_table("auto", tmp_path)


def test_a_nan_in_a_prepared_file_is_refused_naming_the_file_and_row(split, tmp_path):
    train, test, scaler = split
    poisoned = train.copy()
    poisoned.loc[5, "MedInc"] = np.inf
    names = ("train.parquet", "test.parquet", "scaler.json", "source.json")
    files = data.PreparedFiles(*(tmp_path / name for name in names))
    data.write_prepared(files, poisoned, test, scaler, {})
    original_row = int(train["row"].iloc[5])
    with pytest.raises(
        data.DataError,
        match=rf"train.parquet: row 5 \(row {original_row} of the original table\) has "
        rf"non-finite values in \['MedInc'\] \(1 rows in all\); re-run the prepare_data",
    ):
        data.load_prepared(files)


def test_training_stops_at_the_first_non_finite_loss_and_removes_its_checkpoints(tmp_path):
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = X.sum(1)
    X[17, 1] = np.nan
    config = TrainingSettings(
        hidden=(4,), epochs=3, batch_size=16, learning_rate=0.01, checkpoint_every=1
    )
    with pytest.raises(TrainingError, match=r"seed 3: training loss is nan at epoch 1, batch \d"):
        train(X, y, X[:8], y[:8], config, 3, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no checkpoint, no manifest


# Item 7: damaged snapshot and cache files


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_shipped_snapshot_names_the_file_and_says_restore_it(monkeypatch, tmp_path, how):
    snapshot = tmp_path / SNAPSHOT
    shutil.copy(data.shipped_snapshot(), snapshot)
    damage(snapshot, how)
    monkeypatch.setattr(data, "shipped_snapshot", lambda: snapshot)
    with pytest.raises(
        data.DataError, match=rf"data snapshot {re.escape(str(snapshot))} .*git checkout.*reinstall"
    ):
        data.load_table("snapshot", tmp_path)


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_snapshot_copy_names_the_file_and_says_replace_it(tmp_path, how):
    copy = tmp_path / "copy.csv.gz"
    shutil.copy(data.shipped_snapshot(), copy)
    damage(copy, how)
    with pytest.raises(
        data.DataError,
        match=rf"data snapshot {re.escape(str(copy))} .*replace {re.escape(str(copy))} with",
    ):
        data.read_snapshot(copy)


def test_a_snapshot_with_a_bad_line_names_the_file(tmp_path):
    copy = tmp_path / "bad.csv.gz"
    copy.write_bytes(gzip.compress(b"a,b\n1,2\n3,4,5,6\n"))
    with pytest.raises(data.DataError, match=rf"{re.escape(str(copy))} is damaged \(ParserError"):
        data.read_snapshot(copy)


def test_a_missing_scikit_learn_cache_offline_names_the_file(monkeypatch, tmp_path):
    def offline(_):
        raise OSError("Name or service not known")

    monkeypatch.setattr(data, "fetch_sklearn", offline)
    cache = re.escape(str(data.sklearn_cache(tmp_path)))
    with pytest.raises(data.DataError, match=rf"could not download the table to {cache} \(OSError"):
        data.load_table("sklearn", tmp_path)


@pytest.mark.parametrize("how", ["truncated", "byte_flipped", "empty"])
@pytest.mark.parametrize("source", ["auto", "sklearn"])
def test_a_damaged_scikit_learn_cache_names_the_file_and_says_delete_it(tmp_path, how, source):
    cache = data.sklearn_cache(tmp_path)
    joblib.dump(np.random.default_rng(0).normal(size=(2000, 9)), cache, compress=6)
    damage(cache, how)
    with pytest.raises(
        data.DataError, match=rf"scikit-learn cache {re.escape(str(cache))} .*delete .* and re-run"
    ):
        data.load_table(source, tmp_path)


# Item 11: byte-identical outputs and strict manifests


def test_equal_approximation_chain_runs_write_identical_steps_files(tiny_prepared, tmp_path):
    settings = ApproximationChainSettings(
        n_train=8,
        subsample_seed=0,
        seed=0,
        epochs=1,
        learning_rate=1e-3,
        checkpoint_every_steps=4,
        checkpoint_counts=(1,),
        adam=AdamStepSettings(learning_rate=1e-5, beta2=0.999, eps=1e-8),
    )
    files = []
    for run in ("a", "b"):
        steps = record_ideal(tiny_prepared, np.array([0, 1]), [3], settings, tmp_path / run)
        np.savez_compressed(tmp_path / f"{run}.npz", **steps)
        files.append((tmp_path / f"{run}.npz").read_bytes())
    assert files[0] == files[1]


def test_a_boolean_learning_rate_in_a_manifest_is_refused(tmp_path):
    model = build_mlp(2, (3,))
    checkpoint = save_checkpoint(model, tmp_path / "epoch_0000.pt", 0, 0, 0.001)
    write_manifest(tmp_path / "manifest.json", 0, {"n_features": 2, "hidden": [3]}, [checkpoint])
    doc = json.loads((tmp_path / "manifest.json").read_text())
    doc["checkpoints"][0]["learning_rate"] = True
    (tmp_path / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(
        CheckpointError, match=r"manifest.json, entry 0 \(epoch_0000.pt\): learning_rate=True"
    ):
        read_manifest(tmp_path / "manifest.json")


# Item 8: the package of another clone


def fake_clone(root):
    """A clone holding a copy of the package under src/, as another checkout would."""
    shutil.copytree(Path(tracin_study.__file__).parent, root / "src/tracin_study")
    return root


def check_in_subprocess(pythonpath, workflow_dir) -> subprocess.CompletedProcess:
    code = (
        "import sys; from tracin_study.provenance import check_package_source as c; c(sys.argv[1])"
    )
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [sys.executable, "-c", code, str(workflow_dir)], env=env, capture_output=True, text=True
    )


def test_the_tests_run_the_package_of_their_own_checkout():
    check_package_source(Path(__file__).resolve().parents[1])


def test_the_package_of_another_clone_is_refused_naming_both_paths(tmp_path):
    this = fake_clone(tmp_path / "this")
    other = fake_clone(tmp_path / "other")
    result = check_in_subprocess(other / "src", this)
    assert result.returncode != 0
    message = result.stderr.splitlines()[-1]
    assert message.startswith("tracin_study.provenance.PackageSourceError")
    assert f"imports tracin_study from {other / 'src/tracin_study'}, not" in message
    assert f"this checkout's {this / 'src/tracin_study'}" in message
    assert f"`pip install -e .` in {this}, or set PYTHONPATH={this / 'src'}" in message


def test_pythonpath_to_the_checkout_counts_as_this_checkout(tmp_path):
    clone = fake_clone(tmp_path / "clone")
    link = tmp_path / "link"
    link.symlink_to(clone)
    assert check_in_subprocess(clone / "src", clone).returncode == 0
    assert check_in_subprocess(link / "src", clone).returncode == 0


# Item 13: the same kernels on every machine


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PINNED_KERNELS}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_pin_kernels_before_torch_makes_aten_use_avx2():
    code = (
        "from tracin_study.provenance import pin_kernels, provenance; pin_kernels(); "
        "print(provenance()['cpu_kernels'])"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'aten': 'AVX2', 'mkl_cbwr': 'AVX2'}"


def test_pin_kernels_after_torch_is_refused():
    result = run_python(
        "import torch; from tracin_study.provenance import pin_kernels; pin_kernels()"
    )
    assert "called after torch was imported" in result.stderr
