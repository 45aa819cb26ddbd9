"""Cost of one counterfactual retraining under each protocol, and each protocol's noise.

    python benchmarks/retraining_cost.py [--epochs N] [--quick]

On one thread, on the shipped data snapshot (8:2 split, seed 2020): seconds per retraining
without 50 random training houses of the default recipe ([512, 256, 128], batch 256,
standardised; `--epochs`, default 200) and of the min-max recipe at 20 epochs, under the
fixed-order and the new-order protocol (`experiments.removal.retrain_without`). Then the
noise: 4 random sets of 50 houses removed from the default model of seed 0 trained for 20
epochs, under each protocol, and the sd (ddof=1), min and max of the change of the summed
loss of the 11 Palo Alto test houses, relative to the reference model's. `--quick` times
the default recipe at 20 epochs instead of 200.
"""

import argparse
import time

import numpy as np
import torch

from tracin_study import data
from tracin_study.config import PROTOCOLS, TrainingConfig
from tracin_study.experiments.removal import house_losses, random_houses, retrain_without
from tracin_study.geo import nearest_houses
from tracin_study.training import fit

PALO_ALTO = (37.4419, -122.1430, 11)
SET_SIZE, DRAWS, NOISE_EPOCHS = 50, 4, 20


def prepared_data(preprocessing: str) -> data.PreparedData:
    """The default split of the shipped snapshot, scaled by `preprocessing`."""
    train, test, scaler = data.split_tables(
        data.read_snapshot(), 0.2, 2020, "random", preprocessing
    )
    return data.PreparedData(
        train, test, np.asarray(scaler["mean"]), np.asarray(scaler["scale"]), preprocessing
    )


def recipe(epochs: int) -> TrainingConfig:
    """The default recipe at `epochs` epochs."""
    return TrainingConfig(
        hidden=(512, 256, 128),
        epochs=epochs,
        batch_size=256,
        learning_rate=0.001,
        checkpoint_every=epochs,
    )


def seconds_per_retraining(prepared, config: TrainingConfig, protocol: str) -> float:
    """Wall seconds of one retraining of seed 0 without a random set of `SET_SIZE`."""
    removed = random_houses(len(prepared.train), SET_SIZE, 0, 0, 0)
    start = time.perf_counter()
    retrain_without(prepared, config, 0, removed, protocol)
    return time.perf_counter() - start


def noise(prepared, test_index) -> dict[str, np.ndarray]:
    """Relative change of the summed Palo Alto loss (DRAWS,) per protocol."""
    config = recipe(NOISE_EPOCHS)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200, help="epochs of the default recipe")
    parser.add_argument("--quick", action="store_true", help="default recipe at 20 epochs")
    args = parser.parse_args()
    epochs = 20 if args.quick else args.epochs
    torch.set_num_threads(1)
    standardised, minmax = prepared_data("standardised"), prepared_data("minmax")
    print("seconds per retraining (one thread, 50 random houses removed)")
    for label, prepared, config in (
        (f"default recipe, {epochs} epochs", standardised, recipe(epochs)),
        ("min-max recipe, 20 epochs", minmax, recipe(20)),
    ):
        for protocol in PROTOCOLS:
            seconds = seconds_per_retraining(prepared, config, protocol)
            print(f"  {label:32s} {protocol:12s} {seconds:7.1f} s")
    lat, lon, n = PALO_ALTO
    test_index = nearest_houses(standardised.test, lat, lon, n)["test_index"].to_numpy()
    print(
        f"noise: summed Palo Alto loss change / reference, {DRAWS} random sets of {SET_SIZE}, "
        f"default model seed 0, {NOISE_EPOCHS} epochs"
    )
    for protocol, changes in noise(standardised, test_index).items():
        print(
            f"  {protocol:12s} sd {changes.std(ddof=1):.3f}  min {changes.min():+.3f}  "
            f"max {changes.max():+.3f}  ({', '.join(f'{c:+.3f}' for c in changes)})"
        )


if __name__ == "__main__":
    main()
