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
        **prepared_data(DEFAULT),
        proponents=of_recipe(rules.seed_influence.output.proponents),
        houses=of_recipe(rules.palo_alto_points.output.houses),
        checkpoints=of_recipe(rules.train.output.checkpoints),
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
    resources:
        mem_mb=1100,
        runtime=30,
    params:
        model=settings("model"),
        training=settings("training"),
        removal=settings("removal"),
    script:
        "../../scripts/removal_train.py"


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
    localrule: True
    conda:
        ENVIRONMENT
    script:
        "../../scripts/removal_summary.py"


STUDY_TARGETS.extend(outputs_of(rules.removal_train, **REMOVAL_JOBS))
STUDY_TARGETS.extend(outputs_of(rules.removal_summary))
REPORT_INPUTS.update(
    removal_effects=rules.removal_summary.output.effects,
    removal_per_house=rules.removal_summary.output.per_house,
)
