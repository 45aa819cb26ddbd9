# Why our models fit better than the paper's: recipes that each change one factor of the
# study's recipe, trained for sweep.seeds; the (recipe, epoch) whose explained variances are
# closest to the paper's; and the claims rerun on it (tracin_study.experiments.sweep).

from tracin_study.config import SweepConfig

SWEEP = SweepConfig.from_config(config)
# The sweep's training jobs: each recipe with each sweep seed.
SWEEP_JOBS = dict(recipe=list(SWEEP.recipes), seed=SWEEP.seeds)
RERUN_JOBS = dict(seed=SWEEP.rerun_seeds)


rule sweep_prepare:
    """Split and scale the table as recipe {recipe} says (the study's data settings
    otherwise)."""
    output:
        train=results("sweep/{recipe}/data/train.parquet"),
        test=results("sweep/{recipe}/data/test.parquet"),
        scaler=results("sweep/{recipe}/data/scaler.json"),
        source=results("sweep/{recipe}/data/source.json"),
    log:
        log_file("sweep_prepare", "{recipe}"),
    benchmark:
        benchmark_file("sweep_prepare", "{recipe}")
    conda:
        ENVIRONMENT
    params:
        data=recipe_settings("data", SWEEP.recipes),
    script:
        "../scripts/prepare_data.py"


rule sweep_train:
    """Train model {seed} with recipe {recipe}, keeping the loss curve (explained variances
    every `training.curve_every` epochs) and the final metrics; the checkpoints are dropped.
    """
    input:
        train=rules.sweep_prepare.output.train,
        test=rules.sweep_prepare.output.test,
        scaler=rules.sweep_prepare.output.scaler,
    output:
        metrics=results("sweep/{recipe}/seed_{seed}/metrics.json"),
        curve=results("sweep/{recipe}/seed_{seed}/loss_curve.csv"),
    log:
        log_file("sweep_train", "{recipe}_seed_{seed}"),
    benchmark:
        benchmark_file("sweep_train", "{recipe}_seed_{seed}")
    conda:
        ENVIRONMENT
    threads: config["training"]["threads"]
    params:
        model=settings("model"),
        training=recipe_settings("training", SWEEP.recipes),
    script:
        "../scripts/sweep_train.py"


rule sweep_summary:
    """Gather every recipe's explained variances over epochs (the default recipe's from the
    study's own loss curves of sweep.seeds) and choose the recipe and epoch closest to the
    paper's."""
    input:
        curves=expand(rules.sweep_train.output.curve, **SWEEP_JOBS),
        default_curves=expand(rules.train.output.curve, seed=SWEEP.seeds),
    output:
        table=results("sweep/explained_variance.csv"),
        selection=results("sweep/selection.json"),
    log:
        log_file("sweep_summary"),
    benchmark:
        benchmark_file("sweep_summary")
    conda:
        ENVIRONMENT
    params:
        sweep=settings("sweep"),
    script:
        "../scripts/sweep_summary.py"


rule closest_recipe_prepare:
    """Split and scale the table as the closest recipe (selection.json) says."""
    input:
        selection=rules.sweep_summary.output.selection,
    output:
        train=results("closest_recipe/data/train.parquet"),
        test=results("closest_recipe/data/test.parquet"),
        scaler=results("closest_recipe/data/scaler.json"),
        source=results("closest_recipe/data/source.json"),
    log:
        log_file("closest_recipe_prepare"),
    benchmark:
        benchmark_file("closest_recipe_prepare")
    conda:
        ENVIRONMENT
    params:
        data=settings("data"),
    script:
        "../scripts/closest_recipe_prepare.py"


rule closest_recipe_points:
    """The test houses of the closest recipe's split nearest to the centre of Palo Alto."""
    input:
        test=rules.closest_recipe_prepare.output.test,
    output:
        houses=results("closest_recipe/palo_alto_test_points.csv"),
    log:
        log_file("closest_recipe_points"),
    benchmark:
        benchmark_file("closest_recipe_points")
    conda:
        ENVIRONMENT
    params:
        palo_alto=settings("palo_alto"),
    script:
        "../scripts/palo_alto_points.py"


rule closest_recipe_train:
    """Train model {seed} with the closest recipe for the selected number of epochs, saving
    the checkpoints TracInCP sums over (10 evenly spaced epochs up to the last)."""
    input:
        **closest_prepared_data(),
        selection=rules.sweep_summary.output.selection,
    output:
        # Which epochs are saved is known only once selection.json exists, so the
        # checkpoints (and their manifest.json) are one folder rather than listed files.
        checkpoints=directory(results("closest_recipe/seed_{seed}/checkpoints")),
        metrics=results("closest_recipe/seed_{seed}/metrics.json"),
        curve=results("closest_recipe/seed_{seed}/loss_curve.csv"),
    log:
        log_file("closest_recipe_train", "seed_{seed}"),
    benchmark:
        benchmark_file("closest_recipe_train", "seed_{seed}")
    conda:
        ENVIRONMENT
    threads: config["training"]["threads"]
    params:
        model=settings("model"),
        training=settings("training"),
    script:
        "../scripts/closest_recipe_train.py"


rule closest_recipe_influence:
    """TracInCP of closest-recipe model {seed} over its saved checkpoints: self-influence of
    every training house and the Palo Alto proponents and opponents."""
    input:
        **closest_prepared_data(),
        checkpoints=rules.closest_recipe_train.output.checkpoints,
        houses=rules.closest_recipe_points.output.houses,
        selection=rules.sweep_summary.output.selection,
    output:
        self_influence=results("closest_recipe/seed_{seed}/self_influence.parquet"),
        proponents=results("closest_recipe/seed_{seed}/proponents.parquet"),
    log:
        log_file("closest_recipe_influence", "seed_{seed}"),
    benchmark:
        benchmark_file("closest_recipe_influence", "seed_{seed}")
    conda:
        ENVIRONMENT
    threads: config["influence"]["threads"]
    params:
        influence=settings("influence"),
    script:
        "../scripts/closest_recipe_influence.py"


rule closest_recipe_claims:
    """The study's claims (without the removal test) measured on the closest recipe's
    seeds."""
    input:
        **closest_prepared_data(),
        houses=rules.closest_recipe_points.output.houses,
        selection=rules.sweep_summary.output.selection,
        self_influence=expand(
            rules.closest_recipe_influence.output.self_influence, **RERUN_JOBS
        ),
        proponents=expand(
            rules.closest_recipe_influence.output.proponents, **RERUN_JOBS
        ),
        metrics=expand(rules.closest_recipe_train.output.metrics, **RERUN_JOBS),
    output:
        claims=results("closest_recipe/claims.json"),
        table=results("closest_recipe/claims.csv"),
        measurements=results("closest_recipe/measurements.csv"),
    log:
        log_file("closest_recipe_claims"),
    benchmark:
        benchmark_file("closest_recipe_claims")
    conda:
        ENVIRONMENT
    params:
        seeds=settings("sweep", "rerun_seeds"),
        report=settings("report"),
    script:
        "../scripts/closest_recipe_claims.py"


rule sweep:
    """The recipe sweep and the claims rerun on the closest recipe, alone."""
    input:
        rules.sweep_summary.output,
        rules.closest_recipe_claims.output,
