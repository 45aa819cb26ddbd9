# The notebooks receive the paths of their inputs and outputs as papermill parameters, one
# per named input or output, and run in a shadow folder that holds only the declared inputs:
# a file read but not declared fails the job instead of going unnoticed.

from tracin_study.config import config_hash
from tracin_study.sections import merged_inputs, outline

FIGURES = ["{name}.png"]  # what Snakemake's HTML report collects from a figures folder
# `snakemake --report`: the workflow's description and one caption per figure name
FIGURE_CAPTION = "../report/figure.rst"


report: "../report/workflow.rst"


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
            caption=FIGURE_CAPTION,
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
        top_n=SETTINGS.report.top_n,
    script:
        "../scripts/run_notebook.py"


STUDY_TARGETS.extend(outputs_of(rules.seed_notebook, seed=SEEDS, recipe=DEFAULT))


rule summary:
    """report/summary.json: one key per report section that the rule files declare
    (`report_section`, workflow/rules/common.smk), each computed from the section's own
    inputs by its function."""
    input:
        **merged_inputs(REPORT_SECTIONS.values()),
    output:
        summary=f"{REPORT}/summary.json",
    log:
        log_file("summary"),
    benchmark:
        benchmark_file("summary")
    shadow:
        "minimal"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1200,
        runtime=10,
    params:
        seeds=SEEDS,
        sections=outline(REPORT_SECTIONS.values()),
        report=SETTINGS.report.params(),
        influence=SETTINGS.influence.params(),
        config_hash=config_hash(config),
    script:
        "../scripts/summary.py"


rule report:
    """The study's report: the bottom line, method, a usage example and every experiment's
    results across seeds, as an executed notebook and its HTML, rendered from summary.json
    and the tables the report sections' figures draw (their `figure_inputs`)."""
    input:
        **merged_inputs(REPORT_SECTIONS.values(), "figure_inputs"),
        summary=rules.summary.output.summary,
        template=workflow.source_path("../../notebooks/report.ipynb"),
    output:
        notebook=f"{REPORT}/report.ipynb",
        html=f"{REPORT}/report.html",
        figures=report(
            directory(f"{REPORT}/figures"),
            patterns=FIGURES,
            caption=FIGURE_CAPTION,
            category="Report",
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
        report=SETTINGS.report.params(),
        influence=SETTINGS.influence.params(),
        palo_alto=SETTINGS.palo_alto.params(),
        approximation_chain=SETTINGS.approximation_chain.params(),
    script:
        "../scripts/run_notebook.py"


STUDY_TARGETS.extend(outputs_of(rules.summary) + outputs_of(rules.report))
