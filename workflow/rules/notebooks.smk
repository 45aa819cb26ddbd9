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
