# The study's claims of one recipe under one score, from the tested functions of
# tracin_study.claims: `raw` (TracInCP as the paper defines it) and `adam` (preconditioned).
from tracin_study.run_plans import TRACIN_SCORES

SCORES = list(TRACIN_SCORES)
SUFFIX = {
    "raw": "",
    "adam": "_adam",
}  # of the score's proponents output of seed_influence
# the recipes the removal test runs on (workflow/rules/experiments/removal.smk)
REMOVAL_RECIPES = list(SETTINGS.removal)


rule claims:
    """Measure and judge the paper's claims on every seed of recipe {recipe} under score
    {score} (with the removal claims where the removal test runs on the recipe)."""
    input:
        **prepared_data(),
        selection=closest_selection,
        houses=rules.palo_alto_points.output.houses,
        self_influence=lambda w: recipe_jobs(
            rules.seed_influence.output.self_influence, w.recipe
        ),
        proponents=lambda w: recipe_jobs(
            rules.seed_influence.output[f"proponents{SUFFIX[w.score]}"], w.recipe
        ),
        metrics=lambda w: recipe_jobs(rules.train.output.metrics, w.recipe),
        removal=lambda w: (
            expand(rules.removal_summary.output.summary, recipe=w.recipe)[0]
            if w.recipe in REMOVAL_RECIPES
            else []
        ),
    output:
        claims=results("{recipe}/claims/{score}.json"),
        table=results("{recipe}/claims/{score}.csv"),
        measurements=results("{recipe}/claims/{score}_measurements.csv"),
    log:
        log_file("claims", "{recipe}_{score}"),
    benchmark:
        benchmark_file("claims", "{recipe}_{score}")
    wildcard_constraints:
        score="|".join(SCORES),
    localrule: True
    conda:
        ENVIRONMENT
    params:
        seeds=lambda w: RECIPE_SEEDS[w.recipe],
        report=SETTINGS.report.params(),
    script:
        "../scripts/claims.py"


STUDY_TARGETS.extend(outputs_of(rules.claims, recipe=STUDIED_RECIPES, score=SCORES))
# the default recipe's claim measurements under raw TracInCP
MEASUREMENTS = {
    "measurements": expand(
        rules.claims.output.measurements, recipe=DEFAULT, score="raw"
    )[0]
}
for key, score in [(sections.CLAIMS, "raw"), (sections.CLAIMS_ADAM, "adam")]:
    report_section(
        key,
        f"tracin_study.summary.{key}_section",
        {
            f"claims_{score}": expand(
                rules.claims.output.claims, recipe=DEFAULT, score=score
            )[0]
        },
    )
report_section(sections.PAPER_FACTS, "tracin_study.summary.paper_facts_section")
report_section(
    sections.SELF_INFLUENCE_VS_LOSS,
    "tracin_study.summary.self_influence_vs_loss_section",
    MEASUREMENTS,
)
report_section(
    sections.PROPONENT_PRICES,
    "tracin_study.summary.proponent_prices_section",
    MEASUREMENTS,
)
