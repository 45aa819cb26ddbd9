rule palo_alto_points:
    input:
        test="results/data/test.parquet",
        scaler="results/data/scaler.json",
    output:
        "results/palo_alto_test_points.csv",
    log:
        "results/logs/palo_alto_points.log",
    benchmark:
        "results/benchmarks/palo_alto_points.tsv"
    params:
        palo_alto=config["palo_alto"],
    script:
        "../scripts/palo_alto_points.py"


rule influence:
    input:
        train="results/data/train.parquet",
        test="results/data/test.parquet",
        scaler="results/data/scaler.json",
        manifest="results/seed_{seed}/checkpoints/manifest.json",
        palo_alto="results/palo_alto_test_points.csv",
    output:
        self_influence="results/seed_{seed}/self_influence.parquet",
        proponents="results/seed_{seed}/proponents.parquet",
        self_per_checkpoint="results/seed_{seed}/self_influence_per_checkpoint.npz",
        influence_per_checkpoint="results/seed_{seed}/palo_alto_influence_per_checkpoint.npz",
    log:
        "results/logs/influence/seed_{seed}.log",
    benchmark:
        "results/benchmarks/influence/seed_{seed}.tsv"
    threads: config["influence"]["threads"]
    params:
        influence=config["influence"],
    script:
        "../scripts/influence.py"
