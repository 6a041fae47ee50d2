#!/usr/bin/env bash
# Install gomodel with its test dependencies into ./.venv and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k streaming).
set -euo pipefail
. "$(dirname "$0")/venv.sh"
cd "$root"
pip install --quiet --disable-pip-version-check -e "$root[dev]"
exec python -m pytest "$@"
