# The notebooks receive the paths of their inputs and outputs as papermill parameters, one
# per named input or output, and run in a shadow folder that holds only the declared inputs:
# a file read but not declared fails the job instead of going unnoticed.

FIGURES = ["{name}.png"]  # what Snakemake's HTML report collects from a figures folder


rule seed_notebook:
    """The executed per-seed notebook: training curves, self-influence maps and the Palo
    Alto proponents of model {seed} of recipe {recipe}."""
    input:
        **prepared_data(),
        template=workflow.source_path("../../notebooks/seed_analysis.ipynb"),
        metrics=rules.train.output.metrics,
        curve=rules.train.output.curve,
        self_influence=rules.seed_influence.output.self_influence,
        proponents=rules.seed_influence.output.proponents,
        houses=rules.palo_alto_points.output.houses,
    output:
        notebook=results("{recipe}/seed_{seed}/analysis.ipynb"),
        figures=report(
            directory(results("{recipe}/seed_{seed}/figures")),
            patterns=FIGURES,
            category="Per seed",
            subcategory="{recipe} seed {seed}",
        ),
    log:
        log_file("seed_notebook", "{recipe}_seed_{seed}"),
    benchmark:
        benchmark_file("seed_notebook", "{recipe}_seed_{seed}")
    shadow:
        "minimal"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        seed=lambda wildcards: int(wildcards.seed),
        top_n=config["report"]["top_n"],
    script:
        "../scripts/run_notebook.py"


STUDY_TARGETS.extend(outputs_of(rules.seed_notebook, seed=SEEDS, recipe=DEFAULT))


rule report:
    """The study's report: findings, method, a worked example and every experiment's results
    across seeds, as an executed notebook, its HTML and summary.json. Its inputs are those
    every rule file adds to REPORT_INPUTS (workflow/rules/common.smk)."""
    input:
        **REPORT_INPUTS,
        template=workflow.source_path("../../notebooks/report.ipynb"),
    output:
        notebook=f"{REPORT}/report.ipynb",
        html=f"{REPORT}/report.html",
        summary_json=f"{REPORT}/summary.json",
        figures=report(
            directory(f"{REPORT}/figures"), patterns=FIGURES, category="Report"
        ),
    log:
        log_file("report"),
    benchmark:
        benchmark_file("report")
    shadow:
        "minimal"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1700,
        runtime=15,
    params:
        seeds=SEEDS,
        config=settings(),
        # Until the report notebook reads `inputs`: the manifest in the example's checkpoint
        # folder, which cannot itself be an input (it lies inside a directory() output).
        example_manifest=[
            f"{folder}/manifest.json"
            for folder in REPORT_INPUTS["example_checkpoints"]
        ],
    script:
        "../scripts/run_notebook.py"


STUDY_TARGETS.extend(outputs_of(rules.report))
