"""The checkpoint files of finished training runs against their manifest.json, without
reading a weight: what every Snakemake invocation checks before it plans any job.

Snakemake notices a missing declared output, but not a file whose size changed, nor a file
inside a `directory()` output. The Snakefile therefore compares each manifest's files with
the sizes it records (`bytes`, `optimizer_bytes`; a manifest written before sizes were
recorded is compared by its sha256 instead) and stops naming the damaged files and the fix.
Plain Python (hashlib, json, pathlib): the Snakefile imports it while it is parsed.
"""

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

# (file key, sha256 key, size key) of a manifest entry: the weights, and Adam's state
FILE_KEYS = (("file", "sha256", "bytes"), ("optimizer_file", "optimizer_sha256", "optimizer_bytes"))


class DamagedCheckpointsError(ValueError):
    """Checkpoint files that differ from their manifest: the training run must be redone."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def damaged_files(manifest: Path) -> list[str]:
    """What differs from the manifest at `manifest`, one line per file: a listed file that is
    missing, or whose size (or, without a recorded size, sha256) differs; or the manifest
    itself when it is not valid JSON. [] when all match, or when the manifest does not exist
    (Snakemake plans a run whose declared manifest is missing)."""
    manifest = Path(manifest)
    if not manifest.is_file():
        return []
    try:
        entries = json.loads(manifest.read_text())["checkpoints"]
    except (ValueError, KeyError, TypeError) as err:
        return [f"{manifest} cannot be read as a manifest ({type(err).__name__}: {err})"]
    found = []
    for entry in entries:
        for file_key, sha_key, size_key in FILE_KEYS:
            if entry.get(file_key) is None:
                continue
            path = manifest.parent / entry[file_key]
            if not path.is_file():
                found.append(f"{path} is missing")
            elif size_key in entry and path.stat().st_size != entry[size_key]:
                found.append(
                    f"{path} has {path.stat().st_size} bytes, the manifest says {entry[size_key]}"
                )
            elif size_key not in entry and sha256_file(path) != entry[sha_key]:
                found.append(f"{path} has another sha256 than the manifest says")
    return found


def check_manifests(manifests: Iterable[Path]) -> None:
    """Raise `DamagedCheckpointsError` listing every damaged file of the `manifests` (each a
    manifest.json path) with the fix: delete the folder, so that its run is planned again."""
    damaged = {Path(m).parent: damaged_files(m) for m in manifests}
    damaged = {folder: lines for folder, lines in damaged.items() if lines}
    if damaged:
        lines = [f"  {line}" for found in damaged.values() for line in found]
        folders = " ".join(str(f) for f in damaged)
        raise DamagedCheckpointsError(
            "checkpoint files differ from their manifest.json (damaged after training):\n"
            + "\n".join(lines)
            + f"\nDelete the damaged folders (rm -r {folders}) and run the same command again: "
            "their training, and the steps that read it, are then planned again."
        )
