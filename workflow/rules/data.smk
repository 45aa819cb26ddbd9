rule recipe:
    """Section {section} of the settings of recipe {recipe} (data; training, with the model;
    influence, TracInCP's): the config's, with the sweep recipe's overrides, or for
    `closest` with the sweep's choice (selection.json: its epochs). Each later step reads
    only the sections it depends on (`recipe_settings`)."""
    input:
        selection=closest_selection,
    output:
        settings=results("{recipe}/recipe/{section}.json"),
    log:
        log_file("recipe", "{recipe}_{section}"),
    benchmark:
        benchmark_file("recipe", "{recipe}_{section}")
    wildcard_constraints:
        section="|".join(RECIPE_SECTIONS),
    localrule: True
    conda:
        ENVIRONMENT
    params:
        settings=lambda w: section_settings(SETTINGS, w.recipe, w.section).params(),
    script:
        "../scripts/recipe.py"


rule prepare_data:
    """Fetch the table (or read the shipped snapshot), verify its checksum, split it 8:2 and
    fit the feature scaler on the training split, as recipe {recipe} says."""
    input:
        **recipe_settings("data"),
        snapshot=str(shipped_snapshot()),  # read when data.source is snapshot, or offline
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


# every recipe is trained; the influence epochs are of the studied recipes only
STUDY_TARGETS.extend(
    outputs_of(rules.recipe, recipe=list(RECIPE_SEEDS), section=["data", "training"])
)
STUDY_TARGETS.extend(
    outputs_of(rules.recipe, recipe=STUDIED_RECIPES, section=["influence"])
)
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
        palo_alto=SETTINGS.palo_alto.params(),
    script:
        "../scripts/palo_alto_points.py"


STUDY_TARGETS.extend(outputs_of(rules.palo_alto_points, STUDIED_RECIPES))
report_section(
    sections.PROVENANCE,
    "tracin_study.summary.provenance_section",
    {"source": of_recipe(rules.prepare_data.output.source)},
)
report_section(
    sections.PALO_ALTO_SELECTION,
    "tracin_study.summary.palo_alto_selection_section",
    {"houses": of_recipe(rules.palo_alto_points.output.houses)},
    figure_inputs={
        "houses": of_recipe(rules.palo_alto_points.output.houses),
        "train": of_recipe(rules.prepare_data.output.train),
    },
)
