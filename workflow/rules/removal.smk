# Removal test: retrain a seed without its Palo Alto proponents, its map neighbours or random
# training houses, and compare the test houses' loss with the full model's. Outputs under
# results/removal/.

from tracin_study.experiments.removal import removal_set_names

REMOVAL_SETS = removal_set_names(config["removal"]["random_draws"])


rule removal_train:
    """Retrain model {seed} without one set of training houses ({removal_set}), keeping only
    the final model, and record the Palo Alto test losses against the full model."""
    input:
        train="results/data/train.parquet",
        test="results/data/test.parquet",
        scaler="results/data/scaler.json",
        proponents="results/seed_{seed}/proponents.parquet",
        palo_alto="results/palo_alto_test_points.csv",
        manifest="results/seed_{seed}/checkpoints/manifest.json",
    output:
        "results/removal/seed_{seed}/{removal_set}.json",
    log:
        "results/logs/removal/seed_{seed}/{removal_set}.log",
    benchmark:
        "results/benchmarks/removal/seed_{seed}/{removal_set}.tsv"
    wildcard_constraints:
        removal_set=r"proponents|map_neighbours|random_\d+",
    threads: config["training"]["threads"]
    params:
        model=config["model"],
        training=config["training"],
        removal=config["removal"],
    script:
        "../scripts/removal_train.py"


rule removal_summary:
    """Gather the removal records: per-house loss changes and, per seed, the change in summed
    loss for each set and the proponents' excess over each baseline."""
    input:
        expand(
            "results/removal/seed_{seed}/{removal_set}.json",
            seed=config["removal"]["seeds"],
            removal_set=REMOVAL_SETS,
        ),
    output:
        per_house="results/removal/per_house.csv",
        effects="results/removal/effects.csv",
    log:
        "results/logs/removal/summary.log",
    benchmark:
        "results/benchmarks/removal/summary.tsv"
    script:
        "../scripts/removal_summary.py"
