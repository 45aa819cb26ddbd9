"""TracIn on California housing: data -> training per seed -> TracInCP -> notebooks -> report.

Run everything with `snakemake --cores 4`; `config/config.yaml` is the paper-faithful default.
"""

from pathlib import Path

from tracin_study.config import validate_config


configfile: Path(workflow.basedir) / "config/config.yaml"


validate_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")

SEEDS = config["seeds"]


wildcard_constraints:
    seed=r"\d+",


include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/influence.smk"
include: "workflow/rules/validation.smk"
include: "workflow/rules/notebooks.smk"


# The results are listed as well as the report, so that a fresh clone (which carries the
# committed report) recomputes everything rather than finding the report up to date.
rule all:
    input:
        expand("results/seed_{seed}/analysis.ipynb", seed=SEEDS),
        rules.validation.input,
        "report/report.html",
