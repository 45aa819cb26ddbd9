rule train:
    """Train the MLP for one seed with Adam, saving a checkpoint every
    `training.checkpoint_every` epochs, a manifest of them, the metrics and the loss curve.
    """
    input:
        **prepared_data(),
    output:
        manifest=results("seed_{seed}/checkpoints/manifest.json"),
        checkpoints=checkpoint_files(
            results("seed_{seed}/checkpoints"), TRAINING.checkpoint_epochs()
        ),
        metrics=results("seed_{seed}/metrics.json"),
        curve=results("seed_{seed}/loss_curve.csv"),
    log:
        log_file("train", "seed_{seed}"),
    benchmark:
        benchmark_file("train", "seed_{seed}")
    conda:
        ENVIRONMENT
    threads: config["training"]["threads"]
    params:
        model=settings("model"),
        training=settings("training"),
    script:
        "../scripts/train.py"
