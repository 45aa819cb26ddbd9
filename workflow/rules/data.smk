rule prepare_data:
    """Fetch the table (or read the shipped snapshot), verify its checksum, split it 8:2 and
    fit the feature scaler on the training split."""
    output:
        train=results("data/train.parquet"),
        test=results("data/test.parquet"),
        scaler=results("data/scaler.json"),
        source=results("data/source.json"),
    log:
        log_file("prepare_data"),
    benchmark:
        benchmark_file("prepare_data")
    conda:
        ENVIRONMENT
    params:
        data=settings("data"),
    script:
        "../scripts/prepare_data.py"


rule palo_alto_points:
    """The test houses nearest to the centre of Palo Alto, whose proponents the paper shows."""
    input:
        test=rules.prepare_data.output.test,
    output:
        houses=results("palo_alto_test_points.csv"),
    log:
        log_file("palo_alto_points"),
    benchmark:
        benchmark_file("palo_alto_points")
    conda:
        ENVIRONMENT
    params:
        palo_alto=settings("palo_alto"),
    script:
        "../scripts/palo_alto_points.py"
