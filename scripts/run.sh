#!/usr/bin/env bash
# `make run`: migrate, seed demo data once, then serve gunicorn and the Huey worker together.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
mkdir -p var
$BIN/ztk migrate --noinput
$BIN/ztk demo --if-empty
$BIN/ztk collectstatic --noinput --verbosity 0
if [ -f var/demo-credentials.txt ]; then
  echo "==> demo logins (also in var/demo-credentials.txt):"
  sed 's/^/    /' var/demo-credentials.txt
fi
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo "==> stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT
$BIN/ztk run_huey --logging=info &
pids+=($!)
$BIN/gunicorn config.wsgi:application --bind "$HOST:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --threads 4 --timeout 60 --access-logfile - &
pids+=($!)
echo "==> ZTK Attendance at http://$HOST:$PORT  (Ctrl-C stops the web server and the worker)"
wait -n "${pids[@]}"
