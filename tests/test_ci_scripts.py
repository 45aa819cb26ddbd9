"""`.ci/apt-install` waits for apt's lock held by another process, and names the holder when
the wait runs out. The install asked for is the installed version of coreutils, so apt has
nothing to change; it still takes dpkg's lock first."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK = Path("/var/lib/dpkg/lock-frontend")
HOLD = """
import fcntl, sys, time
with open(sys.argv[1], "w") as f:
    fcntl.lockf(f, fcntl.LOCK_EX)
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid")
    or os.geteuid() != 0
    or shutil.which("apt-get") is None
    or shutil.which("dpkg-query") is None
    or not LOCK.exists(),
    reason="needs root and apt (Debian)",
)


@pytest.fixture
def hold_lock():
    """Start a process holding apt's frontend lock for `seconds` s; yield its PID."""
    holders = []

    def start(seconds):
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(LOCK), str(seconds)], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout.readline() == "held\n"
        holders.append(holder)
        return holder.pid

    yield start
    for holder in holders:
        holder.kill()
        holder.wait()


def _install_installed_coreutils(tmp_path, timeout_s):
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "coreutils"], capture_output=True, text=True
    ).stdout
    env = dict(os.environ, APT_LOCK_TIMEOUT_S=str(timeout_s), APT_LOG=str(tmp_path / "apt.log"))
    start = time.monotonic()
    done = subprocess.run(
        [ROOT / ".ci/apt-install", f"coreutils={version}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, time.monotonic() - start


def test_apt_install_waits_for_a_held_lock_then_succeeds(tmp_path, hold_lock):
    pid = hold_lock(3)
    done, seconds = _install_installed_coreutils(tmp_path, timeout_s=30)
    assert done.returncode == 0, done.stderr
    assert seconds > 2
    assert f"held by process {pid}" in (tmp_path / "apt.log").read_text()


def test_apt_install_names_the_lock_holder_when_the_wait_runs_out(tmp_path, hold_lock):
    pid = hold_lock(20)
    done, seconds = _install_installed_coreutils(tmp_path, timeout_s=1)
    assert done.returncode == 3
    assert f"{LOCK} is held by process {pid}: {sys.executable} -c" in done.stderr
    assert "after 1 s (APT_LOCK_TIMEOUT_S)" in done.stderr
    assert seconds < 15
