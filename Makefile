# Entry points, each installing what it needs into .venv on first use:
#   make example    run the workflow on the bundled real example (snakemake --cores 8)
#   make test       run the whole test suite (about 6 min on a 2-core CPU)
#   make test-fast  the tests not marked slow (a slow test trains a model or starts snakemake, torchrun
#                   or another process): about a minute on a 2-core CPU, for the edit-test loop.
#                   tests/ mirrors the package (tests/core, io, chipseq, audio, impute, cli, workflow):
#                   .venv/bin/python -m pytest tests/core runs one folder, slow tests included
# and the benchmarks (timings, not tests):
#   make bench     every benchmarks/bench_*.py in a quick setting
# torch is installed first, pinned to 2.13.0, so that installing chipsr's dependencies never replaces
# it. pip takes it from wherever pip is configured to look: on this project's machines a local wheel
# folder holds the CPU build (2.13.0+cpu); from PyPI on Linux it is the default (CUDA) build.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: example test test-fast bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

example: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores 8

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# Each benchmark in a quick setting: 5 s to 2 min each on a 2-core CPU, about 4 min in all. Run a
# script with its defaults (see its --help) for the full-size numbers quoted in the README. Data:
# bench_coverage, bench_audio and bench_impute read data kept outside this repository (their --help
# says where); bench_denoise and bench_train_data tile the example's coverage (results/coverage, from
# `make example`).
# A script that fails (e.g. its data are missing) is named at the end and the others still run; so
# is a benchmarks/bench_*.py that has no quick setting in BENCHMARKS yet. Not run here:
# baseline_calibration.py, recipe_ablation.py and peak_default.py (experiments that rebuild tracks,
# train models or call peaks; see their --help) and gpu_check.sh (for a machine with a GPU).
BENCHMARKS := \
	"bench_coverage.py --repeat 1 --scale 2" \
	"bench_denoise.py --chroms chr22" \
	"bench_train_data.py --chroms chr22 --samples 64 --threads 1" \
	"bench_models.py --steps 1 --threads 1" \
	"bench_audio.py --minutes 0.25 --threads 1" \
	"bench_wvd.py --repeats 3" \
	"bench_impute.py --steps 2"

bench: $(STAMP)
	@failed=""; \
	for cmd in $(BENCHMARKS); do \
		echo "== python benchmarks/$$cmd"; \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/$$cmd || failed="$$failed $${cmd%% *}"; \
	done; \
	for f in benchmarks/bench_*.py; do \
		name=$$(basename $$f); \
		echo '$(BENCHMARKS)' | grep -q "$$name " || { echo "== $$f: no quick setting in the Makefile's BENCHMARKS, not run"; failed="$$failed $$name"; }; \
	done; \
	if [ -n "$$failed" ]; then echo "make bench: failed:$$failed"; exit 1; fi

clean:
	rm -rf results .snakemake
