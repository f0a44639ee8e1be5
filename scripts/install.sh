#!/usr/bin/env bash
# Creates .venv with the first Python >= 3.11 on PATH and installs the project into it.
# `scripts/install.sh dev` adds the test and lint tools.
set -euo pipefail
cd "$(dirname "$0")/.."
find_python() {
  for candidate in python3.11 python3.12 python3.13 python3.14 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}
if [ ! -x .venv/bin/python ]; then
  PYTHON=$(find_python) || { echo "error: Python 3.11 or newer is required" >&2; exit 1; }
  echo "==> creating .venv with $PYTHON ($("$PYTHON" --version))"
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade \
    pip setuptools wheel >.venv/install.log 2>&1 || { cat .venv/install.log >&2; exit 1; }
fi
extra=""
[ "${1:-}" = "dev" ] && extra="[dev]"
echo "==> installing ztk-attendance$extra (log: .venv/install.log)"
# pip's and setuptools' chatter goes to the log; it is shown only when the install fails.
if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$extra" \
  >>.venv/install.log 2>&1; then
  tail -n 40 .venv/install.log >&2
  echo "error: installation failed (full log: .venv/install.log)" >&2
  exit 1
fi
.venv/bin/python -c "import django, ztk" || { echo "error: installation failed" >&2; exit 1; }
