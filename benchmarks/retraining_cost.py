"""Cost of one counterfactual retraining against its floor, and against the previous loop.

    python benchmarks/retraining_cost.py [--timed-epochs 20] [--repeats 3] [--noise]

On one thread, on the shipped data snapshot (8:2 split, seed 2020), seed 0, fixed order,
50 random training houses removed (`experiments.removal.random_houses`), for the closest
recipe (min-max features, 20 epochs) and the default recipe (standardised, 200 epochs):

- `fit`: `tracin_study.training.fit`, the study's trainer;
- `previous`: `reference_fit` below, the loop `fit` was before it was brought to its
  floor (`loss.item()` at every step, indexing per batch), with `fit`'s fused Adam step so
  that the two loops can be compared bit for bit;
- floor: the forward and backward passes alone (no optimizer step, no indexing; the
  batches gathered before the clock starts) over the very batches `fit` sees.

Each is timed over `--timed-epochs` epochs (default 20) and scaled to the recipe's epochs
(x10 for the default recipe), in CPU seconds of this process, the fastest of `--repeats`
interleaved runs (the machine may be shared), after one warm-up epoch of each. Then a
torch.profiler table of one epoch of `fit` (where a step's time goes) and a JSON line with
the figures. `fit` and `previous` are also checked to give the same weights bit for bit.
One Adam step is also timed alone, `fused` (as `fit`) against `foreach` (as `fit` had it
before issue 28; not the same arithmetic).
`--noise` adds the old study of the protocols' noise: 4 random
sets of 50 houses removed from the default model of seed 0 trained for 20 epochs, under
each protocol, and the sd, min and max of the change of the summed loss of the 11 Palo
Alto test houses, relative to the reference model's.
"""

import argparse
import json
import math
import time
from dataclasses import replace

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from tracin_study import data
from tracin_study.config import PROTOCOLS, TrainingSettings
from tracin_study.experiments.removal import random_houses
from tracin_study.geo import nearest_houses
from tracin_study.model import build_mlp
from tracin_study.training import TrainingError, fit, house_losses, retrain_without

PALO_ALTO = (37.4419, -122.1430, 11)
SET_SIZE, DRAWS, NOISE_EPOCHS = 50, 4, 20
RECIPES = {"closest": ("minmax", 20), "default": ("standardised", 200)}


def prepared_data(preprocessing: str) -> data.PreparedData:
    """The default split of the shipped snapshot, scaled by `preprocessing`."""
    train, test, scaler = data.split_tables(
        data.read_snapshot(), 0.2, 2020, "random", preprocessing
    )
    return data.PreparedData(
        train, test, np.asarray(scaler["mean"]), np.asarray(scaler["scale"]), preprocessing
    )


def training_settings(epochs: int) -> TrainingSettings:
    """The default recipe's training settings at `epochs` epochs."""
    return TrainingSettings(
        hidden=(512, 256, 128),
        epochs=epochs,
        batch_size=256,
        learning_rate=0.001,
        checkpoint_every=epochs,
    )


def reference_fit(X_train, y_train, config: TrainingSettings, seed: int, removed=None):
    """The training loop as it was before it was brought to its floor (without the
    `after_epoch` hook, which the benchmark does not use): the final model."""
    torch.use_deterministic_algorithms(True)
    X = torch.as_tensor(np.asarray(X_train, dtype=np.float32))
    y = torch.as_tensor(np.asarray(y_train, dtype=np.float32)).reshape(-1)
    n = len(X)
    keep = None
    if removed is not None:
        keep = torch.ones(n, dtype=torch.bool)
        keep[torch.as_tensor(np.asarray(removed, dtype=np.int64))] = False
    torch.manual_seed(seed)
    model = build_mlp(X.shape[1], config.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, fused=True)
    batch_order = torch.Generator().manual_seed(seed)
    for epoch in range(1, config.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=batch_order)
        total = 0.0
        for i in range(0, n, config.batch_size):
            idx = perm[i : i + config.batch_size]
            optimizer.zero_grad(set_to_none=True)
            if keep is None or bool(keep[idx].all()):
                loss = torch.mean((model(X[idx]).squeeze(1) - y[idx]) ** 2)
            else:
                kept = idx[keep[idx]]
                loss = torch.sum((model(X[kept]).squeeze(1) - y[kept]) ** 2) / len(idx)
            if not math.isfinite(loss.item()):
                raise TrainingError(f"loss {loss.item()} at epoch {epoch}")
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
    return model


def floor_batches(X_train, y_train, config: TrainingSettings, seed: int, removed):
    """The batches `fit` trains on, gathered: [(x (b', F), y (b'), b)] with b' kept houses
    of a batch of b."""
    X = torch.as_tensor(np.asarray(X_train, dtype=np.float32))
    y = torch.as_tensor(np.asarray(y_train, dtype=np.float32)).reshape(-1)
    keep = torch.ones(len(X), dtype=torch.bool)
    keep[torch.as_tensor(np.asarray(removed, dtype=np.int64))] = False
    batch_order = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(config.epochs):
        perm = torch.randperm(len(X), generator=batch_order)
        for i in range(0, len(X), config.batch_size):
            idx = perm[i : i + config.batch_size]
            kept = idx[keep[idx]]
            batches.append((X[kept].clone(), y[kept].clone(), len(idx)))
    return batches


def floor(batches, n_features: int, config: TrainingSettings, seed: int) -> None:
    """Forward and backward passes alone over `batches` (the model's weights stay put)."""
    torch.manual_seed(seed)
    model = build_mlp(n_features, config.hidden)
    for x, y, b in batches:
        model.zero_grad(set_to_none=True)
        (torch.sum((model(x).squeeze(1) - y) ** 2) / b).backward()


def timed(fn) -> float:
    """CPU seconds of this process spent in fn() (one thread: its cost, not its waits)."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def measure(prepared, epochs: int, timed_epochs: int, repeats: int) -> dict:
    """Seconds per retraining of `fit`, `previous` and the floor, scaled to `epochs`."""
    config = training_settings(timed_epochs)
    X, y = prepared.X_train, prepared.y_train
    removed = random_houses(len(prepared.train), SET_SIZE, 0, 0, 0)
    batches = floor_batches(X, y, config, 0, removed)
    runs = {
        "fit": lambda: fit(X, y, config, 0, removed=removed),
        "previous": lambda: reference_fit(X, y, config, 0, removed=removed),
        "floor": lambda: floor(batches, X.shape[1], config, 0),
    }
    short = replace(config, epochs=1)
    fit(X, y, short, 0, removed=removed)  # warm-up
    reference_fit(X, y, short, 0, removed=removed)
    times = {name: [] for name in runs}
    for _ in range(repeats):  # interleaved, so a busy spell hits every variant
        for name, run in runs.items():
            times[name].append(timed(run))
    best = {name: min(values) for name, values in times.items()}
    scale = epochs / timed_epochs
    new = fit(X, y, config, 0, removed=removed)[0]
    old = reference_fit(X, y, config, 0, removed=removed)
    same = all(torch.equal(p, q) for p, q in zip(new.parameters(), old.parameters(), strict=True))
    return {
        "epochs": epochs,
        "timed_epochs": timed_epochs,
        "steps_timed": len(batches),
        "fit_seconds": round(best["fit"] * scale, 2),
        "previous_seconds": round(best["previous"] * scale, 2),
        "floor_seconds": round(best["floor"] * scale, 2),
        "fit_over_floor": round(best["fit"] / best["floor"], 3),
        "speedup_over_previous": round(best["previous"] / best["fit"], 3),
        "fit_ms_per_step": round(1000 * best["fit"] / len(batches), 3),
        "floor_ms_per_step": round(1000 * best["floor"] / len(batches), 3),
        "bit_identical_to_previous": same,
    }


def adam_step_ms(options: dict, steps: int = 200) -> float:
    """CPU milliseconds of one Adam step (`options`: foreach or fused) on the paper-size
    MLP with random gradients, fastest of 3 runs of `steps` steps."""
    torch.manual_seed(0)
    model = build_mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **options)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    optimizer.step()  # warm-up; creates the state

    def run():
        for _ in range(steps):
            optimizer.step()

    return 1000 * min(timed(run) for _ in range(3)) / steps


def profile_table(prepared) -> str:
    """torch.profiler's table of one epoch of `fit`, the operators by self CPU time."""
    config = training_settings(1)
    removed = random_houses(len(prepared.train), SET_SIZE, 0, 0, 0)
    fit(prepared.X_train, prepared.y_train, config, 0, removed=removed)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fit(prepared.X_train, prepared.y_train, config, 0, removed=removed)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)


def noise(prepared, test_index) -> dict[str, np.ndarray]:
    """Relative change of the summed Palo Alto loss (DRAWS,) per protocol."""
    config = training_settings(NOISE_EPOCHS)
    reference = fit(prepared.X_train, prepared.y_train, config, 0)[0]
    summed = house_losses(reference, prepared, test_index).sum()
    out = {}
    for protocol in PROTOCOLS:
        changes = []
        for draw in range(DRAWS):
            removed = random_houses(len(prepared.train), SET_SIZE, 1, 0, draw)
            model = retrain_without(prepared, config, 0, removed, protocol)
            changes.append(house_losses(model, prepared, test_index).sum() / summed - 1)
        out[protocol] = np.array(changes)
    return out


def print_noise(prepared) -> None:
    lat, lon, n = PALO_ALTO
    test_index = nearest_houses(prepared.test, lat, lon, n)["test_index"].to_numpy()
    print(
        f"noise: summed Palo Alto loss change / reference, {DRAWS} random sets of {SET_SIZE}, "
        f"default model seed 0, {NOISE_EPOCHS} epochs"
    )
    for protocol, changes in noise(prepared, test_index).items():
        print(
            f"  {protocol:12s} sd {changes.std(ddof=1):.3f}  min {changes.min():+.3f}  "
            f"max {changes.max():+.3f}  ({', '.join(f'{c:+.3f}' for c in changes)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timed-epochs", type=int, default=20, help="epochs timed per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per time (fastest)")
    parser.add_argument("--noise", action="store_true", help="also the protocols' noise")
    args = parser.parse_args()
    torch.set_num_threads(1)
    prepared = {p: prepared_data(p) for p, _ in RECIPES.values()}
    figures = {"threads": 1, "removed": SET_SIZE, "repeats": args.repeats}
    print(
        f"seconds per retraining (one thread, fixed order, {SET_SIZE} random houses removed)\n"
        f"{'recipe':<10}{'epochs':>7}{'fit':>9}{'previous':>10}{'floor':>9}"
        f"{'fit/floor':>11}{'speedup':>9}  ms/step fit, floor"
    )
    for name, (preprocessing, epochs) in RECIPES.items():
        timed_epochs = min(epochs, args.timed_epochs)
        f = measure(prepared[preprocessing], epochs, timed_epochs, args.repeats)
        figures[name] = f
        print(
            f"{name:<10}{epochs:>7}{f['fit_seconds']:>9.2f}{f['previous_seconds']:>10.2f}"
            f"{f['floor_seconds']:>9.2f}{f['fit_over_floor']:>10.3f}x"
            f"{f['speedup_over_previous']:>8.2f}x  {f['fit_ms_per_step']:.2f}, "
            f"{f['floor_ms_per_step']:.2f}"
            f"{'' if timed_epochs == epochs else f'  ({timed_epochs} epochs timed, scaled)'}"
        )
    adam = {name: adam_step_ms({name: True}) for name in ("foreach", "fused")}
    figures["adam_step_ms"] = {name: round(ms, 3) for name, ms in adam.items()}
    print(
        f"one Adam step alone: fused (fit) {adam['fused']:.3f} ms, foreach {adam['foreach']:.3f} "
        f"ms (not the same arithmetic)"
    )
    print("where one epoch of fit spends its time (closest recipe, torch.profiler):")
    print(profile_table(prepared["minmax"]))
    if args.noise:
        print_noise(prepared["standardised"])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
