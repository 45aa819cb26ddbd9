# Two commands: `make reproduce` runs the whole study, `make test` runs the test suite.
# Each creates (or reuses) the virtual environment .venv with the pinned dependencies.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 4
SHELL := bash

.PHONY: reproduce test lint format rulegraph clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,slurm]'
	touch $@

reproduce: $(BIN)/activate
	export PATH="$(CURDIR)/$(BIN):$$PATH" && time snakemake --workflow-profile workflow/profiles/default --cores $(CORES)

test: $(BIN)/activate
	PATH="$(CURDIR)/$(BIN):$$PATH" python -m pytest

lint: $(BIN)/activate
	$(BIN)/ruff check src tests workflow/scripts benchmarks
	$(BIN)/ruff format --check src tests workflow/scripts benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: $(BIN)/activate
	$(BIN)/ruff format src tests workflow/scripts benchmarks
	$(BIN)/snakefmt Snakefile workflow/rules

# The picture of the DAG in docs/layout.md: one box per rule, arrows for the files between them
# (the target rule `all`, which every rule feeds, is left out). Needs Graphviz's `dot`.
rulegraph: $(BIN)/activate
	$(BIN)/snakemake --rulegraph --quiet all \
	  | awk '/label = "all"/ {all = $$1; sub(/\[.*/, "", all); next} $$3 == all {next} {print}' \
	  | dot -Tsvg > workflow/rulegraph.svg

clean:
	rm -rf results .snakemake
