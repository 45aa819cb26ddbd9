# The notebooks receive the paths of their inputs and outputs as papermill parameters, one
# per named input or output, and run in a shadow folder that holds only the declared inputs:
# a file read but not declared fails the job instead of going unnoticed.

FIGURES = ["{name}.png"]  # what Snakemake's HTML report collects from a figures folder


rule seed_notebook:
    """The executed per-seed notebook: training curves, self-influence maps and the Palo
    Alto proponents of one seed."""
    input:
        **prepared_data(),
        template=workflow.source_path("../../notebooks/seed_analysis.ipynb"),
        metrics=rules.train.output.metrics,
        curve=rules.train.output.curve,
        self_influence=rules.seed_influence.output.self_influence,
        proponents=rules.seed_influence.output.proponents,
        houses=rules.palo_alto_points.output.houses,
    output:
        notebook=results("seed_{seed}/analysis.ipynb"),
        figures=report(
            directory(results("seed_{seed}/figures")),
            patterns=FIGURES,
            category="Per seed",
            subcategory="seed {seed}",
        ),
    log:
        log_file("seed_notebook", "seed_{seed}"),
    benchmark:
        benchmark_file("seed_notebook", "seed_{seed}")
    shadow:
        "minimal"
    conda:
        ENVIRONMENT
    params:
        seed=lambda wildcards: int(wildcards.seed),
        top_n=config["report"]["top_n"],
    script:
        "../scripts/run_notebook.py"


rule report:
    """The study's report: findings, method, a worked example and every experiment's results
    across seeds, as an executed notebook, its HTML and summary.json."""
    input:
        **prepared_data(),
        template=workflow.source_path("../../notebooks/report.ipynb"),
        source=rules.prepare_data.output.source,
        houses=rules.palo_alto_points.output.houses,
        metrics=per_seed(rules.train.output.metrics),
        curves=per_seed(rules.train.output.curve),
        self_influence=per_seed(rules.seed_influence.output.self_influence),
        proponents=per_seed(rules.seed_influence.output.proponents),
        proponents_adam=per_seed(rules.seed_influence.output.proponents_adam),
        example_manifest=expand(rules.train.output.manifest, seed=SEEDS[0]),
        example_checkpoints=expand(rules.train.output.checkpoints, seed=SEEDS[0]),
        approximation_chain=rules.approximation_chain_compare.output.summary,
        checkpoint_ablation=rules.checkpoint_ablation_summary.output.summary,
        corruption=rules.corruption_summary.output.summary,
        corruption_json=rules.corruption_summary.output.summary_json,
        corruption_curves=per_seed(rules.corruption_scores.output.curves),
        corruption_recall=per_seed(rules.corruption_scores.output.recall_by_change),
        removal_effects=rules.removal_summary.output.effects,
        removal_per_house=rules.removal_summary.output.per_house,
        lds_per_house=rules.lds_summary.output.per_house,
        lds_by_method=rules.lds_summary.output.by_method,
        lds_summary=rules.lds_summary.output.summary,
        sweep_table=rules.sweep_summary.output.table,
        sweep_selection=rules.sweep_summary.output.selection,
        closest_recipe_claims=rules.closest_recipe_claims.output.claims,
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
    params:
        seeds=SEEDS,
        config=settings(),
    script:
        "../scripts/run_notebook.py"
