"""Logging set-up for pipeline scripts and the provenance recorded next to every result."""

import hashlib
import json
import logging
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path


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


def config_hash(config: dict) -> str:
    """Short sha256 of the config, stable under key order."""
    blob = json.dumps(config, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def provenance(config: dict | None = None, source_dir: Path | None = None) -> dict:
    """Versions, machine, time and (when known) git commit and config hash, as a dict."""
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
        "hostname": platform.node(),
    }
    if config is not None:
        record["config_hash"] = config_hash(config)
    return record


def seconds_since(record: Path) -> float:
    """Seconds from the `created_utc` time stamp in the JSON file `record` to now."""
    created = json.loads(Path(record).read_text())["created_utc"]
    return (datetime.now(UTC) - datetime.fromisoformat(created)).total_seconds()
