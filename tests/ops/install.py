"""A throw-away installation for tests with real processes: its own ZTK_VAR_DIR (so its own
var/huey.sqlite3 queue) and its own database — a SQLite file, or a fresh PostgreSQL
database when the suite runs on PostgreSQL — set up with `ztk migrate` and `ztk demo`,
and the worker and web server started with the command lines of `scripts/run.sh`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Settings the test process sets for itself and a real deployment does not have.
_TEST_ONLY = ("ZTK_TESTING", "HUEY_IMMEDIATE", "RECOMPUTE_DEFER_ABOVE", "REDIS_URL", "MEDIA_ROOT")


def wait_until(check: Callable[[], object], *, timeout: float, what: str, poll: float = 0.01):
    """Poll ``check`` until it returns something true; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def run_sh_commands(**env: str) -> tuple[list[str], list[str]]:
    """(worker, web) argv exactly as `scripts/run.sh` starts them, with ``env`` applied."""
    out = subprocess.run(
        [str(ROOT / "scripts" / "run.sh"), "--print-commands"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    worker, web = (shlex.split(line) for line in out[:2])
    # run.sh names .venv/bin; use the interpreter running the tests (same checkout).
    return [str(BIN / Path(worker[0]).name), *worker[1:]], [str(BIN / Path(web[0]).name), *web[1:]]


class Installation:
    def __init__(self, var_dir: Path, name: str) -> None:
        self.var_dir = var_dir
        base = os.environ.get("DATABASE_URL", "")
        self.postgres = base.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            parts = urlsplit(base)
            self.admin_url = base
            self.pg_name = name
            self.database_url = urlunsplit(parts._replace(path=f"/{name}"))
        else:
            self.database_url = f"sqlite:///{var_dir / 'ztk.sqlite3'}"
        self.env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY}
        self.env.update(
            ZTK_VAR_DIR=str(var_dir),
            DATABASE_URL=self.database_url,
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="config.settings",
        )
        self.logs = var_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.processes: list[subprocess.Popen] = []

    # --- set-up ---------------------------------------------------------------------------

    def create(self) -> Installation:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{self.pg_name}"')
        self.ztk("migrate", "--noinput", "-v0")
        self.ztk("demo", "-v0")
        return self

    def create_empty(self) -> Installation:
        """No tables at all (a new server's database), as a restore may find it."""
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{self.pg_name}"')
        return self

    def clone(self, var_dir: Path, name: str) -> Installation:
        """A copy of this (stopped) installation's database in a new one: quicker than
        migrating and loading the demo again."""
        copy = Installation(var_dir, name)
        if self.postgres:
            copy._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            copy._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_name}"')
        else:
            source = sqlite3.connect(self.var_dir / "ztk.sqlite3")
            target = sqlite3.connect(var_dir / "ztk.sqlite3")
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
        return copy

    def destroy(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    # --- commands -------------------------------------------------------------------------

    def ztk(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "ztk"), *args],
            env={**self.env, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def scenario(self, *args: str, **env: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tests.ops.scenario", *args],
            env={**self.env, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def queue_punches(self, serial: str, *, compare: bool = False) -> dict:
        """Record punches through record_punches (batches above the deferral limit);
        returns the queue length (and how many stored days a full recompute would change)."""
        return json.loads(self.scenario("queue", serial, *(["--compare"] if compare else [])))

    def compare(self) -> dict:
        return json.loads(self.scenario("compare"))

    def start(self, argv: list[str], log: str, **env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            argv,
            env={**self.env, **env},
            cwd=ROOT,
            stdout=open(self.logs / log, "ab"),  # noqa: SIM115 (closed with the process)
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def kill_leftovers(self) -> None:
        """Kill what a failed test left running (by the ids it started)."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        self.processes.clear()

    def reset_queue(self) -> None:
        """An empty Huey queue without locks, as on a new installation."""
        (self.var_dir / "huey.sqlite3").unlink(missing_ok=True)

    def log(self, name: str) -> str:
        return (self.logs / name).read_text(errors="replace")

    # --- looking in -----------------------------------------------------------------------

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """A read on a connection of its own (never the one a worker uses)."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.database_url, autocommit=True) as conn:
                return conn.execute(query, params).fetchall()
        conn = sqlite3.connect(f"file:{self.var_dir / 'ztk.sqlite3'}?mode=ro", uri=True)
        try:
            return conn.execute(query.replace("%s", "?"), params).fetchall()
        finally:
            conn.close()

    def sql_write(self, query: str, params: tuple = ()) -> None:
        """A write behind the application's back (autocommit, a connection of its own)."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.database_url, autocommit=True) as conn:
                conn.execute(query, params)
            return
        conn = sqlite3.connect(self.var_dir / "ztk.sqlite3", isolation_level=None)
        try:
            conn.execute(query.replace("%s", "?"), params)
        finally:
            conn.close()

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the attendance days against writes, as a long write elsewhere would."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                conn.execute("LOCK TABLE attendance_attendanceday IN EXCLUSIVE MODE")
                yield
                conn.rollback()
            return
        conn = sqlite3.connect(self.var_dir / "ztk.sqlite3", isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    def table_counts(self) -> dict[str, int]:
        """Rows in every table, counted here (not by the code under test)."""
        if not self.postgres and not (self.var_dir / "ztk.sqlite3").exists():
            return {}
        if self.postgres:
            names = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        else:
            names = (
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        return {
            table: self.sql(f'SELECT COUNT(*) FROM "{table}"')[0][0] for (table,) in self.sql(names)
        }

    def audit_head(self) -> str:
        seq, digest = self.sql("SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1")[
            0
        ]
        return f"{seq}:{digest}"

    def file_digests(self) -> dict[str, str]:
        """SHA-256 of every stored file: uploads (media/) and terminal photos
        (device-photos/, the default ZTK_DEVICE_PHOTO_DIR), by path under var/."""
        return {
            path.relative_to(self.var_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for sub in ("media", "device-photos")
            for path in sorted((self.var_dir / sub).rglob("*"))
            if path.is_file()
        }

    def pending(self) -> int:
        return self.sql("SELECT COUNT(*) FROM attendance_pendingrecompute")[0][0]

    def lock_held(self, name: str) -> bool:
        """Whether someone holds the lease ``name`` now (ztk/core/leases.py)."""
        from datetime import UTC, datetime

        rows = self.sql("SELECT expires_at FROM core_lease WHERE name = %s", (name,))
        if not rows:
            return False
        expires = rows[0][0]
        if isinstance(expires, str):
            expires = datetime.fromisoformat(expires)
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return expires > datetime.now(UTC)


def stop(process: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 30) -> int:
    """Send ``sig`` and wait for the exit; kill it if it outlives ``timeout``."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
