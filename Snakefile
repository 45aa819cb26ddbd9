"""TracIn on California housing: data -> training per seed -> TracInCP -> notebooks -> report.

Run everything with `snakemake --cores 4`; `config/config.yaml` is the paper-faithful default.
Each stage is one rule file under workflow/rules/; common.smk holds the shared helpers.
"""

from pathlib import Path

from snakemake.utils import min_version

from tracin_study.provenance import check_package_source, pin_kernels

# Before anything imports torch: the same CPU kernels on every x86-64 machine with AVX2
# (README, "Same numbers on every machine"), inherited by every job.
pin_kernels()
check_package_source(workflow.basedir)

from tracin_study.config import validate_config

min_version("9.0")


configfile: Path(workflow.basedir) / "config/config.yaml"


validate_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")


wildcard_constraints:
    seed=r"\d+",


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/seed_influence.smk"
include: "workflow/rules/checkpoint_ablation.smk"
include: "workflow/rules/approximation_chain.smk"
include: "workflow/rules/corruption.smk"
include: "workflow/rules/removal.smk"
include: "workflow/rules/lds.smk"
include: "workflow/rules/sweep.smk"
include: "workflow/rules/notebooks.smk"


# Run by Snakemake itself, never submitted to a cluster: each takes a few seconds of CPU and
# under 0.5 GB at full size (results/benchmarks/), less than a cluster job spends queueing
# and starting Snakemake twice (submission and job step).
localrules:
    all,
    prepare_data,
    palo_alto_points,
    checkpoint_ablation_summary,
    corruption_summary,
    removal_summary,
    lds_summary,
    sweep_prepare,
    sweep_summary,
    closest_recipe_prepare,
    closest_recipe_points,
    closest_recipe_claims,


# Every rule's outputs are listed, not only the report: a fresh clone (which carries the
# committed report) then recomputes everything, and an output deleted by a failed or killed
# forced rerun is planned again even though the files built from it are still present.
rule all:
    """The whole study: every seed's results, the experiments and the report."""
    input:
        study_outputs(
            {
                "removal_train": REMOVAL_JOBS,
                "lds_train": LDS_JOBS,
                "sweep_prepare": {"recipe": list(SWEEP.recipes)},
                "sweep_train": SWEEP_JOBS,
                "closest_recipe_train": RERUN_JOBS,
                "closest_recipe_influence": RERUN_JOBS,
            }
        ),
