"""Shared fixtures: the verified housing table, a small prepared split, and the smoke
experiment run once per test session."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracin_study import data

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "config/smoke.yaml"


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """The `snakemake` command on the project's Snakefile, run in `workdir`, with `args`."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]


RULE_FILES = [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").rglob("*.smk"))]


def rule_blocks() -> dict[str, str]:
    """Rule name -> the text of its definition, over the Snakefile and every rule file."""
    blocks = {}
    for path in RULE_FILES:
        for block in re.split(r"(?m)^(?=rule \w+:)", path.read_text()):
            if block.startswith("rule "):
                blocks[block.split(":")[0].removeprefix("rule ")] = block
    return blocks


def local_rules() -> set[str]:
    """The rules that declare `localrule: True`: run by Snakemake itself, never submitted to
    a cluster."""
    return {name for name, block in rule_blocks().items() if "\n    localrule: True" in block}


def declared_resources(block: str) -> dict[str, int]:
    """The integer `resources:` (name -> value) a rule's definition declares."""
    section = re.search(r"\n    resources:\n((?:        \w+=\d+,\n)+)", block)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", section.group(1))} if section else {}


@pytest.fixture(scope="session")
def table():
    """The full verified table from the shipped snapshot (20,640 x 9)."""
    frame = data.read_snapshot()
    data.verify_table(frame, "snapshot", "restore it")
    return frame


@pytest.fixture(scope="session")
def split(table):
    """(train, test, scaler) of the default 8:2 split."""
    return data.split_tables(table, 0.2, 2020)


@pytest.fixture(scope="session")
def tiny_prepared():
    """A `PreparedData` of 40 training and 12 test houses: random standard-normal features
    (identity scaler) and prices linear in them plus noise, float64."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=len(data.FEATURES))

    def table(n: int, index: str) -> pd.DataFrame:
        frame = pd.DataFrame(rng.normal(size=(n, len(data.FEATURES))), columns=data.FEATURES)
        frame[data.TARGET] = 2 + frame.to_numpy() @ weights + 0.1 * rng.normal(size=n)
        frame.insert(0, index, np.arange(n))
        return frame

    return data.PreparedData(
        table(40, "train_index"), table(12, "test_index"), np.zeros(8), np.ones(8)
    )


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """A temporary directory holding config/smoke.yaml run locally (`--cores 2`) by the real
    `snakemake` command: run once per session and shared by tests/test_pipeline.py (its
    end-to-end checks) and tests/test_slurm.py (the reference the Slurm run must equal).
    Tests may add files to it but must not change the results in it."""
    workdir = tmp_path_factory.mktemp("smoke")
    cmd = snakemake_command(workdir, "--configfile", str(SMOKE), "--cores", "2")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir
