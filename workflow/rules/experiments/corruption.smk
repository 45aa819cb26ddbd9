# The corruption experiment on the seeds of `experiments.corruption.seeds`.
CORRUPTION_SEEDS = list(SETTINGS.corruption.seeds)


rule corruption_train:
    """Swap the targets of a fraction of the training houses, then train as the main models."""
    input:
        **prepared_data(DEFAULT),
    output:
        manifest=results("corruption/seed_{seed}/checkpoints/manifest.json"),
        checkpoints=checkpoint_files(
            results("corruption/seed_{seed}/checkpoints"), TRAINING.checkpoint_epochs()
        ),
        targets=results("corruption/seed_{seed}/targets.parquet"),
        metrics=results("corruption/seed_{seed}/metrics.json"),
    log:
        log_file("corruption_train", "seed_{seed}"),
    benchmark:
        benchmark_file("corruption_train", "seed_{seed}")
    conda:
        ENVIRONMENT
    threads: TRAINING.threads
    resources:
        mem_mb=1100,
        runtime=30,
    params:
        training=TRAINING.params(),
        corruption=SETTINGS.corruption.params(),
    script:
        "../../scripts/corruption_train.py"


rule corruption_scores:
    """Rank the training houses by self-influence and by loss-based scores, and measure how
    well each ranking finds the corrupted ones, also split by the size of the change (below
    or above the model's own test RMSE)."""
    input:
        **prepared_data(DEFAULT),
        manifest=rules.corruption_train.output.manifest,
        checkpoints=rules.corruption_train.output.checkpoints,
        targets=rules.corruption_train.output.targets,
        metrics=rules.corruption_train.output.metrics,
    output:
        scores=results("corruption/seed_{seed}/scores.parquet"),
        detection=results("corruption/seed_{seed}/detection.csv"),
        recall_by_change=results("corruption/seed_{seed}/recall_by_change.csv"),
        curves=results("corruption/seed_{seed}/curves.csv"),
    log:
        log_file("corruption_scores", "seed_{seed}"),
    benchmark:
        benchmark_file("corruption_scores", "seed_{seed}")
    conda:
        ENVIRONMENT
    threads: SETTINGS.influence.threads
    resources:
        mem_mb=1100,
        runtime=10,
    params:
        influence=SETTINGS.influence.params(),
        corruption=SETTINGS.corruption.params(),
        experiments=SETTINGS.experiments.params(),
    script:
        "../../scripts/corruption_scores.py"


rule corruption_summary:
    """Detection of corrupted targets over seeds: recall and precision at fixed budgets."""
    input:
        detection=expand(
            rules.corruption_scores.output.detection, seed=CORRUPTION_SEEDS
        ),
        curves=expand(rules.corruption_scores.output.curves, seed=CORRUPTION_SEEDS),
    output:
        summary=results("corruption/summary.csv"),
        summary_json=results("corruption/summary.json"),
        figure=results("corruption/detection_curves.png"),
    log:
        log_file("corruption_summary"),
    benchmark:
        benchmark_file("corruption_summary")
    localrule: True
    conda:
        ENVIRONMENT
    params:
        corruption=SETTINGS.corruption.params(),
    script:
        "../../scripts/corruption_summary.py"


STUDY_TARGETS.extend(outputs_of(rules.corruption_train, seed=CORRUPTION_SEEDS))
STUDY_TARGETS.extend(outputs_of(rules.corruption_scores, seed=CORRUPTION_SEEDS))
STUDY_TARGETS.extend(outputs_of(rules.corruption_summary))
report_section(
    sections.CORRUPTION_DETECTION,
    "tracin_study.summary.corruption_detection_section",
    {
        "corruption_json": rules.corruption_summary.output.summary_json,
        "corruption_recall": expand(
            rules.corruption_scores.output.recall_by_change, seed=CORRUPTION_SEEDS
        ),
    },
    figure_inputs={
        "corruption_curves": expand(
            rules.corruption_scores.output.curves, seed=CORRUPTION_SEEDS
        )
    },
)
