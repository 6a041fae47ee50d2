#!/usr/bin/env bash
# Install gomodel into ./.venv (once) and start it; arguments go to `gomodel` (e.g. --port 8080).
set -euo pipefail
. "$(dirname "$0")/venv.sh"
cd "$root"
pip install --quiet --disable-pip-version-check "$root"
exec gomodel "$@"
