"""Per-step job times and peak memory of a pipeline run, from the rules' benchmark files.

    python benchmarks/stage_times.py [results/benchmarks]

Prints one row per step: jobs, summed job wall time and CPU time, the longest job and the
largest peak RSS. Jobs of a step run side by side, so summed seconds exceed the step's share of the
run's wall time.
"""

import sys
from pathlib import Path

import pandas as pd


def stage_times(folder: Path) -> pd.DataFrame:
    """One row per step (a benchmark file, or a folder of them): jobs, summed and longest
    job wall time (s), summed CPU time (s), largest peak RSS (MB)."""
    rows = []
    for tsv in sorted(folder.rglob("*.tsv")):
        step = tsv.relative_to(folder).parts[0].removesuffix(".tsv")
        table = pd.read_csv(tsv, sep="\t")
        first = table.iloc[0]
        rows.append({"step": step, "s": first["s"], "cpu_s": first["cpu_time"]})
        rows[-1]["max_rss"] = first["max_rss"]
    jobs = pd.DataFrame(rows, columns=["step", "s", "cpu_s", "max_rss"])
    return jobs.groupby("step", sort=False).agg(
        jobs=("s", "size"),
        summed_s=("s", "sum"),
        longest_s=("s", "max"),
        summed_cpu_s=("cpu_s", "sum"),
        peak_rss_mb=("max_rss", "max"),
    )


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/benchmarks")
    if not folder.is_dir():
        sys.exit(f"{folder} is not a folder of benchmark files; run the pipeline first")
    table = stage_times(folder)
    if table.empty:
        sys.exit(f"{folder} holds no benchmark files yet")
    print(table.round(1).to_string())
    print(
        f"all jobs: {table['summed_s'].sum() / 60:.1f} min of job time, "
        f"{table['summed_cpu_s'].sum() / 60:.1f} min of CPU time"
    )
