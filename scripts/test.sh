#!/usr/bin/env bash
# `make test`: lint, migrations check, import contracts, mypy, then the whole suite on SQLite and on PostgreSQL.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export ZTK_TESTING=1
export ZTK_VAR_DIR="${ZTK_VAR_DIR:-$PWD/var/test}"
mkdir -p "$ZTK_VAR_DIR"
status=0

echo "==> ruff"
$BIN/ruff check . || status=1
$BIN/ruff format --check . >/dev/null || { echo "ruff format: files need formatting"; $BIN/ruff format --check . | head; status=1; }
echo "==> makemigrations --check"
env -u DATABASE_URL $BIN/ztk makemigrations --check --dry-run >/dev/null || { echo "missing migrations"; status=1; }

# The import contracts of pyproject.toml ([tool.importlinter], explained in docs/layers.md):
# the layers of the apps, the pure engine and cores, and the independence contracts.
echo "==> import contracts (lint-imports)"
contracts_out=$($BIN/lint-imports --no-cache 2>&1) ||
  { sed -n '/Broken contracts/,$p' <<<"$contracts_out"; status=1; }
echo "==> mypy (the packages in [tool.mypy] files)"
env -u DATABASE_URL $BIN/mypy || status=1

scripts/ensure-chromium.sh || echo "==> chromium unavailable: browser tests will be skipped"

WORKERS="${TEST_WORKERS:-2}"
echo "==> pytest on SQLite"
env -u DATABASE_URL $BIN/python -m pytest -n "$WORKERS" "$@" || status=1

PG_URL="${TEST_DATABASE_URL:-}"
if [ -z "$PG_URL" ]; then
  PG_URL=$(scripts/ensure-postgres.sh) || PG_URL=""
fi
if [ -n "$PG_URL" ]; then
  echo "==> pytest on PostgreSQL ($PG_URL)"
  DATABASE_URL="$PG_URL" $BIN/python -m pytest -n "$WORKERS" "$@" || status=1
else
  echo "==> PostgreSQL pass SKIPPED: no server answered and none could be installed"
fi
exit $status
