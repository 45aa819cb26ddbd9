rule prepare_data:
    output:
        train="results/data/train.parquet",
        test="results/data/test.parquet",
        scaler="results/data/scaler.json",
        source="results/data/source.json",
    log:
        "results/logs/prepare_data.log",
    benchmark:
        "results/benchmarks/prepare_data.tsv"
    params:
        data=config["data"],
    script:
        "../scripts/prepare_data.py"
