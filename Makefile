# Two entry points, each installing what it needs into .venv on first use:
#   make example   run the workflow on the bundled real example (snakemake --cores 8)
#   make test      run the test suite
# torch is installed first at 2.13.0 (a local CPU build here) so pip never pulls CUDA wheels.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: example test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

example: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores 8

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_coverage.py

clean:
	rm -rf results .snakemake
