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


rule all:
    input:
        "report/report.html",
