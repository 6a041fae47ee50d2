# Sourced by run.sh and test.sh: make sure ./.venv exists and is active. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GOMODEL_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    # Debian ships venv separately; as root we can add it, otherwise say what is missing.
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
      rm -rf "$venv"
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$python" -m venv "$venv"
    else
      echo "gomodel: '$python -m venv' failed; install python3-venv (Python 3.11+ is required)" >&2
      exit 1
    fi
  fi
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"
