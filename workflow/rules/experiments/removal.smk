# The removal test, per recipe of `experiments.removal.recipes`: each seed's retrainings
# (`run_plans.removal_retrainings`) in chunks of `chunk`, one job per (recipe, seed, chunk).
from tracin_study.run_plans import removal_jobs

# recipe -> its jobs' wildcard values (seed, chunk)
REMOVAL_JOBS = {
    recipe: removal_jobs(removal, SETTINGS.palo_alto.n_houses)
    for recipe, removal in SETTINGS.removal.items()
}


rule removal_train:
    """Retrain model {seed} of recipe {recipe} without each removal set of chunk {chunk}
    of its plan (several retrainings in one process, one log line each) and record the
    Palo Alto test losses against the full model's."""
    input:
        **prepared_data(),
        **recipe_settings("training"),
        influence=rules.seed_influence.output.influence_per_checkpoint,
        houses=rules.palo_alto_points.output.houses,
        checkpoints=rules.train.output.checkpoints,
    output:
        records=results("{recipe}/removal/seed_{seed}/chunk_{chunk}.json"),
    log:
        log_file("removal_train", "{recipe}_seed_{seed}_chunk_{chunk}"),
    benchmark:
        benchmark_file("removal_train", "{recipe}_seed_{seed}_chunk_{chunk}")
    wildcard_constraints:
        chunk=r"\d+",
    conda:
        ENVIRONMENT
    threads: TRAINING.threads
    resources:
        mem_mb=1100,
        runtime=60,
    params:
        removal=lambda w: SETTINGS.removal[w.recipe].params(),
    script:
        "../../scripts/removal_train.py"


rule removal_summary:
    """The removal test on recipe {recipe}: the noise of each protocol, the removal curves
    and the verdicts per house and in aggregate, each with its smallest detectable effect.
    """
    input:
        records=lambda w: expand(
            rules.removal_train.output.records,
            recipe=w.recipe,
            **REMOVAL_JOBS[w.recipe],
        ),
    output:
        summary=results("{recipe}/removal/summary.json"),
        noise=results("{recipe}/removal/noise.csv"),
        curves=results("{recipe}/removal/curves.csv"),
        verdicts=results("{recipe}/removal/verdicts.csv"),
    log:
        log_file("removal_summary", "{recipe}"),
    benchmark:
        benchmark_file("removal_summary", "{recipe}")
    localrule: True
    conda:
        ENVIRONMENT
    params:
        removal=lambda w: SETTINGS.removal[w.recipe].params(),
    script:
        "../../scripts/removal_summary.py"


for recipe, jobs in REMOVAL_JOBS.items():
    STUDY_TARGETS.extend(outputs_of(rules.removal_train, recipe=recipe, **jobs))
    STUDY_TARGETS.extend(outputs_of(rules.removal_summary, recipe=recipe))
# The recipes sorted, not in the config's key order: a reordered config plans no rerun.
if REMOVAL_JOBS:
    report_section(
        sections.REMOVAL,
        "tracin_study.summary.documents_section",
        {
            f"removal_summary_{recipe}": of_recipe(
                rules.removal_summary.output.summary, recipe
            )
            for recipe in sorted(REMOVAL_JOBS)
        },
    )
