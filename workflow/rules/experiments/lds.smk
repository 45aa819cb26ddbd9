# The LDS jobs: one retraining of model lds.seed's recipe per training subset.
LDS_JOBS = dict(subset=list(range(config["lds"]["subsets"])))
LDS_SEED = config["lds"]["seed"]


rule lds_train:
    """Retrain model lds.seed's recipe on training subset {subset} only, keeping only the
    final model, and record its squared error on each Palo Alto test house."""
    input:
        **prepared_data(DEFAULT),
        houses=of_recipe(rules.palo_alto_points.output.houses),
    output:
        record=results("lds/subset_{subset}.json"),
    log:
        log_file("lds_train", "subset_{subset}"),
    benchmark:
        benchmark_file("lds_train", "subset_{subset}")
    wildcard_constraints:
        subset=r"\d+",
    conda:
        ENVIRONMENT
    threads: config["training"]["threads"]
    resources:
        mem_mb=1100,
        runtime=30,
    params:
        model=settings("model"),
        training=settings("training"),
        lds=settings("lds"),
    script:
        "../../scripts/lds_train.py"


rule lds_scores:
    """TracInCP of every training house on the Palo Alto test houses, from model lds.seed's
    checkpoints, for each scoring method the LDS compares (two engine passes)."""
    input:
        **prepared_data(DEFAULT),
        checkpoints=expand(
            rules.train.output.checkpoints, recipe=DEFAULT, seed=LDS_SEED
        ),
        houses=of_recipe(rules.palo_alto_points.output.houses),
    output:
        scores=results("lds/scores.npz"),
    log:
        log_file("lds_scores"),
    benchmark:
        benchmark_file("lds_scores")
    conda:
        ENVIRONMENT
    threads: config["influence"]["threads"]
    resources:
        mem_mb=2200,
        runtime=20,
    params:
        influence=settings("influence"),
    script:
        "../../scripts/lds_scores.py"


rule lds_summary:
    """The LDS per scoring method and Palo Alto test house: Spearman correlation across the
    subsets of the loss the scores predict and the loss after retraining."""
    input:
        records=expand(rules.lds_train.output.record, **LDS_JOBS),
        scores=rules.lds_scores.output.scores,
    output:
        per_house=results("lds/per_house.csv"),
        by_method=results("lds/by_method.csv"),
        summary=results("lds/summary.json"),
    log:
        log_file("lds_summary"),
    benchmark:
        benchmark_file("lds_summary")
    localrule: True
    conda:
        ENVIRONMENT
    script:
        "../../scripts/lds_summary.py"


STUDY_TARGETS.extend(outputs_of(rules.lds_train, **LDS_JOBS))
STUDY_TARGETS.extend(outputs_of(rules.lds_scores))
STUDY_TARGETS.extend(outputs_of(rules.lds_summary))
REPORT_INPUTS.update(
    lds_per_house=rules.lds_summary.output.per_house,
    lds_by_method=rules.lds_summary.output.by_method,
    lds_summary=rules.lds_summary.output.summary,
)
