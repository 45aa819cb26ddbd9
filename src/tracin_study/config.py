"""Validation of the study's configuration against its JSON schema and cross-key rules."""

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

import jsonschema
import yaml

from tracin_study.plan import DEFAULT, N_ROWS, saved_steps, split_sizes


@dataclass(frozen=True)
class TrainingConfig:
    """The training recipe: Adam at a constant `learning_rate`, mean squared error; the loss
    curve carries the explained variances every `curve_every` epochs (None: never)."""

    hidden: tuple[int, ...]
    epochs: int
    batch_size: int
    learning_rate: float
    checkpoint_every: int
    curve_every: int | None = None

    @classmethod
    def from_config(cls, config: dict) -> "TrainingConfig":
        """The recipe of a validated config (its `model` and `training` sections)."""
        t = config["training"]
        return cls(
            hidden=tuple(config["model"]["hidden"]),
            epochs=t["epochs"],
            batch_size=t["batch_size"],
            learning_rate=t["learning_rate"],
            checkpoint_every=t["checkpoint_every"],
            curve_every=t["curve_every"],
        )

    def checkpoint_epochs(self) -> list[int]:
        """Epochs after which a checkpoint is saved: 0 (the initial model), every
        `checkpoint_every`, and the last."""
        return sorted({0, self.epochs, *range(0, self.epochs + 1, self.checkpoint_every)})


class _Section:
    """A config section as a frozen dataclass whose fields are the section's keys (lists
    become tuples). `from_config` reads it from the whole config; `from_params` from the
    section alone, e.g. a rule's params, which stay plain dicts so that Snakemake can compare
    them from run to run."""

    KEYS: ClassVar[tuple[str, ...]]  # where the section sits in the config

    @classmethod
    def from_params(cls, section: dict) -> Self:
        """The dataclass of the section `section` (all its keys, no others)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in section.items()})

    @classmethod
    def from_config(cls, config: dict) -> Self:
        """The dataclass of this section of a validated config."""
        section = config
        for key in cls.KEYS:
            section = section[key]
        return cls.from_params(section)


@dataclass(frozen=True)
class InfluenceConfig(_Section):
    """TracInCP: the checkpoint `epochs` summed over, the `top_k` proponents and opponents
    kept, the engine's `batch_size` and the `threads` of each job."""

    KEYS: ClassVar[tuple[str, ...]] = ("influence",)
    epochs: tuple[int, ...]
    top_k: int
    batch_size: int
    threads: int


@dataclass(frozen=True)
class PaloAltoConfig(_Section):
    """The `n_houses` test houses nearest to (`latitude`, `longitude`)."""

    KEYS: ClassVar[tuple[str, ...]] = ("palo_alto",)
    latitude: float
    longitude: float
    n_houses: int


@dataclass(frozen=True)
class CorruptionConfig(_Section):
    """The corrupted-target experiment: the model `seeds` trained on corrupted targets (each
    one of `seeds`), the `fraction` of training targets corrupted, drawn with
    `corruption_seed`."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "corruption")
    seeds: tuple[int, ...]
    fraction: float
    corruption_seed: int


PROTOCOLS = ("fixed_order", "new_order")
"""How a model is retrained without a set of training houses
(`tracin_study.training.retrain_without`)."""

REMOVAL_SETS = (
    "aggregate_proponents",
    "aggregate_opponents",
    "house_proponents",
    "house_opponents",
    "map_neighbours",
)
"""The removal sets judged against random draws of the same size
(`tracin_study.experiments.removal.plan_removals`)."""


class _RecipeSection(_Section):
    """A config section given per recipe (`<KEYS>.<recipe>`, e.g.
    `experiments.removal.recipes.closest`)."""

    @classmethod
    def from_config(cls, config: dict, recipe: str) -> Self:
        """The dataclass of recipe `recipe`'s section of a validated config."""
        section = config
        for key in cls.KEYS:
            section = section[key]
        return cls.from_params(section[recipe])


@dataclass(frozen=True)
class RemovalConfig(_RecipeSection):
    """The removal experiment on one recipe: the model `seeds` retrained, the number of
    `random_draws` of random removal sets per size, drawn with `random_seed`; the sizes `k`,
    the `sets` removed (among `REMOVAL_SETS`), the `protocol` of the judged retrainings, and
    `noise_protocols`, each measured on the random draws at size `noise_k` (the spread of
    each protocol; the judged protocol's draws are those of the curves); `chunk`
    retrainings per job."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "removal", "recipes")
    seeds: tuple[int, ...]
    random_draws: int
    random_seed: int
    k: tuple[int, ...]
    sets: tuple[str, ...]
    protocol: str
    noise_protocols: tuple[str, ...]
    noise_k: int
    chunk: int


@dataclass(frozen=True)
class LdsConfig(_RecipeSection):
    """The linear datamodeling score on one recipe: `subsets` retrainings of model `seed`,
    each on round(`fraction` x N) training houses drawn with `subset_seed`, under
    `protocol`; the queries are the Palo Alto houses plus random test houses drawn with
    `query_seed`, `n_queries` in all; the bootstrap over subsets takes `bootstrap`
    resamples drawn with `bootstrap_seed`. The noise ceiling retrains the same subsets as
    the replay of model `ceiling_seed` under `protocol`, or, when it is None, as model
    `seed` under the other protocol; `chunk` retrainings per job."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "lds", "recipes")
    subsets: int
    fraction: float
    subset_seed: int
    seed: int
    protocol: str
    n_queries: int
    query_seed: int
    ceiling_seed: int | None
    bootstrap: int
    bootstrap_seed: int
    chunk: int


@dataclass(frozen=True)
class SweepConfig(_Section):
    """The recipe sweep (`tracin_study.experiments.sweep`): the model `seeds` of each recipe,
    the `recipes` (name -> the settings it changes; in the config a list of mappings, each
    with its `name`) and the `rerun_seeds` of the claims rerun on the closest recipe. One
    factor at a time; the full factorial is left out."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "sweep")
    seeds: tuple[int, ...]
    recipes: dict[str, dict]
    rerun_seeds: tuple[int, ...]

    @classmethod
    def from_params(cls, section: dict) -> Self:
        """The dataclass of the `experiments.sweep` section (its recipes keyed by name)."""
        recipes = {
            recipe["name"]: {k: v for k, v in recipe.items() if k != "name"}
            for recipe in section["recipes"]
        }
        return super().from_params({**section, "recipes": recipes})


class ConfigError(ValueError):
    """A configuration that the study refuses to run."""


def canonical(value):
    """`value` with the keys of every dict in it sorted: equal configs, equal reprs."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return type(value)(canonical(v) for v in value)
    return value


def read_config_file(path: Path) -> dict:
    """The mapping in the YAML (or JSON) config file `path`; `ConfigError` naming the file,
    and for invalid YAML the line and column, when it is missing, unreadable or no mapping."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {path} cannot be read: {err}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark, context = getattr(err, "problem_mark", None), getattr(err, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        if context is not None and err.context:
            problem += f" ({err.context} that starts at line {context.line + 1})"
        raise ConfigError(f"config file {path} is not valid YAML: {where}{problem}") from None
    if not isinstance(doc, dict):
        raise ConfigError(
            f"config file {path} holds a {type(doc).__name__}, not a mapping of keys as "
            f"config/config.yaml does"
        )
    return doc


def _is_integer(_checker, value) -> bool:
    """JSON-schema "integer" without the floats that Draft 2020-12 lets through (4.0)."""
    return isinstance(value, int) and not isinstance(value, bool)


_VALIDATOR = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def check_schema(config: dict, schema_path: Path) -> None:
    """Raise `ConfigError` naming the first key (as a dotted path) the schema rejects."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = sorted(_VALIDATOR(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        key = ".".join(str(p) for p in err.absolute_path) or "<top level>"
        raise ConfigError(
            f"invalid config at '{key}': {err.message}. See {schema_path} for what each key "
            f"accepts."
        )


def check_influence_epochs(config: dict) -> None:
    """Every epoch TracInCP sums over must be one that training saves."""
    saved = set(TrainingConfig.from_config(config).checkpoint_epochs())
    unsaved = sorted(set(config["influence"]["epochs"]) - saved)
    if unsaved:
        raise ConfigError(
            f"invalid config at 'influence.epochs': epochs {unsaved} have no checkpoint; "
            f"training saves epochs {sorted(saved)} (training.checkpoint_every="
            f"{config['training']['checkpoint_every']}, training.epochs="
            f"{config['training']['epochs']})."
        )


def check_split(config: dict) -> None:
    """The split must have a row in each part, palo_alto.n_houses test rows and the
    approximation chain's training subsample."""
    fraction = config["data"]["test_fraction"]
    n_train, n_test = split_sizes(N_ROWS, fraction)
    gives = f"data.test_fraction={fraction} gives {n_train} training and {n_test} test rows"
    if min(n_train, n_test) < 1:
        raise ConfigError(
            f"invalid config at 'data.test_fraction': {fraction} gives {n_train} training and "
            f"{n_test} test rows of {N_ROWS}; each split needs at least one row, so choose a "
            f"value between {1 / N_ROWS:.6f} and {1 - 1 / N_ROWS:.6f}."
        )
    n_houses = config["palo_alto"]["n_houses"]
    if n_houses > n_test:
        raise ConfigError(
            f"invalid config at 'palo_alto.n_houses': {n_houses} exceeds the {n_test} test "
            f"rows ({gives} of {N_ROWS}). Choose at most {n_test}, or raise data.test_fraction."
        )
    subsample = config["experiments"]["approximation_chain"]["n_train"]
    if subsample > n_train:
        raise ConfigError(
            f"invalid config at 'experiments.approximation_chain.n_train': {subsample} exceeds "
            f"the {n_train} training rows ({gives} of {N_ROWS}). Choose at most {n_train}, or "
            f"lower data.test_fraction."
        )


def check_removal_sizes(config: dict) -> None:
    """Each removal set size (`k`, `noise_k`) of every recipe leaves at least one of the
    training rows the config's split implies."""
    n_train, _ = split_sizes(N_ROWS, config["data"]["test_fraction"])
    for recipe, section in config["experiments"]["removal"]["recipes"].items():
        key = f"experiments.removal.recipes.{recipe}"
        for name, sizes in (("k", section["k"]), ("noise_k", [section["noise_k"]])):
            too_big = sorted(k for k in sizes if k >= n_train)
            if too_big:
                raise ConfigError(
                    f"invalid config at '{key}.{name}': {too_big} remove all {n_train} training "
                    f"rows or more ({_gives(config, n_train)}); each size must lie in "
                    f"[1, {n_train - 1}]. Lower it, or lower data.test_fraction."
                )


def check_lds_queries(config: dict) -> None:
    """The LDS queries of every recipe are the palo_alto.n_houses Palo Alto houses plus
    random test houses: n_queries lies between that count and the test rows."""
    _, n_test = split_sizes(N_ROWS, config["data"]["test_fraction"])
    n_houses = config["palo_alto"]["n_houses"]
    for recipe, section in config["experiments"]["lds"]["recipes"].items():
        n_queries = section["n_queries"]
        if not n_houses <= n_queries <= n_test:
            raise ConfigError(
                f"invalid config at 'experiments.lds.recipes.{recipe}.n_queries': {n_queries} "
                f"must lie in [{n_houses}, {n_test}]: the queries are the palo_alto.n_houses="
                f"{n_houses} Palo Alto houses plus random test houses, of the {n_test} test "
                f"rows ({_gives(config, n_test, 'test')}). Choose a value in that range."
            )


def check_top_k(config: dict) -> None:
    """The approximation chain compares the top influence.top_k of score vectors over its
    experiments.approximation_chain.n_train houses, so top_k cannot exceed them (the
    schema caps it for the proponents tables)."""
    top_k = config["influence"]["top_k"]
    n_chain = config["experiments"]["approximation_chain"]["n_train"]
    if top_k > n_chain:
        raise ConfigError(
            f"invalid config at 'influence.top_k': {top_k} exceeds the {n_chain} training "
            f"houses of experiments.approximation_chain.n_train, whose score vectors the "
            f"chain compares by their top_k. Choose at most {n_chain}, or raise n_train."
        )


def _gives(config: dict, n: int, part: str = "training") -> str:
    """What data.test_fraction gives, for a message: "data.test_fraction=0.2 gives 16512
    training rows of 20640"."""
    return f"data.test_fraction={config['data']['test_fraction']} gives {n} {part} rows of {N_ROWS}"


def check_checkpoint_counts(config: dict) -> None:
    """TracInCP can pick at most as many checkpoints as the SGD run saves."""
    chain = config["experiments"]["approximation_chain"]
    n_saved = len(saved_steps(chain["n_train"], chain["epochs"], chain["checkpoint_every_steps"]))
    too_many = [k for k in chain["checkpoint_counts"] if k > n_saved]
    if too_many:
        raise ConfigError(
            f"invalid config at 'experiments.approximation_chain.checkpoint_counts': {too_many} "
            f"exceed the {n_saved} checkpoints the run saves (epochs={chain['epochs']} x "
            f"n_train={chain['n_train']} steps, one every checkpoint_every_steps="
            f"{chain['checkpoint_every_steps']} and after the last). Lower them, or save more "
            f"often."
        )


def recipe_seeds_of(config: dict, recipe: str) -> tuple[str, list[int]]:
    """The key naming recipe `recipe`'s model seeds and those seeds: `seeds` for the
    default recipe, `experiments.sweep.rerun_seeds` for the closest one."""
    if recipe == DEFAULT:
        return "seeds", list(config["seeds"])
    return "experiments.sweep.rerun_seeds", list(config["experiments"]["sweep"]["rerun_seeds"])


def _refuse_seeds(key: str, wanted, recipe: str, config: dict) -> None:
    source, seeds = recipe_seeds_of(config, recipe)
    missing = sorted(set(wanted) - set(seeds))
    if missing:
        raise ConfigError(
            f"invalid config at '{key}': seeds {missing} are not among the {recipe} recipe's "
            f"seeds {seeds} (`{source}`), so it has no trained model of them. Choose seeds "
            f"among {seeds}, or add {missing} to `{source}`."
        )


def check_removal_seeds(config: dict) -> None:
    """The removal test on a recipe retrains and compares models of that recipe's seeds."""
    for recipe, section in config["experiments"]["removal"]["recipes"].items():
        key = f"experiments.removal.recipes.{recipe}.seeds"
        _refuse_seeds(key, section["seeds"], recipe, config)


def check_lds_seed(config: dict) -> None:
    """The LDS on a recipe scores the checkpoints of its model `seed` (and replays
    `ceiling_seed`), which only that recipe's seeds have."""
    for recipe, section in config["experiments"]["lds"]["recipes"].items():
        key = f"experiments.lds.recipes.{recipe}"
        _refuse_seeds(f"{key}.seed", [section["seed"]], recipe, config)
        if section["ceiling_seed"] is not None:
            _refuse_seeds(f"{key}.ceiling_seed", [section["ceiling_seed"]], recipe, config)


def check_corruption_seeds(config: dict) -> None:
    """The corruption experiment trains seeds of the study's own `seeds` only."""
    key = "experiments.corruption.seeds"
    _refuse_seeds(key, config["experiments"]["corruption"]["seeds"], DEFAULT, config)


def check_sweep_seeds(config: dict) -> None:
    """The sweep reads the default recipe's curves from the study's own seeds."""
    sweep = config["experiments"]["sweep"]
    missing = sorted(set(sweep["seeds"]) - set(config["seeds"]))
    if missing:
        raise ConfigError(
            f"invalid config at 'experiments.sweep.seeds': seeds {missing} are not among "
            f"`seeds` {config['seeds']}, whose loss curves give the default recipe's path; "
            f"choose sweep seeds among them."
        )


def check_sweep_recipes(config: dict) -> None:
    """Each recipe of the sweep has its own name (the name of its results folder)."""
    names = [recipe["name"] for recipe in config["experiments"]["sweep"]["recipes"]]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(
            f"invalid config at 'experiments.sweep.recipes': the names {repeated} are given "
            f"to more than one recipe; give each recipe its own name."
        )


def validate_config(config: dict, schema_path: Path) -> None:
    """Raise `ConfigError` naming the first offending key (as a dotted path) and the fix:
    the schema first, then the rules that span several keys."""
    check_schema(config, schema_path)
    checks = (
        check_influence_epochs,
        check_split,
        check_checkpoint_counts,
        check_removal_sizes,
        check_lds_queries,
        check_top_k,
        check_removal_seeds,
        check_lds_seed,
        check_corruption_seeds,
        check_sweep_seeds,
        check_sweep_recipes,
    )
    for check in checks:
        check(config)
