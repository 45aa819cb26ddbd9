"""Time Adam-preconditioned TracInCP against the raw engine and against two floors.

On the paper-size MLP (168,961 parameters), trained briefly with Adam on synthetic data and
saving 10 checkpoints with Adam's state, for N training and M test points:

- self-influence, raw and preconditioned, against a bare loop doing the same forward and
  backward passes (autograd, summed loss) over the training data at each checkpoint;
- the test x train term (time of self + influence minus self alone), per test house and
  checkpoint, against one matrix multiply with N x P multiply-adds ((N, 512) @ (512, P/512)).

All in float64, one thread by default; each self-influence and floor time is the fastest of
`--repeats` runs, interleaved (the machine may be shared). Prints a table, then a JSON line
with the figures.

    PYTHONPATH=src .venv/bin/python benchmarks/adam_preconditioned.py [--threads 1]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from synthetic import argument_parser, make_data, train_checkpoints

from tracin_study.checkpoints import load_checkpoint
from tracin_study.influence import TracInCP
from tracin_study.model import build_mlp, count_parameters


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=1024, help="engine batch size")
    parser.add_argument("--repeats", type=int, default=3, help="runs per self-influence time")
    return parser.parse_args()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def passes_floor(model, checkpoints, X, y, batch_size: int) -> None:
    """Forward and backward (autograd, summed squared error) over X at each checkpoint."""
    net = build_mlp().double()
    X, y = X.double(), y.double()
    for ckpt in checkpoints:
        load_checkpoint(ckpt, net)
        for lo in range(0, len(X), batch_size):
            net.zero_grad(set_to_none=True)
            out = net(X[lo : lo + batch_size]).squeeze(1)
            (out - y[lo : lo + batch_size]).square().sum().backward()


def matmul_floor(n: int, n_params: int) -> float:
    """Seconds of one float64 (n, 512) @ (512, ceil(P / 512)) product: n x P multiply-adds."""
    a = torch.randn(n, 512, dtype=torch.float64)
    b = torch.randn(512, -(-n_params // 512), dtype=torch.float64)
    a @ b  # warm-up
    return min(timed(lambda: a @ b) for _ in range(3))


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    X, y = make_data(args.n_train + args.n_test, args.seed)
    X_train, y_train = X[: args.n_train], y[: args.n_train]
    X_test, y_test = X[args.n_train :], y[args.n_train :]
    k, m = args.checkpoints, args.n_test
    with tempfile.TemporaryDirectory() as tmp:
        model, checkpoints = train_checkpoints(X_train, y_train, k, Path(tmp), args.seed)
        engines = {
            name: TracInCP(
                model,
                checkpoints,
                batch_size=args.batch_size,
                progress=False,
                preconditioner=name,
            )
            for name in ("none", "adam")
        }
        runs = {"floor": [], "none_self": [], "adam_self": []}
        for _ in range(args.repeats):
            runs["floor"].append(
                timed(lambda: passes_floor(model, checkpoints, X_train, y_train, args.batch_size))
            )
            for name, engine in engines.items():
                runs[f"{name}_self"].append(timed(lambda e=engine: e.compute(X_train, y_train)))
        seconds = {key: min(values) for key, values in runs.items()}
        floor = seconds["floor"]
        for name, engine in engines.items():
            both = timed(lambda e=engine: e.compute(X_train, y_train, X_test, y_test))
            seconds[f"{name}_influence"] = max(both - seconds[f"{name}_self"], 0.0)
    n_params = count_parameters(model)
    matmul = matmul_floor(args.n_train, n_params)
    per_house = {name: seconds[f"{name}_influence"] / (m * k) for name in engines}
    figures = {
        "n_parameters": n_params,
        "n_train": args.n_train,
        "n_test": m,
        "n_checkpoints": k,
        "threads": args.threads,
        "repeats": args.repeats,
        "dtype": "float64",
        "floor_passes_seconds": round(floor, 3),
        "raw_self_seconds": round(seconds["none_self"], 3),
        "adam_self_seconds": round(seconds["adam_self"], 3),
        "adam_over_raw_self": round(seconds["adam_self"] / seconds["none_self"], 2),
        "adam_self_over_floor": round(seconds["adam_self"] / floor, 2),
        "raw_influence_seconds": round(seconds["none_influence"], 3),
        "adam_influence_seconds": round(seconds["adam_influence"], 3),
        "floor_matmul_seconds": round(matmul, 4),
        "raw_influence_per_house_checkpoint_seconds": round(per_house["none"], 4),
        "adam_influence_per_house_checkpoint_seconds": round(per_house["adam"], 4),
        "adam_influence_per_house_over_matmul": round(per_house["adam"] / matmul, 2),
    }
    print(
        f"Adam-preconditioned TracInCP, {n_params:,} parameters, {k} checkpoints, "
        f"{args.n_train:,} training x {m} test points, {args.threads} thread(s), float64\n"
        f"{'self-influence (all N, all checkpoints)':<52}{'seconds':>10}{'vs floor':>10}\n"
        f"{'  floor: forward + backward passes only':<52}{floor:>10.2f}{1:>9.2f}x\n"
        f"{'  raw engine':<52}{seconds['none_self']:>10.2f}"
        f"{seconds['none_self'] / floor:>9.2f}x\n"
        f"{'  Adam-preconditioned':<52}{seconds['adam_self']:>10.2f}"
        f"{figures['adam_self_over_floor']:>9.2f}x"
        f"   ({figures['adam_over_raw_self']:.2f}x raw)\n"
        f"{'test x train, per test house and checkpoint':<52}{'seconds':>10}{'vs matmul':>10}\n"
        f"{'  floor: one N x P matmul':<52}{matmul:>10.4f}{1:>9.2f}x\n"
        f"{'  raw engine':<52}{per_house['none']:>10.4f}{per_house['none'] / matmul:>9.2f}x\n"
        f"{'  Adam-preconditioned':<52}{per_house['adam']:>10.4f}"
        f"{figures['adam_influence_per_house_over_matmul']:>9.2f}x\n"
        f"(test x train totals: raw {seconds['none_influence']:.2f} s, "
        f"Adam {seconds['adam_influence']:.2f} s for {m} houses x {k} checkpoints)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
