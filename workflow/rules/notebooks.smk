rule seed_notebook:
    input:
        template=Path(workflow.basedir) / "notebooks/seed_analysis.ipynb",
        metrics="results/seed_{seed}/metrics.json",
        curve="results/seed_{seed}/loss_curve.csv",
        self_influence="results/seed_{seed}/self_influence.parquet",
        proponents="results/seed_{seed}/proponents.parquet",
        palo_alto="results/palo_alto_test_points.csv",
    output:
        notebook="results/seed_{seed}/analysis.ipynb",
        figures=report(
            directory("results/seed_{seed}/figures"),
            patterns=["{name}.png"],
            category="Per seed",
            subcategory="seed {seed}",
        ),
    log:
        "results/logs/seed_notebook/seed_{seed}.log",
    benchmark:
        "results/benchmarks/seed_notebook/seed_{seed}.tsv"
    params:
        parameters=lambda wildcards, output: {
            "seed": int(wildcards.seed),
            "results_dir": "results",
            "figures_dir": output.figures,
            "top_n": config["report"]["top_n"],
        },
    script:
        "../scripts/run_notebook.py"


rule report:
    input:
        template=Path(workflow.basedir) / "notebooks/report.ipynb",
        seed_notebooks=expand("results/seed_{seed}/analysis.ipynb", seed=SEEDS),
        metrics=expand("results/seed_{seed}/metrics.json", seed=SEEDS),
        self_influence=expand("results/seed_{seed}/self_influence.parquet", seed=SEEDS),
        proponents=expand("results/seed_{seed}/proponents.parquet", seed=SEEDS),
        palo_alto="results/palo_alto_test_points.csv",
        validation=rules.validation.input,
    output:
        notebook="report/report.ipynb",
        html="report/report.html",
        summary="report/summary.json",
        figures=report(
            directory("report/figures"), patterns=["{name}.png"], category="Report"
        ),
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    params:
        parameters=lambda wildcards, output: {
            "seeds": SEEDS,
            "results_dir": "results",
            "figures_dir": output.figures,
            "summary_path": output.summary,
            "source_dir": workflow.basedir,
            "config": config,
        },
    script:
        "../scripts/run_notebook.py"
