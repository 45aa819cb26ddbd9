rule checkpoint_ablation:
    """On one main model: TracInCP on the paper's checkpoints against every saved one, and the
    last layer against all layers (agreement of scores and of top-k sets)."""
    input:
        **prepared_data(DEFAULT),
        checkpoints=of_recipe(rules.train.output.checkpoints),
        houses=of_recipe(rules.palo_alto_points.output.houses),
    output:
        scores=results("checkpoint_ablation/seed_{seed}/scores.npz"),
        comparison=results("checkpoint_ablation/seed_{seed}/comparison.csv"),
    log:
        log_file("checkpoint_ablation", "seed_{seed}"),
    benchmark:
        benchmark_file("checkpoint_ablation", "seed_{seed}")
    conda:
        ENVIRONMENT
    threads: SETTINGS.influence.threads
    resources:
        mem_mb=1200,
        runtime=10,
    params:
        influence=SETTINGS.influence.params(),
        experiments=SETTINGS.experiments.params(),
    script:
        "../../scripts/checkpoint_ablation.py"


rule checkpoint_ablation_summary:
    """Mean and spread of the checkpoint-ablation agreement over seeds."""
    input:
        comparison=per_seed(rules.checkpoint_ablation.output.comparison),
    output:
        summary=results("checkpoint_ablation/summary.csv"),
    log:
        log_file("checkpoint_ablation_summary"),
    benchmark:
        benchmark_file("checkpoint_ablation_summary")
    localrule: True
    conda:
        ENVIRONMENT
    script:
        "../../scripts/checkpoint_ablation_summary.py"


STUDY_TARGETS.extend(outputs_of(rules.checkpoint_ablation))
STUDY_TARGETS.extend(outputs_of(rules.checkpoint_ablation_summary))
report_section(
    sections.CHECKPOINT_ABLATION,
    "tracin_study.summary.checkpoint_ablation_section",
    {"checkpoint_ablation": rules.checkpoint_ablation_summary.output.summary},
)
