"""End to end on a real Slurm cluster: the smoke config through workflow/profiles/slurm.

Needs a reachable cluster (`sinfo` answers) and the executor plugin (`pip install -e
'.[slurm]'`). `.ci/with-slurm make test` (what .ci/run does) brings a one-node cluster up on
this machine, runs the test suite against it and stops it again. Without a cluster the test
is skipped, except where CI=true: there it fails.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import local_rules

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "config/smoke.yaml"
PROFILE = ROOT / "workflow/profiles/slurm"
RESULTS = "results/smoke"  # the smoke config's paths.results (its report is in RESULTS/report)
IN_CI = os.environ.get("CI", "").lower() == "true"
# The whole Slurm run is killed (SIGKILL) after this, so a hang fails instead of blocking.
TIMEOUT_S = 900


def _unavailable() -> str | None:
    """Why the Slurm run cannot happen here, or None."""
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    for tool in ("sbatch", "sacct", "sinfo"):
        if shutil.which(tool) is None:
            return f"no `{tool}` on PATH (no Slurm client here)"
    try:
        probe = subprocess.run(["sinfo", "-h"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "`sinfo` did not answer within 20 s"
    if probe.returncode != 0 or not probe.stdout.strip():
        return f"no Slurm cluster answers `sinfo`: {probe.stderr.strip()[:300]}"
    return None


@pytest.fixture(scope="module")
def cluster():
    reason = _unavailable()
    if reason is not None:
        message = f"Slurm end-to-end test: {reason}; `.ci/with-slurm make test` runs it"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: required)")
        pytest.skip(message)


def _env() -> dict[str, str]:
    # Slurm jobs inherit the submitting environment: the interpreter running the tests (the
    # virtual environment) must come first on PATH.
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _snakemake(workdir: Path, *args: str) -> subprocess.Popen:
    """Start Snakemake in `workdir`, its output (stdout and stderr) to workdir/snakemake.log."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), *args]
    with open(workdir / "snakemake.log", "w") as log:
        return subprocess.Popen(
            cmd, cwd=workdir, env=_env(), stdout=log, stderr=subprocess.STDOUT, text=True
        )


def _job_stats(output: str) -> dict[str, int]:
    """Rule name -> job count from the first job-stats table Snakemake prints."""
    jobs, in_table = {}, False
    for line in output.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
        elif in_table and len(parts) == 2 and parts[1].isdigit():
            if parts[0] == "total":
                break
            jobs[parts[0]] = int(parts[1])
    return jobs


@pytest.fixture(scope="module")
def runs(cluster, request, tmp_path_factory):
    """The smoke config through Slurm, and the local run of it (the session fixture
    `smoke_run` of conftest.py, shared with test_pipeline.py), each in its own directory.

    The Slurm run starts first: when this module runs alone, the local reference run is
    made meanwhile, on the CPU time the Slurm run leaves idle (its jobs wait for the
    scheduler and the executor's status checks); in `make test` it already exists."""
    via_slurm = tmp_path_factory.mktemp("slurm")
    start = time.monotonic()
    process = _snakemake(
        via_slurm,
        "--profile",
        str(PROFILE),
        "--configfile",
        str(SMOKE),
        # Short waits for a one-node test cluster; the profile's values suit a real one.
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--latency-wait",
        "5",
    )
    try:
        local = request.getfixturevalue("smoke_run")
        returncode = process.wait(timeout=max(1, TIMEOUT_S - (time.monotonic() - start)))
    finally:
        if process.poll() is None:
            process.kill()  # the executor's jobs are cancelled by .ci/with-slurm
            process.wait()
    elapsed = time.monotonic() - start
    output = (via_slurm / "snakemake.log").read_text()
    assert returncode == 0, output[-6000:]
    print(f"\nsmoke config through Slurm: {elapsed:.0f} s")
    run_id = re.search(r"SLURM run ID: (\S+)", output)
    assert run_id, "the Slurm executor did not report a run ID"
    return local, via_slurm, run_id.group(1), _job_stats(output)


def _sacct(run_id: str) -> list[dict[str, str]]:
    fields = ["JobID", "JobName", "Comment", "State", "ExitCode", "AllocCPUS", "ReqMem"]
    result = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-S", "now-1days", "--name", run_id, "-o", ",".join(fields)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [dict(zip(fields, line.split("|"), strict=True)) for line in result.stdout.splitlines()]


def test_every_job_went_through_slurm_and_completed(runs):
    _, via_slurm, run_id, planned = runs
    local = local_rules()
    assert {"train", "seed_influence", "report"}.isdisjoint(local)
    expected = {rule: n for rule, n in planned.items() if rule not in local}
    assert sum(expected.values()) >= 20, planned
    for _ in range(30):  # the controller hands records to the database asynchronously
        jobs = _sacct(run_id)
        if len(jobs) >= sum(expected.values()) and all(j["State"] for j in jobs):
            break
        time.sleep(1)
    print(f"\nsacct, run {run_id}:")
    for job in jobs:
        print("  " + "  ".join(job.values()))
    assert {j["State"] for j in jobs} == {"COMPLETED"}, jobs
    assert all(j["ExitCode"] == "0:0" for j in jobs), jobs
    # The executor names the rule (and wildcards) in each job's comment: rule_<name>[_...].
    per_rule = Counter(
        next(
            r
            for r in sorted(expected, key=len, reverse=True)
            if j["Comment"].startswith(f"rule_{r}")
        )
        for j in jobs
    )
    assert dict(per_rule) == expected
    # One Slurm log per job is kept (the profile asks for the logs of successful jobs too).
    logs = list((via_slurm / "results/logs/slurm").rglob("*.log"))
    assert len(logs) == len(jobs)


# When and where a run happened, and how long it took: not results.
VOLATILE = {
    "wall_seconds",
    "created_utc",
    "date_utc",
    "machine",
    "hostname",
    "elapsed_since_data_stage_s",
    "summed_job_wall_time_s",
    "seconds_per_retraining",  # the LDS power's measured cost, and the CPU hours from it
    "cpu_hours",
}


def _assert_close(a, b, path):
    """Recursive equality, floats up to float noise, ignoring the VOLATILE keys."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in set(a) - VOLATILE:
            _assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        if math.isnan(a):
            assert math.isnan(b), path
        else:
            assert b == pytest.approx(a, rel=1e-6, abs=1e-9), path
    else:
        assert a == b, path


def _json(path: Path):
    return json.loads(path.read_text())


def test_slurm_results_equal_the_local_run(runs):
    local, via_slurm, _, _ = runs
    for seed in (0, 1):
        name = f"{RESULTS}/default/seed_{seed}/metrics.json"
        _assert_close(_json(local / name), _json(via_slurm / name), name)
        name = f"{RESULTS}/default/seed_{seed}/self_influence.parquet"
        a, b = pd.read_parquet(local / name), pd.read_parquet(via_slurm / name)
        assert list(a.columns) == list(b.columns)
        for column in a.columns:
            np.testing.assert_allclose(b[column], a[column], rtol=1e-6, atol=1e-12)
    name = f"{RESULTS}/report/summary.json"
    _assert_close(_json(local / name), _json(via_slurm / name), name)
