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
  .venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
fi
extra=""
[ "${1:-}" = "dev" ] && extra="[dev]"
echo "==> installing ztk-attendance$extra"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$extra" 2>&1 \
  | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import django, ztk" || { echo "error: installation failed" >&2; exit 1; }
