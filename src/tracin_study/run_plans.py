"""What each run and job of the experiments does, known before any of them runs: the
retrainings of the removal test and of the LDS, in their order, and the jobs that take them
in chunks; the steps of the approximation chain's ideal run that are saved. Plain Python,
no torch: the rule files read these plans while the workflow is parsed (job counts), the
experiments at run time (which retrainings a job does), so that each plan is written once.
"""

from dataclasses import dataclass

TRACIN_SCORES = ("raw", "adam")  # TracInCP as the paper defines it, and Adam-preconditioned
AGGREGATE = "all houses"  # `house` of the removal verdicts on the Palo Alto houses together
RANDOM = "random"
"""The set name of the random draws every other removal set is judged against."""

REMOVAL_SETS = (
    "aggregate_proponents",
    "aggregate_opponents",
    "house_proponents",
    "house_opponents",
    "map_neighbours",
)
"""The removal sets judged against random draws of the same size."""


@dataclass(frozen=True)
class RemovalRetraining:
    """One retraining of the removal test: without set `set` (one of `REMOVAL_SETS` or
    `RANDOM`) of size `k` under `protocol`, ranked by `score` ("" for score-free sets), for
    the test house at position `house` among the test houses (None: all of them), random
    draw `draw` (-1 unless random)."""

    set: str
    score: str
    k: int
    house: int | None
    draw: int
    protocol: str


def removal_retrainings(removal, n_houses: int, scores=TRACIN_SCORES) -> list[RemovalRetraining]:
    """Every retraining of one seed under `removal` (`RemovalSettings`), in a fixed order:
    per size k, the aggregate proponents and opponents of each of `scores`, each of the
    `n_houses` test houses' own proponents and opponents per score, the map neighbours and
    the random draws, under `removal.protocol` (the removal curves); then the random draws
    at `removal.noise_k` under each other protocol of `removal.noise_protocols`. Sets
    outside `removal.sets` are left out."""
    unknown = sorted(set(removal.sets) - set(REMOVAL_SETS))
    if unknown:
        raise ValueError(f"removal.sets has unknown sets {unknown}; choose among {REMOVAL_SETS}")
    plan = []
    for k in removal.k:
        for score in scores:
            for kind in ("aggregate_proponents", "aggregate_opponents"):
                if kind in removal.sets:
                    plan.append(RemovalRetraining(kind, score, k, None, -1, removal.protocol))
            for kind in ("house_proponents", "house_opponents"):
                if kind in removal.sets:
                    plan += [
                        RemovalRetraining(kind, score, k, house, -1, removal.protocol)
                        for house in range(n_houses)
                    ]
        if "map_neighbours" in removal.sets:
            plan.append(RemovalRetraining("map_neighbours", "", k, None, -1, removal.protocol))
        plan += [
            RemovalRetraining(RANDOM, "", k, None, draw, removal.protocol)
            for draw in range(removal.random_draws)
        ]
    for protocol in removal.noise_protocols:
        if protocol != removal.protocol:
            plan += [
                RemovalRetraining(RANDOM, "", removal.noise_k, None, draw, protocol)
                for draw in range(removal.random_draws)
            ]
    return plan


def lds_retrainings(lds) -> list[tuple[int, str, int]]:
    """The retrainings of `lds` (`LdsSettings`) as (model seed, protocol, subset): every
    subset as model `seed` under `protocol`, then the noise ceiling's: the same subsets as
    model `ceiling_seed` under `protocol`, or as model `seed` under the other protocol when
    `ceiling_seed` is None."""
    if lds.ceiling_seed is None:
        other = "new_order" if lds.protocol == "fixed_order" else "fixed_order"
        ceiling = (lds.seed, other)
    else:
        ceiling = (lds.ceiling_seed, lds.protocol)
    subsets = range(lds.subsets)
    return [(lds.seed, lds.protocol, m) for m in subsets] + [(*ceiling, m) for m in subsets]


def n_chunks(n_items: int, chunk: int) -> int:
    """Jobs of at most `chunk` items each that cover `n_items`: ceil(n_items / chunk)."""
    return -(-n_items // chunk)


def chunk_of(items, chunk: int, size: int):
    """Job `chunk`'s items: the `chunk`-th run of `size` consecutive `items` (a list, or a
    table's rows by position)."""
    return getattr(items, "iloc", items)[chunk * size : (chunk + 1) * size]


def removal_jobs(removal, n_houses: int) -> dict[str, list[int]]:
    """The removal jobs of `removal` (`RemovalSettings`) as wildcard values, every seed with
    every chunk: {"seed": its seeds, "chunk": 0 ... n - 1} for chunks of `removal.chunk` of
    the `removal_retrainings` on `n_houses` test houses."""
    size = len(removal_retrainings(removal, n_houses))
    return {"seed": list(removal.seeds), "chunk": list(range(n_chunks(size, removal.chunk)))}


def lds_jobs(lds) -> dict[str, list[int]]:
    """The LDS jobs of `lds` (`LdsSettings`) as wildcard values: {"chunk": 0 ... n - 1} for
    chunks of `lds.chunk` of its `lds_retrainings`."""
    return {"chunk": list(range(n_chunks(len(lds_retrainings(lds)), lds.chunk)))}


def saved_steps(n_train: int, epochs: int, checkpoint_every_steps: int) -> list[int]:
    """The steps after which `ideal.record_sgd` saves a checkpoint: every
    `checkpoint_every_steps` of the `n_train * epochs` one-example steps, and the last."""
    steps = n_train * epochs
    return sorted({*range(checkpoint_every_steps, steps + 1, checkpoint_every_steps), steps})
