"""The numbers of report/summary.json, each from the study's result files.

Every section is a JSON-ready dict or list of rows built by one function below; the
`summary` rule assembles them and the report notebook only reads the file. Tables come in
as pandas frames read from the pipeline's CSV/Parquet outputs, per-seed inputs as
dicts seed -> table. The section functions at the end (`<key>_section`, named by the rule
files' section declarations, `tracin_study.sections`) read a section's files and call them.
"""

import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tracin_study import claims, paper, statistics
from tracin_study.checkpoints import Checkpoint, Manifest, load_checkpoint, read_manifest
from tracin_study.data import CAPPED_PRICE, TARGET, PreparedFiles, load_prepared
from tracin_study.experiments import sweep
from tracin_study.geo import in_bay_area
from tracin_study.influence import TracInCP
from tracin_study.palo_alto import odd_houses
from tracin_study.provenance import seconds_since
from tracin_study.statistics import spearman

QUALITY = {  # summary key -> (split, metric) of a training run's metrics.json
    "train explained variance": ("train", "explained_variance"),
    "test explained variance": ("test", "explained_variance"),
    "train MSE": ("train", "mse"),
    "test MSE": ("test", "mse"),
}


def provenance(git_commit, config_hash: str, seeds, source: dict, elapsed_s: float) -> dict:
    """Who computed the summary: git commit, config hash (`config.config_hash` of the
    whole config), UTC date, machine, seeds, the data source (`source.json`'s `source`) and
    seconds since the data stage (`elapsed_s`)."""
    return {
        "git_commit": git_commit,
        "config_hash": config_hash,
        "date_utc": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "seeds": list(seeds),
        "data_source": source["source"],
        "elapsed_since_data_stage_s": round(elapsed_s, 1),
    }


def quality_table(fits: dict[int, dict]) -> pd.DataFrame:
    """Explained variance and MSE (in ($100,000)^2) of both splits, one row per seed (index
    `seed`), from seed -> metrics.json."""
    columns = {
        name: {s: f[split][metric] for s, f in fits.items()}
        for name, (split, metric) in QUALITY.items()
    }
    return pd.DataFrame(columns).rename_axis("seed")


def model_quality(fits: dict[int, dict]) -> dict:
    """Per column of `quality_table`: per_seed values with mean, sd, 95% interval and n."""
    table = quality_table(fits)
    return {
        column: {"per_seed": table[column].to_dict(), **statistics.mean_sd_ci(table[column])}
        for column in table.columns
    }


def stability_matrices(
    self_influence: dict[int, pd.DataFrame], proponents: dict[int, pd.DataFrame], top_n: int
) -> dict[str, pd.DataFrame]:
    """Seed x seed agreement matrices: Spearman correlation of self-influence, share of the
    top `top_n` self-influence houses in common, share of the Palo Alto top-k proponents
    in common."""
    return {
        "self_influence_spearman": statistics.pairwise(
            self_influence, lambda a, b: spearman(a["self_influence"], b["self_influence"])
        ),
        "self_influence_top_overlap": statistics.pairwise(
            self_influence, lambda a, b: statistics.self_influence_overlap(a, b, top_n)
        ),
        "proponent_top_overlap": statistics.pairwise(proponents, statistics.proponent_set_overlap),
    }


def stability(matrices: dict[str, pd.DataFrame]) -> dict:
    """Name -> the jackknife-over-seeds interval of each matrix of `stability_matrices`."""
    return {name: statistics.seed_pairs_interval(matrix) for name, matrix in matrices.items()}


def geography(self_influence: pd.DataFrame, top_n: int) -> dict:
    """Share of houses inside the Bay Area (`geo.in_bay_area`) among the `top_n` of highest
    (`high`) and of lowest (`low`) self-influence of one seed's table and among all (`all`),
    each {"bay_area_share": share in [0, 1], "n": houses}."""
    order = self_influence.sort_values("self_influence", ascending=False)
    sets = {"high": order.head(top_n), "low": order.tail(top_n), "all": order}
    return {
        name: {
            "bay_area_share": float(in_bay_area(t["Latitude"], t["Longitude"]).mean()),
            "n": len(t),
        }
        for name, t in sets.items()
    }


def records(table: pd.DataFrame) -> list[dict]:
    """A table as JSON-ready rows, its index as columns."""
    return table.reset_index().to_dict(orient="records")


def final_predictions(manifest: Manifest, X: np.ndarray) -> np.ndarray:
    """Predictions (M,) in $100,000 of the last checkpoint of `manifest` on features X (M, F)."""
    model = load_checkpoint(manifest.checkpoints[-1], manifest.build_model())
    with torch.no_grad():
        return model(torch.as_tensor(X)).numpy().ravel()


def palo_alto_per_house(
    houses: pd.DataFrame,
    proponents: dict[int, pd.DataFrame],
    train: pd.DataFrame,
    predictions: dict[int, np.ndarray],
) -> dict:
    """The per-house Palo Alto claim (`claims.per_house_verdicts`) with its per-seed rows."""
    rows = claims.per_house_table(houses, proponents, train, predictions)
    return {**claims.per_house_verdicts(rows), "per_seed": rows.to_dict(orient="records")}


def brute_force_self_influence(manifest: Manifest, checkpoints: list[Checkpoint], x, y) -> float:
    """TracInCP(z, z) = sum_i eta_i ||grad l(w_i, z)||^2 of one house (features x (F,),
    price y in $100,000), with one autograd call per checkpoint in float64."""
    model = manifest.build_model().double()
    total = 0.0
    for checkpoint in checkpoints:
        load_checkpoint(checkpoint, model)
        prediction = model(torch.as_tensor(x, dtype=torch.float64)[None]).squeeze()
        grads = torch.autograd.grad((prediction - float(y)) ** 2, list(model.parameters()))
        total += checkpoint.learning_rate * sum(float((g**2).sum()) for g in grads)
    return total


def check_houses(stored: np.ndarray) -> np.ndarray:
    """Five training rows to check: the two highest, the median and the two lowest of the
    stored self-influence (N,)."""
    order = np.argsort(-stored)
    return np.concatenate([order[:2], order[len(order) // 2 :][:1], order[-2:]])


def engine_check(
    manifest: Manifest, epochs, X: np.ndarray, y: np.ndarray, stored: np.ndarray
) -> pd.DataFrame:
    """The engine's self-influence against brute force on the `check_houses` of `stored`
    (the pipeline's self-influence, (N,)): one row per house with its train row, price, the
    stored value, the engine's now, brute force and the relative error (engine vs brute)."""
    checkpoints = manifest.select(epochs)
    rows = check_houses(stored)
    engine = TracInCP(manifest.build_model(), checkpoints, progress=False)
    now = engine.self_influence(X[rows], y[rows]).sum(0)
    brute = np.array([brute_force_self_influence(manifest, checkpoints, X[i], y[i]) for i in rows])
    return pd.DataFrame(
        {
            "training row": rows,
            "price ($100,000)": y[rows],
            "pipeline": stored[rows],
            "engine now": now,
            "brute force": brute,
            "relative error": np.abs(now - brute) / np.abs(brute),
        }
    )


def worked_example(seed: int, check: pd.DataFrame) -> dict:
    """The worked example's summary: its seed and the largest relative error of the engine
    against brute force in `engine_check`'s table."""
    return {
        "seed": seed,
        "max_relative_error_engine_vs_brute_force": float(check["relative error"].max()),
    }


def approximation_chain(table: pd.DataFrame) -> list[dict]:
    """The rows of the approximation chain's summary measured against TracInIdeal."""
    return table[table["reference"] == "ideal"].to_dict(orient="records")


def corruption_detection(doc: dict, recall_by_change: list[pd.DataFrame]) -> dict:
    """The corruption summary (`doc`) with the recall by size of change: the per-seed tables'
    mean over seeds per (score, change) of n_corrupted and every recall_at_* column."""
    by_change = pd.concat(recall_by_change)
    columns = ["n_corrupted", *[c for c in by_change.columns if c.startswith("recall_at_")]]
    means = by_change.groupby(["score", "change"])[columns].mean()
    return {**doc, "recall_by_change": records(means)}


def recipe_sweep(ev_table: pd.DataFrame, selection: dict, closest_claims: dict) -> dict:
    """The sweep's recipes (`sweep.recipe_table`), its selection and the closest recipe's
    claims (the claims rule's document)."""
    return {
        "recipes": records(sweep.recipe_table(ev_table)),
        "selection": selection,
        "closest_recipe_claims": closest_claims["claims"],
    }


def matrix_doc(matrix: pd.DataFrame) -> dict:
    """A seed x seed matrix as JSON: {"seeds": [...], "values": rows of floats}."""
    return {"seeds": [int(s) for s in matrix.index], "values": matrix.to_numpy().tolist()}


def palo_alto_selection(houses: pd.DataFrame) -> dict:
    """What the "n nearest test houses" rule selected, from palo_alto_test_points.csv: the
    number of houses, the farthest distance (km), the number at the price cap, and the odd
    houses (`palo_alto.odd_houses`): their number, mean latitude and longitude, mean median
    income and price ($100,000), and the same means of the others."""
    odd = odd_houses(houses)
    return {
        "n_houses": len(houses),
        "max_distance_km": float(houses["distance_km"].max()),
        "n_capped": int((houses[TARGET] >= CAPPED_PRICE).sum()),
        "n_odd": int(odd.sum()),
        "odd": {
            "latitude": float(houses.loc[odd, "Latitude"].mean()),
            "longitude": float(houses.loc[odd, "Longitude"].mean()),
            "median_income": float(houses.loc[odd, "MedInc"].mean()),
            "price": float(houses.loc[odd, TARGET].mean()),
        },
        "others": {
            "median_income": float(houses.loc[~odd, "MedInc"].mean()),
            "price": float(houses.loc[~odd, TARGET].mean()),
        },
    }


# The section functions: (files, context) -> a section of summary.json, `files` the section's
# declared inputs (name -> path, or list of paths per seed in the order of `context.seeds`).


@dataclass(frozen=True)
class Context:
    """What every section may use besides its files: the study's seeds, the report's top_n
    (houses of highest and lowest self-influence), the checkpoint epochs of TracInCP
    (influence.epochs), the config's hash and the git commit of the code."""

    seeds: tuple[int, ...]
    top_n: int
    epochs: tuple[int, ...]
    config_hash: str
    git_commit: str | None


def _json(path) -> dict:
    return json.loads(Path(path).read_text())


def _per_seed(paths, context: Context, read) -> dict:
    return {s: read(p) for s, p in zip(context.seeds, paths, strict=True)}


def _prepared(files):
    return load_prepared(PreparedFiles(*(Path(files[k]) for k in ("train", "test", "scaler"))))


def _manifest(files) -> Manifest:
    return read_manifest(Path(files["example_checkpoints"][0]) / "manifest.json")


def provenance_section(files, context: Context) -> dict:
    """`provenance` of the run, from the data stage's source.json."""
    source = files["source"]
    return provenance(
        context.git_commit, context.config_hash, context.seeds, _json(source), seconds_since(source)
    )


def claims_section(files, context: Context) -> list[dict]:
    """The default recipe's claims under raw TracInCP (the claims rule's document)."""
    return _json(files["claims_raw"])["claims"]


def claims_adam_section(files, context: Context) -> list[dict]:
    """The default recipe's claims under Adam-preconditioned TracInCP."""
    return _json(files["claims_adam"])["claims"]


def paper_facts_section(files, context: Context) -> list[dict]:
    """The paper's stated facts (`paper.FACTS`)."""
    return [vars(fact) for fact in paper.FACTS]


def worked_example_section(files, context: Context) -> dict:
    """`worked_example` of the first seed, its `engine_check` on the prepared split."""
    prepared = _prepared(files)
    seed = context.seeds[0]
    stored = pd.read_parquet(files["self_influence"][0])["self_influence"].to_numpy()
    check = engine_check(
        _manifest(files), list(context.epochs), prepared.X_train, prepared.y_train, stored
    )
    return worked_example(seed, check)


def model_quality_section(files, context: Context) -> dict:
    """`model_quality` of every seed's metrics.json."""
    return model_quality(_per_seed(files["metrics"], context, _json))


def self_influence_vs_loss_section(files, context: Context) -> list[dict]:
    """`claims.correlation_summary` of the claims' per-seed measurements."""
    measurements = pd.read_csv(files["measurements"], index_col="seed")
    return records(claims.correlation_summary(measurements))


def proponent_prices_section(files, context: Context) -> list[dict]:
    """`claims.price_summary` of the claims' per-seed measurements."""
    measurements = pd.read_csv(files["measurements"], index_col="seed")
    return records(claims.price_summary(measurements))


def palo_alto_per_house_section(files, context: Context) -> dict:
    """`palo_alto_per_house`, with the first seed's final predictions."""
    prepared = _prepared(files)
    houses = pd.read_csv(files["houses"])
    predictions = {context.seeds[0]: final_predictions(_manifest(files), prepared.features(houses))}
    proponents = _per_seed(files["proponents"], context, pd.read_parquet)
    return palo_alto_per_house(houses, proponents, prepared.train, predictions)


def palo_alto_selection_section(files, context: Context) -> dict:
    """`palo_alto_selection` of palo_alto_test_points.csv."""
    return palo_alto_selection(pd.read_csv(files["houses"]))


def self_influence_geography_section(files, context: Context) -> dict:
    """`geography` of the first seed's self-influence."""
    return geography(pd.read_parquet(files["self_influence"][0]), context.top_n)


def _stability_matrices(files, context: Context) -> dict[str, pd.DataFrame]:
    self_influence = _per_seed(files["self_influence"], context, pd.read_parquet)
    proponents = _per_seed(files["proponents"], context, pd.read_parquet)
    return stability_matrices(self_influence, proponents, context.top_n)


def stability_section(files, context: Context) -> dict:
    """`stability` of every seed's self-influence and proponents."""
    return stability(_stability_matrices(files, context))


def stability_matrices_section(files, context: Context) -> dict:
    """Name -> `matrix_doc` of each of `stability_matrices` (the report's heat maps)."""
    return {name: matrix_doc(m) for name, m in _stability_matrices(files, context).items()}


def approximation_chain_section(files, context: Context) -> list[dict]:
    """`approximation_chain` of the chain's summary table."""
    return approximation_chain(pd.read_csv(files["approximation_chain"]))


def checkpoint_ablation_section(files, context: Context) -> list[dict]:
    """The rows of the checkpoint ablation's summary table."""
    return pd.read_csv(files["checkpoint_ablation"]).to_dict(orient="records")


def corruption_detection_section(files, context: Context) -> dict:
    """`corruption_detection` of the corruption summary and every seed's recall table."""
    recall = [pd.read_csv(p) for p in files["corruption_recall"]]
    return corruption_detection(_json(files["corruption_json"]), recall)


def recipe_sweep_section(files, context: Context) -> dict:
    """`recipe_sweep` of the sweep's table and selection and the closest recipe's claims."""
    return recipe_sweep(
        pd.read_csv(files["sweep_table"]),
        _json(files["sweep_selection"]),
        _json(files["closest_recipe_claims"]),
    )


def documents_section(files, context: Context) -> dict:
    """Input name -> its JSON document, as written (the removal and LDS summaries)."""
    return {name: _json(path) for name, path in files.items()}
