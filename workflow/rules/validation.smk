# "Beyond the paper": the approximation chain (ideal SGD -> first order -> checkpoints) and
# the detection of corrupted targets by self-influence. Outputs under results/validation/.

VALIDATION_DATA = dict(
    train="results/data/train.parquet",
    test="results/data/test.parquet",
    scaler="results/data/scaler.json",
)


rule validation_ideal_record:
    input:
        **VALIDATION_DATA,
        palo_alto="results/palo_alto_test_points.csv",
    output:
        manifest="results/validation/ideal/checkpoints/manifest.json",
        steps="results/validation/ideal/steps.npz",
    log:
        "results/logs/validation/ideal_record.log",
    benchmark:
        "results/benchmarks/validation/ideal_record.tsv"
    threads: 1
    params:
        ideal=config["validation"]["ideal"],
        hidden=config["model"]["hidden"],
    script:
        "../scripts/validation_ideal_record.py"


rule validation_ideal_compare:
    input:
        **VALIDATION_DATA,
        manifest="results/validation/ideal/checkpoints/manifest.json",
        steps="results/validation/ideal/steps.npz",
    output:
        scores="results/validation/ideal/scores.npz",
        comparison="results/validation/ideal/comparison.csv",
        summary="results/validation/ideal/summary.csv",
        figure="results/validation/ideal/correlation_vs_k.png",
    log:
        "results/logs/validation/ideal_compare.log",
    benchmark:
        "results/benchmarks/validation/ideal_compare.tsv"
    threads: config["influence"]["threads"]
    params:
        checkpoint_counts=config["validation"]["ideal"]["checkpoint_counts"],
        top_k=config["influence"]["top_k"],
        batch_size=config["influence"]["batch_size"],
    script:
        "../scripts/validation_ideal_compare.py"


rule validation_main_models:
    input:
        **VALIDATION_DATA,
        manifest="results/seed_{seed}/checkpoints/manifest.json",
        palo_alto="results/palo_alto_test_points.csv",
    output:
        scores="results/validation/main_models/seed_{seed}/scores.npz",
        comparison="results/validation/main_models/seed_{seed}/comparison.csv",
    log:
        "results/logs/validation/main_models/seed_{seed}.log",
    benchmark:
        "results/benchmarks/validation/main_models/seed_{seed}.tsv"
    threads: config["influence"]["threads"]
    params:
        epochs=config["influence"]["epochs"],
        top_k=config["influence"]["top_k"],
        batch_size=config["influence"]["batch_size"],
        dtype=config["validation"]["dtype"],
    script:
        "../scripts/validation_main_models.py"


rule validation_main_models_summary:
    input:
        comparison=expand(
            "results/validation/main_models/seed_{seed}/comparison.csv",
            seed=config["seeds"],
        ),
    output:
        summary="results/validation/main_models/summary.csv",
    log:
        "results/logs/validation/main_models_summary.log",
    benchmark:
        "results/benchmarks/validation/main_models_summary.tsv"
    script:
        "../scripts/validation_main_models_summary.py"


rule validation_corruption_train:
    input:
        **VALIDATION_DATA,
    output:
        manifest="results/validation/corruption/seed_{seed}/checkpoints/manifest.json",
        targets="results/validation/corruption/seed_{seed}/targets.parquet",
        metrics="results/validation/corruption/seed_{seed}/metrics.json",
    log:
        "results/logs/validation/corruption/train_seed_{seed}.log",
    benchmark:
        "results/benchmarks/validation/corruption/train_seed_{seed}.tsv"
    threads: config["training"]["threads"]
    params:
        model=config["model"],
        training=config["training"],
        corruption=config["validation"]["corruption"],
    script:
        "../scripts/validation_corruption_train.py"


rule validation_corruption_scores:
    input:
        **VALIDATION_DATA,
        manifest="results/validation/corruption/seed_{seed}/checkpoints/manifest.json",
        targets="results/validation/corruption/seed_{seed}/targets.parquet",
    output:
        scores="results/validation/corruption/seed_{seed}/scores.parquet",
        detection="results/validation/corruption/seed_{seed}/detection.csv",
        curves="results/validation/corruption/seed_{seed}/curves.csv",
    log:
        "results/logs/validation/corruption/scores_seed_{seed}.log",
    benchmark:
        "results/benchmarks/validation/corruption/scores_seed_{seed}.tsv"
    threads: config["influence"]["threads"]
    params:
        epochs=config["influence"]["epochs"],
        batch_size=config["influence"]["batch_size"],
        corruption=config["validation"]["corruption"],
        dtype=config["validation"]["dtype"],
    script:
        "../scripts/validation_corruption_scores.py"


rule validation_corruption_summary:
    input:
        detection=expand(
            "results/validation/corruption/seed_{seed}/detection.csv",
            seed=config["seeds"],
        ),
        curves=expand(
            "results/validation/corruption/seed_{seed}/curves.csv",
            seed=config["seeds"],
        ),
    output:
        summary="results/validation/corruption/summary.csv",
        summary_json="results/validation/corruption/summary.json",
        figure="results/validation/corruption/detection_curves.png",
    log:
        "results/logs/validation/corruption_summary.log",
    benchmark:
        "results/benchmarks/validation/corruption_summary.tsv"
    params:
        corruption=config["validation"]["corruption"],
    script:
        "../scripts/validation_corruption_summary.py"


rule validation:
    input:
        rules.validation_ideal_compare.output,
        rules.validation_main_models_summary.output,
        rules.validation_corruption_summary.output,
