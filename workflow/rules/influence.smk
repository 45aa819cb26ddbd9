rule seed_influence:
    """TracInCP of model {seed} of recipe {recipe} over the recipe's influence epochs, raw
    and Adam-preconditioned: the self-influence of every training house and the proponents
    and opponents of the Palo Alto test houses."""
    input:
        **prepared_data(),
        **recipe_settings("influence"),
        checkpoints=rules.train.output.checkpoints,
        houses=rules.palo_alto_points.output.houses,
    output:
        self_influence=results("{recipe}/seed_{seed}/self_influence.parquet"),
        proponents=results("{recipe}/seed_{seed}/proponents.parquet"),
        proponents_adam=results("{recipe}/seed_{seed}/proponents_adam.parquet"),
        self_per_checkpoint=results(
            "{recipe}/seed_{seed}/self_influence_per_checkpoint.npz"
        ),
        influence_per_checkpoint=results(
            "{recipe}/seed_{seed}/palo_alto_influence_per_checkpoint.npz"
        ),
    log:
        log_file("seed_influence", "{recipe}_seed_{seed}"),
    benchmark:
        benchmark_file("seed_influence", "{recipe}_seed_{seed}")
    conda:
        ENVIRONMENT
    threads: SETTINGS.influence.threads
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../scripts/seed_influence.py"


STUDY_TARGETS.extend(outputs_of(rules.seed_influence, STUDIED_RECIPES))
REPORT_INPUTS.update(
    self_influence=per_seed(rules.seed_influence.output.self_influence),
    proponents=per_seed(rules.seed_influence.output.proponents),
    proponents_adam=per_seed(rules.seed_influence.output.proponents_adam),
)
