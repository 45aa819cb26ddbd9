rule seed_influence:
    """TracInCP of model {seed} of recipe {recipe} over the recipe's influence epochs, raw
    and Adam-preconditioned: the self-influence of every training house and the proponents
    and opponents of the Palo Alto test houses."""
    input:
        **prepared_data(),
        **recipe_settings("influence"),
        checkpoints=rules.train.output.checkpoints,
        houses=rules.palo_alto_points.output.houses,
    output:
        self_influence=results("{recipe}/seed_{seed}/self_influence.parquet"),
        proponents=results("{recipe}/seed_{seed}/proponents.parquet"),
        proponents_adam=results("{recipe}/seed_{seed}/proponents_adam.parquet"),
        self_per_checkpoint=results(
            "{recipe}/seed_{seed}/self_influence_per_checkpoint.npz"
        ),
        influence_per_checkpoint=results(
            "{recipe}/seed_{seed}/palo_alto_influence_per_checkpoint.npz"
        ),
    log:
        log_file("seed_influence", "{recipe}_seed_{seed}"),
    benchmark:
        benchmark_file("seed_influence", "{recipe}_seed_{seed}")
    conda:
        ENVIRONMENT
    threads: SETTINGS.influence.threads
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../scripts/seed_influence.py"


STUDY_TARGETS.extend(outputs_of(rules.seed_influence, STUDIED_RECIPES))
SELF_INFLUENCE = {
    "self_influence": per_seed(rules.seed_influence.output.self_influence)
}
PROPONENTS = {"proponents": per_seed(rules.seed_influence.output.proponents)}
# the first seed's model of the default recipe, with the prepared data it was trained on
EXAMPLE_MODEL = {
    **prepared_data(DEFAULT),
    "example_checkpoints": expand(
        rules.train.output.checkpoints, recipe=DEFAULT, seed=SEEDS[0]
    ),
}
report_section(
    sections.WORKED_EXAMPLE,
    "tracin_study.summary.worked_example_section",
    {**EXAMPLE_MODEL, **SELF_INFLUENCE},
    # the report's usage example runs TracInCP on this model for a Palo Alto house
    figure_inputs={
        **EXAMPLE_MODEL,
        "houses": of_recipe(rules.palo_alto_points.output.houses),
    },
)
report_section(
    sections.PALO_ALTO_PER_HOUSE,
    "tracin_study.summary.palo_alto_per_house_section",
    {
        **EXAMPLE_MODEL,
        **PROPONENTS,
        "houses": of_recipe(rules.palo_alto_points.output.houses),
    },
    figure_inputs=PROPONENTS,
)
report_section(
    sections.SELF_INFLUENCE_GEOGRAPHY,
    "tracin_study.summary.self_influence_geography_section",
    SELF_INFLUENCE,
    figure_inputs=SELF_INFLUENCE,
)
report_section(
    sections.STABILITY,
    "tracin_study.summary.stability_section",
    SELF_INFLUENCE | PROPONENTS,
)
report_section(
    sections.STABILITY_MATRICES,
    "tracin_study.summary.stability_matrices_section",
    SELF_INFLUENCE | PROPONENTS,
)
