rule seed_influence:
    """TracInCP of one seed over the configured checkpoints, raw and Adam-preconditioned: the
    self-influence of every training house and the proponents and opponents of the Palo
    Alto test houses."""
    input:
        **prepared_data(),
        manifest=rules.train.output.manifest,
        checkpoints=rules.train.output.checkpoints,
        houses=rules.palo_alto_points.output.houses,
    output:
        self_influence=results("seed_{seed}/self_influence.parquet"),
        proponents=results("seed_{seed}/proponents.parquet"),
        proponents_adam=results("seed_{seed}/proponents_adam.parquet"),
        self_per_checkpoint=results("seed_{seed}/self_influence_per_checkpoint.npz"),
        influence_per_checkpoint=results(
            "seed_{seed}/palo_alto_influence_per_checkpoint.npz"
        ),
    log:
        log_file("seed_influence", "seed_{seed}"),
    benchmark:
        benchmark_file("seed_influence", "seed_{seed}")
    conda:
        ENVIRONMENT
    threads: config["influence"]["threads"]
    params:
        influence=settings("influence"),
    script:
        "../scripts/seed_influence.py"
