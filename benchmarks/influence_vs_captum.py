"""Time our factored TracInCP against captum's on the paper-size model, side by side.

Builds the 168,961-parameter MLP, trains it briefly with Adam on synthetic housing-like data
(standard normal features, a nonlinear target), saving 10 checkpoints, then computes the
self-influence of every training point and the influence of 11 test points on every training
point with both implementations, and the floor: float32 forward and backward passes alone
over all training points at every checkpoint, interleaved with the float32 engine (fastest
of `--repeats`). Times are CPU seconds of this process. Prints a table, then a JSON line
with the figures.

    PYTHONPATH=src .venv/bin/python benchmarks/influence_vs_captum.py [--threads 1]
"""

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from captum.influence import TracInCP as CaptumTracInCP
from memory import bare_torch_rss_mb, peak_rss_mb
from synthetic import argument_parser, make_data, train_checkpoints
from torch import nn
from torch.utils.data import TensorDataset

from tracin_study.checkpoints import load_checkpoint
from tracin_study.influence import TracInCP
from tracin_study.model import build_mlp, count_parameters


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--captum-batch", type=int, default=512, help="captum batch size")
    parser.add_argument("--repeats", type=int, default=3, help="runs per floor time (fastest)")
    return parser.parse_args()


def timed(fn):
    """fn()'s result and the CPU seconds of this process it took."""
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def passes_floor(checkpoints, X, y, batch_size: int) -> None:
    """float32 forward and backward passes alone (autograd, summed squared error, no
    influence arithmetic) over all of X at each checkpoint, in the engine's batches."""
    net = build_mlp()
    for ckpt in checkpoints:
        load_checkpoint(ckpt, net)
        for lo in range(0, len(X), batch_size):
            net.zero_grad(set_to_none=True)
            out = net(X[lo : lo + batch_size]).squeeze(1)
            (out - y[lo : lo + batch_size]).square().sum().backward()


def rel_error(actual: np.ndarray, reference: np.ndarray) -> float:
    """Largest absolute difference over the largest |reference|."""
    return float(np.abs(actual - reference).max() / np.abs(reference).max())


def main() -> None:
    args = parse_args()
    rss_imports = peak_rss_mb()  # torch, captum, tracin_study and their imports
    torch.set_num_threads(args.threads)
    X, y = make_data(args.n_train + args.n_test, args.seed)
    X_train, y_train = X[: args.n_train], y[: args.n_train]
    X_test, y_test = X[args.n_train :], y[args.n_train :]

    with tempfile.TemporaryDirectory() as tmp:
        model, checkpoints = train_checkpoints(
            X_train, y_train, args.checkpoints, Path(tmp), args.seed, decay=0.8
        )

        fast = TracInCP(model, checkpoints, progress=False, dtype=torch.float32)
        floors, runs32 = [], []
        for _ in range(args.repeats):  # interleaved, so a busy spell hits both alike
            floors.append(timed(lambda: passes_floor(checkpoints, X_train, y_train, 1024))[1])
            result32, t = timed(lambda: fast.compute(X_train, y_train, X_test, y_test))
            runs32.append(t)
        t_floor, t_ours32 = min(floors), min(runs32)
        rss_ours = peak_rss_mb()  # float32 engine and floor only: before float64 and captum
        ours = TracInCP(model, checkpoints, progress=False)
        result, t_ours = timed(lambda: ours.compute(X_train, y_train, X_test, y_test))
        _, t_ours_self = timed(lambda: ours.self_influence(X_train, y_train))
        _, t_ours_infl = timed(lambda: ours.influence(X_train, y_train, X_test, y_test))

        learning_rates = {str(c.path): c.learning_rate for c in checkpoints}

        def load(net, path):
            net.load_state_dict(torch.load(path, weights_only=True))
            return learning_rates[path]

        captum = CaptumTracInCP(
            model,
            TensorDataset(X_train, y_train[:, None]),
            list(learning_rates),
            checkpoints_load_func=load,
            loss_fn=nn.MSELoss(reduction="sum"),
            batch_size=args.captum_batch,
            sample_wise_grads_per_batch=True,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "did not require gradients"
            self_captum, t_captum_self = timed(
                lambda: captum.self_influence(outer_loop_by_checkpoints=True)
            )
            infl_captum, t_captum_infl = timed(
                lambda: captum.influence((X_test, y_test[:, None]), k=None)
            )

    err_self = rel_error(result.self_influence.sum(0), self_captum.double().numpy())
    err_infl = rel_error(result.influence.sum(0), infl_captum.double().numpy())
    t_captum = t_captum_self + t_captum_infl
    err32 = max(
        rel_error(result32.self_influence.sum(0), self_captum.double().numpy()),
        rel_error(result32.influence.sum(0), infl_captum.double().numpy()),
    )
    err32_vs64 = max(
        rel_error(result32.self_influence.sum(0), result.self_influence.sum(0)),
        rel_error(result32.influence.sum(0), result.influence.sum(0)),
    )
    rss_bare = bare_torch_rss_mb()
    figures = {
        "n_parameters": count_parameters(model),
        "n_train": args.n_train,
        "n_test": args.n_test,
        "n_checkpoints": len(checkpoints),
        "threads": args.threads,
        "mode": "float32 passes and within-layer dot products; float64 norms and all sums",
        "ours_seconds": round(t_ours32, 3),
        "floor_seconds": round(t_floor, 3),
        "ours_over_floor": round(t_ours32 / t_floor, 3),
        "max_rel_error_vs_float64": err32_vs64,
        "captum_self_seconds": round(t_captum_self, 3),
        "captum_influence_seconds": round(t_captum_infl, 3),
        "captum_seconds": round(t_captum, 3),
        "speedup": round(t_captum / t_ours32, 1),
        "max_rel_error": err32,
        "ours_float64_seconds": round(t_ours, 3),
        "ours_float64_self_only_seconds": round(t_ours_self, 3),
        "ours_float64_influence_only_seconds": round(t_ours_infl, 3),
        "speedup_float64": round(t_captum / t_ours, 1),
        "max_rel_error_float64": max(err_self, err_infl),
        "peak_rss_ours_mb": round(rss_ours, 1),
        "bare_torch_rss_mb": round(rss_bare, 1),
        "imports_rss_mb": round(rss_imports, 1),
        "peak_rss_ours_over_bare": round(rss_ours / rss_bare, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(
        f"TracInCP, {figures['n_parameters']:,} parameters, {len(checkpoints)} checkpoints, "
        f"{args.n_train:,} training x {args.n_test} test points, {args.threads} thread(s)\n"
        f"{'part':<44}{'seconds':>10}{'speedup':>10}\n"
        f"{'captum: self-influence':<44}{t_captum_self:>10.2f}\n"
        f"{'captum: influence of the test points':<44}{t_captum_infl:>10.2f}\n"
        f"{'captum: both':<44}{t_captum:>10.2f}{1:>9.1f}x\n"
        f"{'ours, float64: self-influence only':<44}{t_ours_self:>10.2f}\n"
        f"{'ours, float64: influence only':<44}{t_ours_infl:>10.2f}\n"
        f"{'ours, float64: both in one pass':<44}{t_ours:>10.2f}"
        f"{figures['speedup_float64']:>9.1f}x\n"
        f"{'ours, float32 passes: both in one pass':<44}{t_ours32:>10.2f}"
        f"{figures['speedup']:>9.1f}x\n"
        f"{'floor: float32 forward + backward only':<44}{t_floor:>10.2f}"
        f"   ours float32 / floor {t_ours32 / t_floor:.2f}x\n"
        f"float32 passes against float64, max |32 - 64| / max |64|: {err32_vs64:.2e}\n"
        f"max relative error against captum, |ours - captum| / max |ours| over both outputs: "
        f"float64 {figures['max_rel_error_float64']:.2e}, float32 passes {err32:.2e} "
        f"(captum computes in float32)\n"
        f"peak RSS: {rss_ours:.0f} MB after ours in float32 ({rss_ours / rss_bare:.2f}x a bare "
        f"`import torch` process, {rss_bare:.0f} MB; {rss_imports:.0f} MB after the imports), "
        f"{figures['peak_rss_mb']:.0f} MB overall "
        f"(captum runs last)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
