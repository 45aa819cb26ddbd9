"""Cost of pinning the CPU kernels (MKL_CBWR=AVX2, ATEN_CPU_CAPABILITY=avx2) in training time.

Trains the default model (config/config.yaml recipe) for a few epochs on 1 thread, in separate
processes alternating between the default environment (A) and the pinned one (B), and prints
wall and CPU seconds per epoch, the B/A ratios of their medians and whether the final weights
agree. CPU time is the steadier measure on a machine shared with other jobs.

    PYTHONPATH=src python benchmarks/pinned_kernels.py --epochs 10 --repeats 3
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINNED = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def train_once(epochs: int) -> dict:
    """Train the default model for `epochs` epochs on 1 thread: wall and CPU seconds per
    epoch and the sha256 of the last checkpoint."""
    import time

    import torch
    import yaml

    from tracin_study import data
    from tracin_study.config import training_config
    from tracin_study.training import train

    torch.set_num_threads(1)
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    config["training"]["epochs"] = epochs
    train_table, test_table, scaler = data.split_tables(data.read_snapshot(), 0.2, 2020)
    p = data.PreparedData(train_table, test_table, scaler["mean"], scaler["scale"])
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu_start = time.perf_counter(), time.process_time()
        train(p.X_train, p.y_train, p.X_test, p.y_test, training_config(config), 0, Path(tmp))
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        manifest = json.loads((Path(tmp) / "manifest.json").read_text())
    return {
        "seconds_per_epoch": seconds / epochs,
        "cpu_seconds_per_epoch": cpu_seconds / epochs,
        "final_sha256": manifest["checkpoints"][-1]["sha256"],
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def run_child(epochs: int, pinned: bool) -> dict:
    """`train_once` in a fresh process, with or without the pinned kernels."""
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    if pinned:
        env.update(PINNED)
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--epochs", str(epochs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(train_once(args.epochs)))
        return
    runs = {"default": [], "pinned": []}
    for i in range(args.repeats):
        for label in ("default", "pinned"):
            result = run_child(args.epochs, label == "pinned")
            runs[label].append(result)
            print(f"run {i + 1} {label:8s} {json.dumps(result)}", flush=True)
    for measure in ("seconds_per_epoch", "cpu_seconds_per_epoch"):
        median = {k: statistics.median(r[measure] for r in v) for k, v in runs.items()}
        ratio = median["pinned"] / median["default"]
        print(
            f"median {measure}: default {median['default']:.3f}, pinned "
            f"{median['pinned']:.3f}, ratio pinned/default {ratio:.3f}"
        )
    hashes = {k: {r["final_sha256"] for r in v} for k, v in runs.items()}
    same = {k: len(v) == 1 for k, v in hashes.items()}
    print(f"same weights run to run: default {same['default']}, pinned {same['pinned']}")
    print(f"weights differ between default and pinned: {hashes['default'] != hashes['pinned']}")


if __name__ == "__main__":
    main()
