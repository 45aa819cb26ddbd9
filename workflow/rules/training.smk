rule train:
    """Train model {seed} with recipe {recipe} (Adam), saving a checkpoint every
    `training.checkpoint_every` epochs of the recipe with their manifest, the metrics and
    the loss curve."""
    input:
        **prepared_data(),
        **recipe_settings("training"),
    output:
        # The saved epochs of the closest recipe are known only once its training.json exists,
        # so the checkpoints are one folder, for every recipe. Its manifest.json is declared
        # too, so that a deleted one replans the training; the Snakefile compares the files
        # with the manifest at every invocation (tracin_study.manifest_check).
        checkpoints=directory(results("{recipe}/seed_{seed}/checkpoints")),
        manifest=results("{recipe}/seed_{seed}/checkpoints/manifest.json"),
        metrics=results("{recipe}/seed_{seed}/metrics.json"),
        curve=results("{recipe}/seed_{seed}/loss_curve.csv"),
    log:
        log_file("train", "{recipe}_seed_{seed}"),
    benchmark:
        benchmark_file("train", "{recipe}_seed_{seed}")
    conda:
        ENVIRONMENT
    threads: TRAINING.threads
    resources:
        mem_mb=1100,
        runtime=30,
    script:
        "../scripts/train.py"


STUDY_TARGETS.extend(outputs_of(rules.train, RECIPE_SEEDS))
report_section(
    sections.MODEL_QUALITY,
    "tracin_study.summary.model_quality_section",
    {"metrics": per_seed(rules.train.output.metrics)},
    figure_inputs={"curves": per_seed(rules.train.output.curve)},
)
