from tracin_study.plan import removal_set_names

# The removal jobs: each removal seed without each set of training houses.
REMOVAL_JOBS = dict(
    seed=config["removal"]["seeds"],
    removal_set=removal_set_names(config["removal"]["random_draws"]),
)


rule removal_train:
    """Retrain model {seed} without one set of training houses ({removal_set}), keeping only
    the final model, and record the Palo Alto test losses against the full model's."""
    input:
        **prepared_data(),
        proponents=rules.seed_influence.output.proponents,
        houses=rules.palo_alto_points.output.houses,
        manifest=rules.train.output.manifest,
        checkpoints=rules.train.output.checkpoints,
    output:
        record=results("removal/seed_{seed}/{removal_set}.json"),
    log:
        log_file("removal_train", "seed_{seed}_{removal_set}"),
    benchmark:
        benchmark_file("removal_train", "seed_{seed}_{removal_set}")
    wildcard_constraints:
        removal_set=r"proponents|map_neighbours|random_\d+",
    conda:
        ENVIRONMENT
    threads: config["training"]["threads"]
    params:
        model=settings("model"),
        training=settings("training"),
        removal=settings("removal"),
    script:
        "../scripts/removal_train.py"


rule removal_summary:
    """Gather the removal records: per-house loss changes and, per seed, the change in summed
    loss for each set and the proponents' excess over each baseline."""
    input:
        records=expand(rules.removal_train.output.record, **REMOVAL_JOBS),
    output:
        per_house=results("removal/per_house.csv"),
        effects=results("removal/effects.csv"),
    log:
        log_file("removal_summary"),
    benchmark:
        benchmark_file("removal_summary")
    conda:
        ENVIRONMENT
    script:
        "../scripts/removal_summary.py"
