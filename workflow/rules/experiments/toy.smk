rule toy_summary:
    """A toy experiment: the mean self-influence of each seed of the default recipe."""
    localrule: True
    input:
        self_influence=per_seed(rules.seed_influence.output.self_influence),
    output:
        summary=results("toy/summary.csv"),
    log:
        log_file("toy_summary"),
    benchmark:
        benchmark_file("toy_summary")
    conda:
        ENVIRONMENT
    params:
        seeds=SEEDS,
    script:
        "../../scripts/toy_summary.py"


STUDY_TARGETS.extend(outputs_of(rules.toy_summary))
REPORT_INPUTS.update(toy=rules.toy_summary.output.summary)
