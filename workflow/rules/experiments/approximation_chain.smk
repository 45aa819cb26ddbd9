CHAIN = SETTINGS.approximation_chain


rule approximation_chain_record:
    """The paper's idealised setting on a training subsample: plain SGD, one example per step,
    recording every step's exact test-loss change and its first-order estimate."""
    input:
        **prepared_data(DEFAULT),
        houses=of_recipe(rules.palo_alto_points.output.houses),
    output:
        manifest=results("approximation_chain/checkpoints/manifest.json"),
        checkpoints=[
            results(f"approximation_chain/checkpoints/step_{step:07d}.pt")
            for step in CHAIN.saved_steps()
        ],
        steps=results("approximation_chain/steps.npz"),
    log:
        log_file("approximation_chain_record"),
    benchmark:
        benchmark_file("approximation_chain_record")
    conda:
        ENVIRONMENT
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        chain=CHAIN.params(),
        training=TRAINING.params(),
    script:
        "../../scripts/approximation_chain_record.py"


rule approximation_chain_record_adam:
    """The same idealised run with Adam steps at beta1 = 0, one example per step, recording
    every step's exact test-loss change and its raw and preconditioned first-order
    estimates."""
    input:
        **prepared_data(DEFAULT),
        houses=of_recipe(rules.palo_alto_points.output.houses),
    output:
        steps=results("approximation_chain/adam_steps.npz"),
    log:
        log_file("approximation_chain_record_adam"),
    benchmark:
        benchmark_file("approximation_chain_record_adam")
    conda:
        ENVIRONMENT
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        chain=CHAIN.params(),
        training=TRAINING.params(),
    script:
        "../../scripts/approximation_chain_record_adam.py"


rule approximation_chain_compare:
    """Ideal TracIn against first-order TracIn and TracInCP on k checkpoints (SGD), and
    against raw and Adam-preconditioned first-order TracIn (Adam)."""
    input:
        **prepared_data(DEFAULT),
        manifest=rules.approximation_chain_record.output.manifest,
        checkpoints=rules.approximation_chain_record.output.checkpoints,
        steps=rules.approximation_chain_record.output.steps,
        adam_steps=rules.approximation_chain_record_adam.output.steps,
    output:
        scores=results("approximation_chain/scores.npz"),
        comparison=results("approximation_chain/comparison.csv"),
        summary=results("approximation_chain/summary.csv"),
        figure=results("approximation_chain/correlation_vs_k.png"),
    log:
        log_file("approximation_chain_compare"),
    benchmark:
        benchmark_file("approximation_chain_compare")
    conda:
        ENVIRONMENT
    threads: SETTINGS.influence.threads
    resources:
        mem_mb=1200,
        runtime=10,
    params:
        chain=CHAIN.params(),
        influence=SETTINGS.influence.params(),
    script:
        "../../scripts/approximation_chain_compare.py"


STUDY_TARGETS.extend(outputs_of(rules.approximation_chain_record))
STUDY_TARGETS.extend(outputs_of(rules.approximation_chain_record_adam))
STUDY_TARGETS.extend(outputs_of(rules.approximation_chain_compare))
report_section(
    sections.APPROXIMATION_CHAIN,
    "tracin_study.summary.approximation_chain_section",
    {"approximation_chain": rules.approximation_chain_compare.output.summary},
)
