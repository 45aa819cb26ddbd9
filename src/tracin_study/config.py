"""The study's configuration: validated against its JSON schema and cross-key rules, then
read once into frozen settings dataclasses, one per config section (`StudySettings`).

Library functions take these settings objects, never the raw config; rules hand each step
the settings it reads as plain canonical dicts (`_Section.params`, which Snakemake compares
from run to run) or as a recipe's section file (`_Section.read`), each turned back into its
dataclass with one call (`_Section.from_params`)."""

import hashlib
import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import ClassVar, Self

import jsonschema
import yaml

from tracin_study.housing_table import N_ROWS, split_sizes
from tracin_study.recipes import CLOSEST, DEFAULT
from tracin_study.run_plans import saved_steps


class ConfigError(ValueError):
    """A configuration that the study refuses to run."""


def _help(text: str, **kwargs):
    """A dataclass field with its one-line `help` (as the schema's description)."""
    return field(metadata={"help": text}, **kwargs)


def _plain(value):
    """`value` as JSON-ready plain data: settings as their `params`, tuples as lists."""
    if isinstance(value, _Section):
        return value.params()
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _Section:
    """A config section as a frozen dataclass whose fields are the section's keys (lists
    become tuples). `from_config` reads it from the whole validated config; `from_params`
    from the section alone (a rule's params or a recipe's section file), and `params` gives
    that plain dict back, with its keys sorted so that Snakemake compares it from run to
    run."""

    KEYS: ClassVar[tuple[str, ...]]  # where the section sits in the config

    @classmethod
    def from_params(cls, section: dict) -> Self:
        """The dataclass of the section `section`; `ConfigError` naming the keys it lacks or
        does not know."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(section) - set(names))
        missing = [n for n in names if n not in section]
        if unknown or missing:
            raise ConfigError(
                f"settings of '{'.'.join(cls.KEYS)}' ({cls.__name__}): unknown keys {unknown}, "
                f"missing keys {missing}; see workflow/schemas/config.schema.yaml"
            )
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in section.items()})

    @classmethod
    def from_config(cls, config: dict) -> Self:
        """The dataclass of this section of a validated config."""
        section = config
        for key in cls.KEYS:
            section = section[key]
        return cls.from_params(section)

    @classmethod
    def read(cls, path: Path) -> Self:
        """The dataclass of the section file `path` (a recipe's {section}.json, rule
        `recipe`)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"recipe settings {path} do not exist; run the rule `recipe`")
        return cls.from_params(json.loads(path.read_text()))

    def params(self) -> dict:
        """The section as a plain dict (lists, keys sorted at every level): what
        `from_params` reads."""
        return canonical({f.name: _plain(getattr(self, f.name)) for f in fields(self)})


@dataclass(frozen=True)
class PathsSettings(_Section):
    """Where the pipeline writes."""

    KEYS: ClassVar[tuple[str, ...]] = ("paths",)
    results: str = _help("folder of everything the pipeline computes")
    report: str = _help("folder of the executed report, its HTML, figures and summary.json")


@dataclass(frozen=True)
class DataSettings(_Section):
    """The table's source, its train/test split and the feature scaling."""

    KEYS: ClassVar[tuple[str, ...]] = ("data",)
    source: str = _help("auto, sklearn or snapshot (the shipped copy)")
    sklearn_home: str = _help("scikit-learn's data home")
    test_fraction: float = _help("share of the rows in the test split")
    split_seed: int = _help("seed of the random split")
    split: str = _help("random (seeded) or ordered (the last rows are the test split)")
    preprocessing: str = _help("feature scaling: standardised, minmax or raw")


@dataclass(frozen=True)
class TrainingSettings(_Section):
    """How a model is trained (the config's `model` and `training` sections): Adam at a
    constant `learning_rate`, mean squared error; the loss curve carries the explained
    variances every `curve_every` epochs (None: never)."""

    KEYS: ClassVar[tuple[str, ...]] = ("training",)
    hidden: tuple[int, ...] = _help("widths of the hidden ReLU layers (section `model`)")
    epochs: int = _help("epochs trained")
    batch_size: int = _help("training houses per Adam step")
    learning_rate: float = _help("Adam's constant step size")
    checkpoint_every: int = _help("epochs between saved checkpoints")
    curve_every: int | None = _help(
        "epochs between explained variances on the loss curve", default=None
    )
    threads: int = _help("CPU threads of each training job (no effect on results)", default=1)

    @classmethod
    def from_params(cls, section: dict) -> Self:
        """The dataclass of {"model": <model section>, "training": <training section>}, the
        layout of the config and of a recipe's training.json."""
        unknown = sorted(set(section) - {"model", "training"})
        if unknown:
            raise ConfigError(
                f"training settings: unknown keys {unknown}; expected model, training"
            )
        flat = {**section["training"], **section["model"]}
        return super().from_params(flat)

    @classmethod
    def from_config(cls, config: dict) -> Self:
        """The training settings of a validated config (its `model` and `training`)."""
        return cls.from_params({"model": config["model"], "training": config["training"]})

    def params(self) -> dict:
        """{"model": {...}, "training": {...}}, as the config lays them out."""
        flat = super().params()
        return {"model": {"hidden": flat.pop("hidden")}, "training": flat}

    def checkpoint_epochs(self) -> list[int]:
        """Epochs after which a checkpoint is saved: 0 (the initial model), every
        `checkpoint_every`, and the last."""
        return sorted({0, self.epochs, *range(0, self.epochs + 1, self.checkpoint_every)})


@dataclass(frozen=True)
class InfluenceSettings(_Section):
    """TracInCP: the checkpoint `epochs` summed over, the `top_k` proponents and opponents
    kept, the engine's `batch_size` and the `threads` of each job."""

    KEYS: ClassVar[tuple[str, ...]] = ("influence",)
    epochs: tuple[int, ...] = _help("checkpoint epochs TracInCP sums over")
    top_k: int = _help("proponents and opponents kept per test house")
    batch_size: int = _help("examples per forward/backward pass (memory only)")
    threads: int = _help("CPU threads of each influence job (no effect on results)")


@dataclass(frozen=True)
class PaloAltoSettings(_Section):
    """The `n_houses` test houses nearest to (`latitude`, `longitude`)."""

    KEYS: ClassVar[tuple[str, ...]] = ("palo_alto",)
    latitude: float = _help("centre of Palo Alto, degrees north")
    longitude: float = _help("centre of Palo Alto, degrees east (negative west)")
    n_houses: int = _help("test houses nearest to the centre")


@dataclass(frozen=True)
class ExperimentsSettings(_Section):
    """What the experiments share: the compute `dtype` of TracInCP in the checkpoint
    ablation and the corruption scores."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments",)
    dtype: str = _help("float32 or float64")

    @classmethod
    def from_config(cls, config: dict) -> Self:
        """The experiments' shared keys (the sections under `experiments` have their own)."""
        return cls.from_params({"dtype": config["experiments"]["dtype"]})


@dataclass(frozen=True)
class AdamStepSettings(_Section):
    """The approximation chain's Adam run (beta1 = 0, batch size 1)."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "approximation_chain", "adam")
    learning_rate: float = _help("Adam's constant step size eta")
    beta2: float = _help("decay of Adam's second-moment average")
    eps: float = _help("added to sqrt(v_hat) in the preconditioner")


@dataclass(frozen=True)
class ApproximationChainSettings(_Section):
    """The paper's idealised setting: plain SGD at batch size 1 on `n_train` training houses
    drawn with `subsample_seed`, from the initial weights of `seed`, with a checkpoint every
    `checkpoint_every_steps` steps; TracInCP is tried on each of `checkpoint_counts`
    checkpoints; `adam` gives the same run with Adam steps."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "approximation_chain")
    n_train: int = _help("training houses of the subsample")
    subsample_seed: int = _help("seed of the subsample")
    seed: int = _help("seed of the initial weights and the visiting order")
    epochs: int = _help("passes over the subsample")
    learning_rate: float = _help("SGD's constant step size")
    checkpoint_every_steps: int = _help("steps between saved checkpoints")
    checkpoint_counts: tuple[int, ...] = _help("numbers of evenly spaced checkpoints tried")
    adam: AdamStepSettings = _help("the same run with Adam steps")

    @classmethod
    def from_params(cls, section: dict) -> Self:
        """The dataclass of the section, its `adam` section as `AdamStepSettings`."""
        chain = super().from_params(section)
        return replace(chain, adam=AdamStepSettings.from_params(section["adam"]))

    def saved_steps(self) -> list[int]:
        """The steps after which the SGD run saves a checkpoint (`run_plans.saved_steps`)."""
        return saved_steps(self.n_train, self.epochs, self.checkpoint_every_steps)


@dataclass(frozen=True)
class CorruptionSettings(_Section):
    """The corrupted-target experiment: the model `seeds` trained on corrupted targets (each
    one of `seeds`), the `fraction` of training targets corrupted, drawn with
    `corruption_seed`."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "corruption")
    seeds: tuple[int, ...] = _help("model seeds trained on corrupted targets")
    fraction: float = _help("share of the training targets replaced")
    corruption_seed: int = _help("seed of the corrupted houses and their new targets")


PROTOCOLS = ("fixed_order", "new_order")
"""How a model is retrained without a set of training houses
(`tracin_study.training.retrain_without`)."""


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

    @classmethod
    def per_recipe(cls, config: dict) -> dict[str, Self]:
        """Recipe -> the dataclass of its section, for every recipe the config names."""
        section = config
        for key in cls.KEYS:
            section = section[key]
        return {recipe: cls.from_params(section[recipe]) for recipe in section}


@dataclass(frozen=True)
class RemovalSettings(_RecipeSection):
    """The removal experiment on one recipe: the model `seeds` retrained, the number of
    `random_draws` of random removal sets per size, drawn with `random_seed`; the sizes `k`,
    the `sets` removed (among `run_plans.REMOVAL_SETS`), the `protocol` of the judged
    retrainings, and `noise_protocols`, each measured on the random draws at size `noise_k`
    (the spread of each protocol; the judged protocol's draws are those of the curves);
    `chunk` retrainings per job."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "removal", "recipes")
    seeds: tuple[int, ...] = _help("model seeds retrained")
    random_draws: int = _help("random removal sets per size and seed")
    random_seed: int = _help("seed of the random removal sets")
    k: tuple[int, ...] = _help("sizes of the removal sets")
    sets: tuple[str, ...] = _help("sets removed at each size, judged against the random draws")
    protocol: str = _help("retraining protocol of the judged removals")
    noise_protocols: tuple[str, ...] = _help("protocols whose noise is measured")
    noise_k: int = _help("size of the random sets that measure each protocol's noise")
    chunk: int = _help("retrainings per job")


@dataclass(frozen=True)
class LdsSettings(_RecipeSection):
    """The linear datamodeling score on one recipe: `subsets` retrainings of model `seed`,
    each on round(`fraction` x N) training houses drawn with `subset_seed`, under
    `protocol`; the queries are the Palo Alto houses plus random test houses drawn with
    `query_seed`, `n_queries` in all; the bootstrap over subsets takes `bootstrap`
    resamples drawn with `bootstrap_seed`. The noise ceiling retrains the same subsets as
    the replay of model `ceiling_seed` under `protocol`, or, when it is None, as model
    `seed` under the other protocol; `chunk` retrainings per job."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "lds", "recipes")
    subsets: int = _help("training subsets, one retraining each")
    fraction: float = _help("share of the training houses in each subset")
    subset_seed: int = _help("seed of the subsets")
    seed: int = _help("model seed retrained and scored")
    protocol: str = _help("retraining protocol of each subset")
    n_queries: int = _help("query test houses, the Palo Alto houses included")
    query_seed: int = _help("seed of the random query houses")
    ceiling_seed: int | None = _help("model seed of the noise ceiling (None: other protocol)")
    bootstrap: int = _help("bootstrap resamples of the subsets")
    bootstrap_seed: int = _help("seed of the bootstrap resamples")
    chunk: int = _help("retrainings per job")


@dataclass(frozen=True)
class SweepSettings(_Section):
    """The recipe sweep (`tracin_study.experiments.sweep`): the model `seeds` of each recipe,
    the `recipes` (name -> the settings it changes; in the config a list of mappings, each
    with its `name`) and the `rerun_seeds` of the claims rerun on the closest recipe. One
    factor at a time; the full factorial is left out."""

    KEYS: ClassVar[tuple[str, ...]] = ("experiments", "sweep")
    seeds: tuple[int, ...] = _help("model seeds of each sweep recipe")
    recipes: dict[str, dict] = _help("recipe name -> the settings it changes")
    rerun_seeds: tuple[int, ...] = _help("model seeds of the claims rerun on the closest recipe")

    @classmethod
    def from_params(cls, section: dict) -> Self:
        """The dataclass of the `experiments.sweep` section (its recipes keyed by name)."""
        recipes = {
            recipe["name"]: {k: v for k, v in recipe.items() if k != "name"}
            for recipe in section["recipes"]
        }
        return super().from_params({**section, "recipes": recipes})

    def params(self) -> dict:
        """The section as the config gives it (its recipes a list, each with its `name`)."""
        recipes = [{"name": name, **overrides} for name, overrides in self.recipes.items()]
        return canonical({**super().params(), "recipes": recipes})


@dataclass(frozen=True)
class ReportSettings(_Section):
    """The report's sizes."""

    KEYS: ClassVar[tuple[str, ...]] = ("report",)
    top_n: int = _help("size of the highest/lowest self-influence sets")


@dataclass(frozen=True)
class StudySettings:
    """Every section of a validated config as its settings dataclass, built once
    (`from_config`); the removal and LDS settings per recipe."""

    seeds: tuple[int, ...] = _help("model seeds of the default recipe")
    paths: PathsSettings = _help("where the pipeline writes")
    data: DataSettings = _help("the table, its split and scaling")
    training: TrainingSettings = _help("model and training")
    influence: InfluenceSettings = _help("TracInCP")
    palo_alto: PaloAltoSettings = _help("the Palo Alto test houses")
    experiments: ExperimentsSettings = _help("what the experiments share")
    approximation_chain: ApproximationChainSettings = _help("the idealised setting")
    corruption: CorruptionSettings = _help("the corrupted-target experiment")
    removal: dict[str, RemovalSettings] = _help("recipe -> its removal test")
    lds: dict[str, LdsSettings] = _help("recipe -> its LDS")
    sweep: SweepSettings = _help("the recipe sweep")
    report: ReportSettings = _help("the report's sizes")

    @classmethod
    def from_config(cls, config: dict) -> Self:
        """The settings of a validated config (`validate_config`)."""
        return cls(
            seeds=tuple(config["seeds"]),
            paths=PathsSettings.from_config(config),
            data=DataSettings.from_config(config),
            training=TrainingSettings.from_config(config),
            influence=InfluenceSettings.from_config(config),
            palo_alto=PaloAltoSettings.from_config(config),
            experiments=ExperimentsSettings.from_config(config),
            approximation_chain=ApproximationChainSettings.from_config(config),
            corruption=CorruptionSettings.from_config(config),
            removal=RemovalSettings.per_recipe(config),
            lds=LdsSettings.per_recipe(config),
            sweep=SweepSettings.from_config(config),
            report=ReportSettings.from_config(config),
        )

    def recipe_seeds(self) -> dict[str, list[int]]:
        """The study's recipes (name -> model seeds trained): `DEFAULT` for `seeds`,
        `CLOSEST` for `experiments.sweep.rerun_seeds` and each sweep recipe by its name for
        `experiments.sweep.seeds`."""
        sweep = self.sweep
        return {
            DEFAULT: list(self.seeds),
            CLOSEST: list(sweep.rerun_seeds),
            **{name: list(sweep.seeds) for name in sweep.recipes},
        }


SECTIONS: dict[str, type[_Section]] = {
    ".".join(cls.KEYS) + (".*" if issubclass(cls, _RecipeSection) else ""): cls
    for cls in (
        PathsSettings,
        DataSettings,
        TrainingSettings,
        InfluenceSettings,
        PaloAltoSettings,
        ExperimentsSettings,
        AdamStepSettings,
        ApproximationChainSettings,
        CorruptionSettings,
        RemovalSettings,
        LdsSettings,
        SweepSettings,
        ReportSettings,
    )
} | {"model": TrainingSettings}
"""Config section (dotted path, `*` for each recipe) -> its settings dataclass."""

RECIPE_SECTIONS: dict[str, type[_Section]] = {
    "data": DataSettings,
    "training": TrainingSettings,
    "influence": InfluenceSettings,
}
"""The sections of a recipe's settings (rule `recipe`, results/{recipe}/recipe/{section}.json),
each read only by the steps that depend on it: `data` by prepare_data, `training` (with the
model) by train and the retrainings, `influence` by seed_influence and the LDS scores. A
changed setting so reruns its step and what follows, not the earlier ones."""


def canonical(value):
    """`value` with the keys of every dict in it sorted: equal configs, equal reprs."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return type(value)(canonical(v) for v in value)
    return value


def config_hash(config: dict) -> str:
    """Short sha256 of the whole config (for provenance records), stable under key order."""
    blob = json.dumps(config, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


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
    saved = set(TrainingSettings.from_config(config).checkpoint_epochs())
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
