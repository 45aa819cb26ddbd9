"""Time the Adam-preconditioned test x train term against its multiply-add floor.

On the paper-size MLP (168,961 parameters), trained briefly with Adam on synthetic data and
saving checkpoints with Adam's state, for N = 16,512 training and M = 100 test points
(the LDS's query houses), float64 as in the LDS step, one thread by default:

- the term's seconds per checkpoint: the engine's `compute` with the test points minus
  `compute` without them (self-influence only), fastest of `--repeats` interleaved runs;
- its floor: the N x M x P multiply-adds the contraction needs (it has no rank-one
  shortcut), at the rate of one 2048 x 2048 x 2048 matrix product timed in the same run;
- the peak resident memory of this process, beside that of a bare `import torch` process.

Prints a table, then a JSON line with the figures.

    PYTHONPATH=src .venv/bin/python benchmarks/adam_preconditioned.py [--threads 1]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from memory import bare_torch_rss_mb, peak_rss_mb
from synthetic import argument_parser, make_data, train_checkpoints

from tracin_study.influence import TracInCP
from tracin_study.model import count_parameters

GEMM_SIDE = 2048


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__.splitlines()[0])
    parser.set_defaults(n_test=100, checkpoints=2)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=4096,
        help="engine batch size (config influence.batch_size)",
    )
    parser.add_argument("--repeats", type=int, default=2, help="runs per time (fastest)")
    return parser.parse_args()


def timed(fn) -> float:
    """CPU seconds of this process spent in fn()."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def gemm_rate(dtype: torch.dtype) -> float:
    """Multiply-adds per CPU second of one GEMM_SIDE^3 matrix product in `dtype`."""
    a = torch.randn(GEMM_SIDE, GEMM_SIDE, dtype=dtype)
    b = torch.randn(GEMM_SIDE, GEMM_SIDE, dtype=dtype)
    a @ b  # warm-up
    return GEMM_SIDE**3 / min(timed(lambda: a @ b) for _ in range(3))


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    X, y = make_data(args.n_train + args.n_test, args.seed)
    X_train, y_train = X[: args.n_train], y[: args.n_train]
    X_test, y_test = X[args.n_train :], y[args.n_train :]
    k, m, n = args.checkpoints, args.n_test, args.n_train
    with tempfile.TemporaryDirectory() as tmp:
        model, checkpoints = train_checkpoints(X_train, y_train, k, Path(tmp), args.seed)
        engine = TracInCP(
            model, checkpoints, batch_size=args.batch_size, progress=False, preconditioner="adam"
        )
        runs = {"self": [], "both": [], "rate": []}
        for _ in range(args.repeats):  # interleaved, so a busy spell hits each alike
            runs["self"].append(timed(lambda: engine.compute(X_train, y_train)))
            runs["both"].append(timed(lambda: engine.compute(X_train, y_train, X_test, y_test)))
            runs["rate"].append(gemm_rate(torch.float64))
    rss = peak_rss_mb()
    n_params = count_parameters(model)
    rate = max(runs["rate"])
    term = max(min(runs["both"]) - min(runs["self"]), 0.0) / k
    floor = n * m * n_params / rate
    bare = bare_torch_rss_mb()
    figures = {
        "n_parameters": n_params,
        "n_train": n,
        "n_test": m,
        "n_checkpoints": k,
        "threads": args.threads,
        "repeats": args.repeats,
        "dtype": "float64",
        "term_seconds_per_checkpoint": round(term, 2),
        "floor_seconds_per_checkpoint": round(floor, 2),
        "term_over_floor": round(term / floor, 3),
        "gemm_gflops": round(2 * rate / 1e9, 1),
        "self_seconds_per_checkpoint": round(min(runs["self"]) / k, 2),
        "peak_rss_mb": round(rss, 1),
        "bare_torch_rss_mb": round(bare, 1),
    }
    print(
        f"Adam-preconditioned test x train term, {n_params:,} parameters, {n:,} training x "
        f"{m} test points, {k} checkpoints, {args.threads} thread(s), float64\n"
        f"{'per checkpoint':<58}{'seconds':>9}\n"
        f"{'  floor: N x M x P multiply-adds at the GEMM rate':<58}{floor:>9.2f}\n"
        f"{'  the term (compute with test points - without)':<58}{term:>9.2f}"
        f"  ({term / floor:.2f}x floor)\n"
        f"{'  self-influence alone, for scale':<58}{figures['self_seconds_per_checkpoint']:>9.2f}\n"
        f"GEMM rate {figures['gemm_gflops']} GFLOP/s ({GEMM_SIDE}^3, float64); peak RSS "
        f"{rss:.0f} MB (a bare `import torch` process: {bare:.0f} MB)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
