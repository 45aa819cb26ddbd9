rule recipe:
    """The full settings of recipe {recipe} (data, model, training, the influence epochs):
    the config's, with the sweep recipe's overrides, or for `closest` the sweep's choice
    (selection.json). Every later step of the recipe reads its settings from here."""
    input:
        selection=lambda w: (
            rules.sweep_summary.output.selection if w.recipe == CLOSEST else []
        ),
    output:
        recipe=results("{recipe}/recipe.json"),
    log:
        log_file("recipe", "{recipe}"),
    benchmark:
        benchmark_file("recipe", "{recipe}")
    localrule: True
    conda:
        ENVIRONMENT
    params:
        recipe=lambda w: canonical(recipe_params(config, w.recipe)),
    script:
        "../scripts/recipe.py"


rule prepare_data:
    """Fetch the table (or read the shipped snapshot), verify its checksum, split it 8:2 and
    fit the feature scaler on the training split, as recipe {recipe} says."""
    input:
        recipe=rules.recipe.output.recipe,
    output:
        train=results("{recipe}/data/train.parquet"),
        test=results("{recipe}/data/test.parquet"),
        scaler=results("{recipe}/data/scaler.json"),
        source=results("{recipe}/data/source.json"),
    log:
        log_file("prepare_data", "{recipe}"),
    benchmark:
        benchmark_file("prepare_data", "{recipe}")
    localrule: True
    conda:
        ENVIRONMENT
    script:
        "../scripts/prepare_data.py"


STUDY_TARGETS.extend(outputs_of(rules.recipe, RECIPE_SEEDS))
STUDY_TARGETS.extend(outputs_of(rules.prepare_data, RECIPE_SEEDS))


rule palo_alto_points:
    """The test houses of recipe {recipe}'s split nearest to the centre of Palo Alto, whose
    proponents the paper shows."""
    input:
        test=rules.prepare_data.output.test,
    output:
        houses=results("{recipe}/palo_alto_test_points.csv"),
    log:
        log_file("palo_alto_points", "{recipe}"),
    benchmark:
        benchmark_file("palo_alto_points", "{recipe}")
    localrule: True
    conda:
        ENVIRONMENT
    params:
        palo_alto=settings("palo_alto"),
    script:
        "../scripts/palo_alto_points.py"


STUDY_TARGETS.extend(outputs_of(rules.palo_alto_points, STUDIED_RECIPES))
REPORT_INPUTS.update(
    prepared_data(DEFAULT),
    source=of_recipe(rules.prepare_data.output.source),
    houses=of_recipe(rules.palo_alto_points.output.houses),
)
