#!/usr/bin/env bash
# `make run`: migrate, seed demo data once, then serve gunicorn and the Huey worker together.
# Ctrl-C (SIGINT to the process group) or SIGTERM stops both; so does either one dying.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
VAR_DIR="${ZTK_VAR_DIR:-var}"

# The two long-running processes. Task locks are leases in the database that expire
# (ztk/core/leases.py): a worker killed holding one blocks nothing for long, and more
# consumers may run on other nodes (docs/deployment.md). --max-delay 1: an idle worker looks
# for new tasks every second (Huey's default backs off to 10 s), so the days of a terminal
# upload are recomputed within a second or two. --shutdown-timeout 10: the grace a stopping
# worker gives a running task; the drain stops after its current chunk well within it.
WORKER=("$BIN/ztk" run_huey --max-delay 1 --shutdown-timeout 10)
# No control socket: gunicorn's default one lives in ~/.gunicorn and would clash between
# two checkouts running side by side. --keep-alive 75: an idle connection stays open longer
# than any client in front of it keeps it (load balancers and proxies: 60 s), so the client
# always closes first; with gunicorn's default of 2 s a request sent on a connection the
# server was just closing was reset before any answer (`make bench` (g)). Idle connections
# of the threaded worker wait in its poller, not in a thread.
WEB=("$BIN/gunicorn" config.wsgi:application --bind "$HOST:$PORT" --workers "${WEB_CONCURRENCY:-2}"
  --threads 4 --timeout 60 --graceful-timeout 10 --keep-alive "${WEB_KEEPALIVE:-75}"
  --no-control-socket --access-logfile -)
if [ "${1:-}" = "--print-commands" ]; then
  # For the tests and `make bench`: exactly these processes, one shell-quoted line each.
  printf '%q ' "${WORKER[@]}"; echo
  printf '%q ' "${WEB[@]}"; echo
  exit 0
fi
mkdir -p "$VAR_DIR"

echo "==> migrating the database"
$BIN/ztk migrate --noinput
$BIN/ztk demo --if-empty --verbosity 0
$BIN/ztk collectstatic --noinput --verbosity 0
if [ -f "$VAR_DIR/demo-credentials.txt" ]; then
  echo "==> demo logins (also in $VAR_DIR/demo-credentials.txt):"
  awk -F'\t' '!/^#/ { printf "    %-10s %-16s %s\n", $1, $2, $3 }' "$VAR_DIR/demo-credentials.txt"
fi

pids=()
worker="" web=""
cleanup() {
  trap - INT TERM EXIT
  echo "==> stopping the web server and the worker"
  # The graceful signal of each: SIGINT lets Huey finish running tasks (SIGTERM would drop
  # them), SIGTERM lets gunicorn finish requests in flight (within --graceful-timeout).
  [ -n "$worker" ] && kill -INT "$worker" 2>/dev/null || true
  [ -n "$web" ] && kill -TERM "$web" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

"${WORKER[@]}" &
worker=$!
pids+=("$worker")
"${WEB[@]}" &
web=$!
pids+=("$web")
echo "==> ZTK Attendance at http://$HOST:$PORT  (Ctrl-C stops the web server and the worker)"
# Whichever of the two exits first (crash, port in use) takes the other down with it.
status=0
wait -n "${pids[@]}" || status=$?
echo "==> a process exited (status $status)"
exit "$status"
