"""Start-up shared by the workflow's scripts: logging, tracebacks into the log, threads."""

import logging
import sys
from pathlib import Path

import torch

from tracin_study.provenance import setup_logging


def start(snakemake) -> logging.Logger:
    """Set up one Snakemake script job and return its logger (named after the rule).

    Logs go to the job's `log:` file and to stderr; an uncaught exception is logged with its
    traceback before the job fails, so the rule's log says why. torch gets the job's
    `threads:`.
    """
    setup_logging(Path(snakemake.log[0]))
    log = logging.getLogger(snakemake.rule)

    def log_uncaught(kind, error, traceback):
        log.critical("job failed", exc_info=(kind, error, traceback))

    sys.excepthook = log_uncaught
    torch.set_num_threads(snakemake.threads)
    log.info("wildcards %s, %d thread(s)", dict(snakemake.wildcards), snakemake.threads)
    return log
