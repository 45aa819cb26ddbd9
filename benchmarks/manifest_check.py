"""Time the check every Snakemake invocation makes of the training checkpoints
(`tracin_study.manifest_check.check_manifests`) at the default study's size.

Saves one real checkpoint of the paper-size MLP with Adam's state, copies its two files into
`--runs` training runs of the default config's saved epochs (0, 20, ..., 200: 11 weights
files and 10 Adam-state files each), writes their manifests, then times the check as it is
(sizes) and on the same manifests without sizes (sha256 of every file, the fallback for
manifests written before sizes were recorded). Each time is the fastest of `--repeats`,
interleaved. Prints a table, then a JSON line with the figures, including the training runs
the default config asks for and the time extrapolated to them.

    PYTHONPATH=src .venv/bin/python benchmarks/manifest_check.py [--runs 3]
"""

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch
import yaml

from tracin_study.checkpoints import save_checkpoint, write_manifest
from tracin_study.config import StudySettings
from tracin_study.manifest_check import check_manifests
from tracin_study.model import build_mlp

ROOT = Path(__file__).resolve().parents[1]


def make_runs(folder: Path, n_runs: int, epochs: list[int], hidden: list[int]) -> list[Path]:
    """`n_runs` checkpoint folders of copies of one saved epoch; their manifest paths."""
    model = build_mlp(8, tuple(hidden))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.ones(4, 8)).sum().backward()
    optimizer.step()
    template = save_checkpoint(model, folder / "template.pt", 1, 1, 1e-3, optimizer)
    manifests = []
    for run in range(n_runs):
        out = folder / f"run_{run}"
        out.mkdir()
        saved = []
        for epoch in epochs:
            path = out / f"epoch_{epoch:04d}.pt"
            shutil.copy(template.path, path)
            adam = None
            if epoch > 0:
                adam = path.with_name(f"{path.stem}.adam.pt")
                shutil.copy(template.optimizer_path, adam)
            saved.append(
                type(template)(
                    epoch,
                    epoch,
                    1e-3,
                    path,
                    template.sha256,
                    adam,
                    template.optimizer_sha256 if adam else None,
                )
            )
        write_manifest(out / "manifest.json", 0, {"n_features": 8, "hidden": []}, saved)
        manifests.append(out / "manifest.json")
    return manifests


def without_sizes(manifests: list[Path]) -> list[Path]:
    """Copies of the manifests (next to the originals) with the size keys removed."""
    legacy = []
    for manifest in manifests:
        doc = json.loads(manifest.read_text())
        for entry in doc["checkpoints"]:
            entry.pop("bytes")
            entry.pop("optimizer_bytes", None)
        path = manifest.with_name("legacy_manifest.json")
        path.write_text(json.dumps(doc))
        legacy.append(path)
    return legacy


def timed(fn) -> float:
    """Seconds one call of `fn` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    study = StudySettings.from_config(config)
    epochs = study.training.checkpoint_epochs()
    n_study = sum(len(s) for s in study.recipe_seeds().values())
    n_study += len(study.corruption.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        manifests = make_runs(Path(tmp), args.runs, epochs, list(study.training.hidden))
        legacy = without_sizes(manifests)
        megabytes = sum(p.stat().st_size for p in Path(tmp).rglob("run_*/*.pt")) / 1e6
        sizes, hashes = [], []
        for _ in range(args.repeats):  # interleaved: the machine may be shared
            sizes.append(timed(lambda: check_manifests(manifests)))
            hashes.append(timed(lambda: check_manifests(legacy)))
    figures = {
        "runs": args.runs,
        "files_per_run": len(epochs) * 2 - 1,
        "megabytes": round(megabytes, 1),
        "sizes_ms": round(min(sizes) * 1e3, 2),
        "sha256_ms": round(min(hashes) * 1e3, 1),
        "sha256_over_sizes": round(min(hashes) / min(sizes), 1),
        "study_runs": n_study,
        "study_sizes_ms": round(min(sizes) * 1e3 * n_study / args.runs, 1),
        "study_sha256_s": round(min(hashes) * n_study / args.runs, 2),
    }
    print(f"{args.runs} training runs, {figures['files_per_run']} files each, {megabytes:.0f} MB")
    print(f"  sizes (as the manifest records them): {figures['sizes_ms']:8.2f} ms")
    print(f"  sha256 (manifests without sizes):     {figures['sha256_ms']:8.1f} ms")
    print(
        f"the default study's {n_study} training runs: ~{figures['study_sizes_ms']} ms by "
        f"sizes, ~{figures['study_sha256_s']} s by sha256"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
