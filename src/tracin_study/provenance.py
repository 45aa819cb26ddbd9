"""Logging set-up, the provenance recorded next to every result, and checks and settings of
the environment the workflow runs in (package source, CPU kernels)."""

import json
import logging
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

# MKL and ATen pick their kernels by processor, so the same run gives numbers that differ in
# the third decimal from one CPU to another; these settings choose the AVX2 kernels on every
# x86-64 CPU that has them (benchmarks/pinned_kernels.py measures the cost).
PINNED_KERNELS = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def pin_kernels() -> None:
    """Set `PINNED_KERNELS` in this process's environment, which every process it starts
    inherits. ATen reads its setting when torch is imported, so call this before that."""
    if "torch" in sys.modules:
        raise RuntimeError(
            "pin_kernels() was called after torch was imported, too late for "
            "ATEN_CPU_CAPABILITY; call it before any import of torch or of a module that "
            "imports torch"
        )
    os.environ.update(PINNED_KERNELS)


class PackageSourceError(RuntimeError):
    """The imported `tracin_study` is not the one in the workflow's checkout."""


def check_package_source(workflow_dir: Path) -> None:
    """Raise `PackageSourceError` unless `tracin_study` is imported from `workflow_dir`/src.

    A virtual environment shared by two clones imports the package of whichever clone was
    installed last (`pip install -e .`), so the workflow of one clone would run the other's
    code. PYTHONPATH=<clone>/src puts this clone's package first and passes the check.
    """
    import tracin_study

    expected = (Path(workflow_dir) / "src" / "tracin_study").resolve()
    imported = Path(tracin_study.__file__).resolve().parent
    if imported != expected:
        raise PackageSourceError(
            f"the workflow in {Path(workflow_dir).resolve()} imports tracin_study from "
            f"{imported}, not from this checkout's {expected} (another clone's package is "
            f"installed in this environment or on PYTHONPATH). Run `pip install -e .` in "
            f"{Path(workflow_dir).resolve()}, or set PYTHONPATH={expected.parent}."
        )


def setup_logging(log_file: Path | None = None) -> None:
    """Log INFO and above to stderr and, when given, to `log_file` (overwritten)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def _git(directory: Path | None, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=directory, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def git_commit(directory: Path | None = None) -> str | None:
    """The commit checked out at `directory`, with "-dirty" if tracked files differ from it
    outside `report/` (the pipeline's own committed output), or None outside git."""
    commit = _git(directory, "rev-parse", "HEAD")
    if not commit:
        return None
    changed = _git(
        directory, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)report"
    )
    return f"{commit}-dirty" if changed else commit


def provenance(config_hash: str | None = None, source_dir: Path | None = None) -> dict:
    """Versions, machine, time and (when known) git commit and `config_hash`
    (`config.config_hash`), as a dict."""
    import numpy
    import pandas
    import sklearn
    import torch

    record = {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(source_dir),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scikit_learn": sklearn.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpu_kernels": {
            "aten": torch.backends.cpu.get_cpu_capability(),
            "mkl_cbwr": os.environ.get("MKL_CBWR"),
        },
        "hostname": platform.node(),
    }
    if config_hash is not None:
        record["config_hash"] = config_hash
    return record


def seconds_since(record: Path) -> float:
    """Seconds from the `created_utc` time stamp in the JSON file `record` to now."""
    created = json.loads(Path(record).read_text())["created_utc"]
    return (datetime.now(UTC) - datetime.fromisoformat(created)).total_seconds()
