#!/bin/sh
# Benchmark gomodel: see scripts/bench/run.py --help and docs/benchmarks.md.
# Runs from any directory; PYTHON picks the interpreter that has gomodel installed.
set -eu
exec "${PYTHON:-python3}" "$(dirname "$0")/run.py" "$@"
