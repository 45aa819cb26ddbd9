"""The README's usage example runs against the smoke run's results and prints the scores
the pipeline stored.

The example reads `results/default/...` and sums over the paper's epochs; here its
results root becomes the smoke run's and its epochs the smoke config's.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
ROOT_LINE = 'results = Path("results") / "default"'
EPOCHS_LINE = re.compile(r"^epochs = range\(20, 201, 20\).*$", re.M)


def readme_example() -> str:
    """The README's python code block that starts from the results folder."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
    found = [b for b in blocks if ROOT_LINE in b]
    assert len(found) == 1, f"README.md needs one python block with `{ROOT_LINE}`"
    return found[0]


def adapted(code: str, results: Path, epochs: list[int]) -> str:
    """`code` reading `results` (the folder holding data/, seed_0/...) and summing over
    `epochs`; each replaced line must occur exactly once."""
    assert code.count(ROOT_LINE) == 1, f"README example: `{ROOT_LINE}` must occur once"
    assert len(EPOCHS_LINE.findall(code)) == 1, "README example: one `epochs = range(...)` line"
    code = code.replace(ROOT_LINE, f"results = Path({str(results)!r})")
    return EPOCHS_LINE.sub(f"epochs = {epochs!r}", code)


def run_example(results: Path, epochs: list[int]) -> str:
    """Run the adapted example in a fresh interpreter; returns its stdout."""
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    code = adapted(readme_example(), results, epochs)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, f"README example failed:\n{done.stderr[-3000:]}"
    return done.stdout


def test_readme_example_prints_the_pipelines_scores(smoke_run):
    manifests = sorted(smoke_run.glob("**/default/seed_0/checkpoints/manifest.json"))
    assert manifests, f"no default/seed_0/checkpoints/manifest.json under {smoke_run}"
    results = manifests[0].parents[2]
    epochs = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())["influence"]["epochs"]

    out = run_example(results, epochs)

    stored = pd.read_parquet(results / "seed_0/self_influence.parquet")
    top = stored.sort_values("self_influence", ascending=False)["train_index"].head(5)
    printed = re.search(r"highest self-influence: \[([\d,\s]+)\]", out)
    assert printed, f"README example printed no self-influence ranking:\n{out}"
    assert np.array_equal(np.array(printed.group(1).split(","), dtype=int), top.to_numpy())

    house = int(pd.read_csv(results / "palo_alto_test_points.csv")["test_index"].iloc[0])
    assert f"test house {house}, price" in out
    assert out.count("proponent") == 5 and out.count("opponent") <= 5
