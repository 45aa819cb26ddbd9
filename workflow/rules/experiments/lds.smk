# The LDS, per recipe of `experiments.lds.recipes`: its retrainings (`run_plans.lds_retrainings`:
# the scored subsets, then the noise ceiling's) in chunks of `chunk`, one job per
# (recipe, chunk), the scores on the query houses, and a summary.
from tracin_study.run_plans import lds_jobs

# recipe -> its jobs' wildcard values (chunk)
LDS_JOBS = {recipe: lds_jobs(lds) for recipe, lds in SETTINGS.lds.items()}
LDS_SEEDS = {recipe: lds.seed for recipe, lds in SETTINGS.lds.items()}


rule lds_train:
    """Retrain recipe {recipe}'s models on the training subsets of chunk {chunk} of the
    LDS's retrainings (several in one process, one log line each) and record each query
    house's squared error."""
    input:
        **prepared_data(),
        **recipe_settings("training"),
        houses=rules.palo_alto_points.output.houses,
    output:
        records=results("{recipe}/lds/chunk_{chunk}.json"),
    log:
        log_file("lds_train", "{recipe}_chunk_{chunk}"),
    benchmark:
        benchmark_file("lds_train", "{recipe}_chunk_{chunk}")
    wildcard_constraints:
        chunk=r"\d+",
    conda:
        ENVIRONMENT
    threads: TRAINING.threads
    resources:
        mem_mb=1100,
        runtime=60,
    params:
        lds=lambda w: SETTINGS.lds[w.recipe].params(),
    script:
        "../../scripts/lds_train.py"


rule lds_scores:
    """The scores of every training house on recipe {recipe}'s LDS query houses, from the
    checkpoints of its scored model: TracInCP raw, Adam-preconditioned, last layer, over
    every checkpoint, and the summed training loss (the score-free baseline)."""
    input:
        **prepared_data(),
        **recipe_settings("influence"),
        checkpoints=lambda w: expand(
            rules.train.output.checkpoints, recipe=w.recipe, seed=LDS_SEEDS[w.recipe]
        ),
        houses=rules.palo_alto_points.output.houses,
    output:
        scores=results("{recipe}/lds/scores.npz"),
    log:
        log_file("lds_scores", "{recipe}"),
    benchmark:
        benchmark_file("lds_scores", "{recipe}")
    conda:
        ENVIRONMENT
    threads: SETTINGS.influence.threads
    # 100 query houses: 4.6 GB peak and 10.6 min on the full default run (2 cores shared)
    resources:
        mem_mb=9500,
        runtime=90,
    params:
        lds=lambda w: SETTINGS.lds[w.recipe].params(),
    script:
        "../../scripts/lds_scores.py"


rule lds_summary:
    """The LDS on recipe {recipe}: mean over queries per score with its bootstrap interval,
    the paired differences, the noise ceiling, and the LDS per query."""
    input:
        records=lambda w: expand(
            rules.lds_train.output.records, recipe=w.recipe, **LDS_JOBS[w.recipe]
        ),
        scores=rules.lds_scores.output.scores,
        houses=rules.palo_alto_points.output.houses,
    output:
        summary=results("{recipe}/lds/summary.json"),
        per_query=results("{recipe}/lds/per_query.csv"),
    log:
        log_file("lds_summary", "{recipe}"),
    benchmark:
        benchmark_file("lds_summary", "{recipe}")
    localrule: True
    conda:
        ENVIRONMENT
    params:
        lds=lambda w: SETTINGS.lds[w.recipe].params(),
    script:
        "../../scripts/lds_summary.py"


for recipe, jobs in LDS_JOBS.items():
    STUDY_TARGETS.extend(outputs_of(rules.lds_train, recipe=recipe, **jobs))
    STUDY_TARGETS.extend(outputs_of(rules.lds_scores, recipe=recipe))
    STUDY_TARGETS.extend(outputs_of(rules.lds_summary, recipe=recipe))
if CLOSEST in LDS_JOBS:  # the report's LDS section is the closest recipe's
    report_section(
        sections.LDS,
        "tracin_study.summary.documents_section",
        {"lds_summary_closest": of_recipe(rules.lds_summary.output.summary, CLOSEST)},
    )
