"""TracIn on California housing: data -> training per seed -> TracInCP -> notebooks -> report.

Run everything with `snakemake --cores 4`; `config/config.yaml` is the paper-faithful default.
Each stage is one rule file under workflow/rules/ (the experiments' under
workflow/rules/experiments/); common.smk holds the shared helpers and registries.
"""

import re
from pathlib import Path

from snakemake.utils import min_version

from tracin_study.provenance import check_package_source, pin_kernels

# Before anything imports torch: the same CPU kernels on every x86-64 machine with AVX2
# (docs/engine.md, "Same numbers on every machine"), inherited by every job.
pin_kernels()
check_package_source(workflow.basedir)

from tracin_study.config import read_config_file, validate_config
from tracin_study.manifest_check import check_manifests

min_version("9.0")

# The study's own config, read first by us so that a broken one is named with its line
# (Snakemake's own message names neither). Files given with --configfile are read by
# Snakemake before this file runs (docs/troubleshooting.md, "Config files").
STUDY_CONFIG = Path(workflow.basedir) / "config/config.yaml"
read_config_file(STUDY_CONFIG)


configfile: STUDY_CONFIG


validate_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"


wildcard_constraints:
    seed=r"\d+",
    recipe="|".join(re.escape(name) for name in RECIPE_SEEDS),  # common.smk


# The study's pipeline, run per recipe (`{recipe}`): data, training, influence, claims.
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/influence.smk"
include: "workflow/rules/claims.smk"


# The experiments: each rule file adds its own outputs to STUDY_TARGETS and its report
# report section to REPORT_SECTIONS (docs/adding-an-experiment.md).
for experiment in sorted(
    Path(workflow.basedir, "workflow/rules/experiments").glob("*.smk")
):

    include: experiment


include: "workflow/rules/notebooks.smk"


# Before any job is planned: the files of every finished training run (each declared
# manifest.json) still match their manifest, which Snakemake does not notice by itself
# (docs/troubleshooting.md, "Damaged files"). Jobs that a cluster starts skip it.
if workflow.is_main_process:
    check_manifests(p for p in STUDY_TARGETS if Path(p).name == "manifest.json")


# Every rule's outputs are listed, not only the report: a fresh clone (which carries the
# committed report) then recomputes everything, and an output deleted by a failed or killed
# forced rerun is planned again even though the files built from it are still present.
rule all:
    """The whole study: every recipe's results, the experiments and the report."""
    input:
        STUDY_TARGETS,
    localrule: True
