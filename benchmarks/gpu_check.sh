#!/usr/bin/env bash
# The project's one-command GPU check (issue 15): see benchmarks/gpu_check.py. Uses the README's venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" benchmarks/gpu_check.py "$@"
