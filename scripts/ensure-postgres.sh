#!/usr/bin/env bash
# Prints a PostgreSQL URL that answers: the local server, or one this script installs and starts.
set -uo pipefail
URL="postgres://postgres@127.0.0.1:5432/postgres"
answers() { .venv/bin/python - "$1" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}
if answers "$URL"; then echo "$URL"; exit 0; fi
# A stopped local cluster: start it.
if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
  sleep 2
  if answers "$URL"; then echo "$URL"; exit 0; fi
fi
# None installed: install one where we can (root with apt-get), trust auth on loopback.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing PostgreSQL with apt-get" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || exit 1
  version=$(ls /etc/postgresql | sort -V | tail -1)
  conf="/etc/postgresql/$version/main/pg_hba.conf"
  sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(local\s+all\s+postgres\s+)\S+/\1trust/' "$conf"
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart >&2 || pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
  sleep 2
  if answers "$URL"; then echo "$URL"; exit 0; fi
fi
exit 1
