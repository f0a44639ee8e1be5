"""The floors: what the plain database driver takes for the same job, with no rules.

Each bench figure is printed as a ratio to a floor measured in the same run on the same
database, so a busy or slow machine moves both and the ratio stays comparable:

- **recompute floor**: read every punch, write one row per employee-day of the month
  (rest days and days without a punch included, as recompute writes them). SQLite: one
  ``executemany`` of ``INSERT OR REPLACE``; PostgreSQL: ``COPY`` of the same rows.
- **ingestion floor**: insert the same punches, in the same batches (one transaction a
  batch), each with its unique key (``ON CONFLICT (dedup_key) DO NOTHING``), then read
  them back and write one row per touched employee-day.

Only the Python standard library's ``sqlite3`` and ``psycopg`` are used, on their own
connections; the floor tables are dropped afterwards. A floor is the best of a few runs:
a busy disk or CPU only ever slows a floor down, and a slow floor would flatter the ratio.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from .setup import Database


def best_of(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    times = [measure() for _run in range(max(1, runs))]
    return min(times), times


# --------------------------------------------------------------------------- recompute


def recompute_floor(db: Database, month_start: date, days: int = 31) -> float:
    """Seconds for the plain recompute pass (see the module's docstring)."""
    if db.vendor == "sqlite":
        return _recompute_floor_sqlite(db, month_start, days)
    return _recompute_floor_postgres(db, month_start, days)


def _recompute_floor_sqlite(db: Database, month_start: date, n_days: int) -> float:
    con = sqlite3.connect(db.sqlite_path)
    con.execute("DROP TABLE IF EXISTS bench_floor")
    con.execute(
        "CREATE TABLE bench_floor (employee_id INTEGER, day TEXT, n INTEGER, first TEXT,"
        " last TEXT, PRIMARY KEY (employee_id, day))"
    )
    con.commit()
    began = time.perf_counter()
    groups: dict[tuple[int, str], list[str]] = {}
    for employee_id, at in con.execute("SELECT employee_id, at FROM punches_punch"):
        groups.setdefault((employee_id, at[:10]), []).append(at)
    days = [str(month_start + timedelta(days=i)) for i in range(n_days)]
    employees = [row[0] for row in con.execute("SELECT id FROM org_employee")]
    none: list[str] = []
    con.executemany(
        "INSERT OR REPLACE INTO bench_floor VALUES (?, ?, ?, ?, ?)",
        (
            (e, d, len(v), min(v, default=None), max(v, default=None))
            for e in employees
            for d in days
            for v in (groups.get((e, d), none),)
        ),
    )
    con.commit()
    seconds = time.perf_counter() - began
    con.execute("DROP TABLE bench_floor")
    con.commit()
    con.close()
    return seconds


def _recompute_floor_postgres(db: Database, month_start: date, n_days: int) -> float:
    import psycopg

    with psycopg.connect(db.conninfo) as con:
        con.execute("DROP TABLE IF EXISTS bench_floor")
        con.execute(
            "CREATE TABLE bench_floor (employee_id bigint, day date, n integer,"
            " first timestamptz, last timestamptz, PRIMARY KEY (employee_id, day))"
        )
        con.commit()
        began = time.perf_counter()
        groups: dict[tuple[int, date], list[datetime]] = {}
        for employee_id, at in con.execute("SELECT employee_id, at FROM punches_punch"):
            groups.setdefault((employee_id, at.date()), []).append(at)
        days = [month_start + timedelta(days=i) for i in range(n_days)]
        employees = [row[0] for row in con.execute("SELECT id FROM org_employee")]
        none: list[datetime] = []
        with con.cursor().copy(
            "COPY bench_floor (employee_id, day, n, first, last) FROM STDIN"
        ) as copy:
            for e in employees:
                for d in days:
                    v = groups.get((e, d), none)
                    copy.write_row((e, d, len(v), min(v, default=None), max(v, default=None)))
        con.commit()
        seconds = time.perf_counter() - began
        con.execute("DROP TABLE bench_floor")
        con.commit()
    return seconds


# --------------------------------------------------------------------------- ingestion


def ingest_floor(db: Database, punches: Sequence[tuple[int, datetime]], batch: int) -> float:
    """Seconds for the plain ingestion of ``punches`` ((employee id, aware instant), in the
    order they arrive) in batches of ``batch`` (see the module's docstring)."""
    if db.vendor == "sqlite":
        return _ingest_floor_sqlite(db, punches, batch)
    return _ingest_floor_postgres(db, punches, batch)


def _key(employee_id: int, utc: datetime) -> str:
    return f"dev:BENCH:{employee_id}:{utc:%Y%m%dT%H%M%S.%f}"


def _ingest_floor_sqlite(db: Database, punches: Sequence[tuple[int, datetime]], size: int) -> float:
    con = sqlite3.connect(db.sqlite_path)
    con.executescript(
        "DROP TABLE IF EXISTS bench_ingest; DROP TABLE IF EXISTS bench_ingest_day;"
        " CREATE TABLE bench_ingest (id INTEGER PRIMARY KEY, employee_id INTEGER, at TEXT,"
        " dedup_key TEXT UNIQUE);"
        " CREATE TABLE bench_ingest_day (employee_id INTEGER, day TEXT, n INTEGER, first TEXT,"
        " last TEXT, PRIMARY KEY (employee_id, day));"
    )
    began = time.perf_counter()
    for i in range(0, len(punches), size):
        rows = []
        for employee_id, at in punches[i : i + size]:
            utc = at.astimezone(UTC)
            rows.append((employee_id, str(utc.replace(tzinfo=None)), _key(employee_id, utc)))
        con.executemany(
            "INSERT INTO bench_ingest (employee_id, at, dedup_key) VALUES (?, ?, ?)"
            " ON CONFLICT (dedup_key) DO NOTHING",
            rows,
        )
        con.commit()
    groups: dict[tuple[int, str], list[str]] = {}
    for employee_id, at in con.execute("SELECT employee_id, at FROM bench_ingest"):
        groups.setdefault((employee_id, at[:10]), []).append(at)
    con.executemany(
        "INSERT OR REPLACE INTO bench_ingest_day VALUES (?, ?, ?, ?, ?)",
        ((e, d, len(v), min(v), max(v)) for (e, d), v in groups.items()),
    )
    con.commit()
    seconds = time.perf_counter() - began
    con.executescript("DROP TABLE bench_ingest; DROP TABLE bench_ingest_day;")
    con.close()
    return seconds


def _ingest_floor_postgres(
    db: Database, punches: Sequence[tuple[int, datetime]], size: int
) -> float:
    import psycopg

    with psycopg.connect(db.conninfo) as con:
        con.execute("DROP TABLE IF EXISTS bench_ingest")
        con.execute("DROP TABLE IF EXISTS bench_ingest_day")
        con.execute(
            "CREATE TABLE bench_ingest (id bigserial PRIMARY KEY, employee_id bigint,"
            " at timestamptz, dedup_key text UNIQUE)"
        )
        con.execute(
            "CREATE TABLE bench_ingest_day (employee_id bigint, day date, n integer,"
            " first timestamptz, last timestamptz, PRIMARY KEY (employee_id, day))"
        )
        con.commit()
        began = time.perf_counter()
        cursor = con.cursor()
        for i in range(0, len(punches), size):
            rows = []
            for employee_id, at in punches[i : i + size]:
                utc = at.astimezone(UTC)
                rows.append((employee_id, utc, _key(employee_id, utc)))
            cursor.executemany(
                "INSERT INTO bench_ingest (employee_id, at, dedup_key) VALUES (%s, %s, %s)"
                " ON CONFLICT (dedup_key) DO NOTHING",
                rows,
            )
            con.commit()
        groups: dict[tuple[int, date], list[datetime]] = {}
        for employee_id, at in con.execute("SELECT employee_id, at FROM bench_ingest"):
            groups.setdefault((employee_id, at.date()), []).append(at)
        with cursor.copy(
            "COPY bench_ingest_day (employee_id, day, n, first, last) FROM STDIN"
        ) as copy:
            for (e, d), v in groups.items():
                copy.write_row((e, d, len(v), min(v), max(v)))
        con.commit()
        seconds = time.perf_counter() - began
        con.execute("DROP TABLE bench_ingest")
        con.execute("DROP TABLE bench_ingest_day")
        con.commit()
    return seconds
