rule train:
    input:
        train="results/data/train.parquet",
        test="results/data/test.parquet",
        scaler="results/data/scaler.json",
    output:
        manifest="results/seed_{seed}/checkpoints/manifest.json",
        metrics="results/seed_{seed}/metrics.json",
        curve="results/seed_{seed}/loss_curve.csv",
    log:
        "results/logs/train/seed_{seed}.log",
    benchmark:
        "results/benchmarks/train/seed_{seed}.tsv"
    threads: config["training"]["threads"]
    params:
        model=config["model"],
        training=config["training"],
    script:
        "../scripts/train.py"
