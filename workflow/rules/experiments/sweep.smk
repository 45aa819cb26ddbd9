# Why our models fit better than the paper's: recipes that each change one factor of the
# study's recipe, trained for sweep.seeds by the study's own rules (recipe name as the
# `{recipe}` wildcard); the (recipe, epoch) whose explained variances are closest to the
# paper's, which becomes the recipe `closest` (tracin_study.experiments.sweep).

# The sweep's curves: each recipe with each sweep seed, the default recipe's included.
SWEEP_RECIPES = [DEFAULT, *SWEEP.recipes]


rule sweep_summary:
    """Gather every recipe's explained variances over epochs (the default recipe's from the
    study's own loss curves of sweep.seeds) and choose the recipe and epoch closest to the
    paper's."""
    input:
        curves=expand(rules.train.output.curve, recipe=SWEEP_RECIPES, seed=SWEEP.seeds),
    output:
        table=results("sweep/explained_variance.csv"),
        selection=results("sweep/selection.json"),
    log:
        log_file("sweep_summary"),
    benchmark:
        benchmark_file("sweep_summary")
    localrule: True
    conda:
        ENVIRONMENT
    params:
        recipes=SWEEP_RECIPES,
        sweep=SWEEP.params(),
    script:
        "../../scripts/sweep_summary.py"


STUDY_TARGETS.extend(outputs_of(rules.sweep_summary))
report_section(
    sections.RECIPE_SWEEP,
    "tracin_study.summary.recipe_sweep_section",
    {
        "sweep_table": rules.sweep_summary.output.table,
        "sweep_selection": rules.sweep_summary.output.selection,
        "closest_recipe_claims": expand(
            rules.claims.output.claims, recipe=CLOSEST, score="raw"
        )[0],
    },
    figure_inputs={"sweep_table": rules.sweep_summary.output.table},
)


rule sweep:
    """The recipe sweep and the claims rerun on the closest recipe, alone."""
    input:
        rules.sweep_summary.output,
        expand(rules.claims.output, recipe=CLOSEST, score=SCORES),
    localrule: True
