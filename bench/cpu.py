"""CPU per punch and per employee-day, the database server's included — a measure that a
busy machine does not blur (wall times on a shared 2-core machine vary 2× run to run).

    python -m bench.cpu --db postgresql --employees 500
    python -m bench.cpu --db sqlite --employees 500

One process, on its own database (var/bench-cpu*, PostgreSQL: ``bench_ztk_cpu``):
October's punches through ``record_punches`` in batches of 500, each batch's queued days
drained at once in the same process (``drain_pending``), then one ``recompute_range`` of
the month without worker processes. Printed: wall time, this process's CPU and — on
PostgreSQL — the CPU of its server backend (from /proc, so the server must run on this
machine), each per punch or per day.
"""

from __future__ import annotations

import argparse
import os
import time

from . import setup as S


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (0 on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu")
    parser.add_argument("--db", default="postgresql", choices=["sqlite", "postgresql"])
    parser.add_argument("--employees", type=int, default=500)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    S.BENCH_DIR = S.ROOT / "var" / "bench-cpu"
    S.DB_PATH = S.BENCH_DIR / "bench.sqlite3"
    S.PG_BENCH_DIR = S.ROOT / "var" / "bench-cpu-pg"
    S.PG_DB_NAME = "bench_ztk_cpu"
    db = S.database(args.db)
    if db is None:
        raise SystemExit("PostgreSQL: no server answered (scripts/ensure-postgres.sh)")
    S.django_setup(db=db)
    from django.utils import timezone
    from huey.contrib.djhuey import HUEY

    from ztk.attendance.services import drain_pending, recompute_range
    from ztk.org.models import Employee
    from ztk.punches.services import PunchInput, record_punches

    S.create_company(args.employees)
    lines = S.month_punch_lines(args.employees)
    ids = dict(Employee.objects.values_list("employee_no", "pk"))
    now = timezone.now()
    HUEY.immediate = False  # queued days are drained below, in this process
    print(f"ZTK CPU bench — {db.label}, {args.employees:,} employees, October 2026")
    wall, cpu, server = time.perf_counter(), time.process_time(), _server_cpu()
    for i in range(0, len(lines), args.batch):
        record_punches(
            [PunchInput(at=t, source="device", employee_id=ids[no], device_sn="BENCH", pin=no)
             for no, t in lines[i : i + args.batch]],
            now=now,
        )  # fmt: skip
        drain_pending(now=now)
    n = len(lines)
    print(
        f"  ingestion, {n:,} punches: {time.perf_counter() - wall:.2f} s;"
        f" CPU per punch: this process {(time.process_time() - cpu) / n * 1e6:.0f} µs,"
        f" server {(_server_cpu() - server) / n * 1e6:.0f} µs"
    )
    wall, cpu, server = time.perf_counter(), time.process_time(), _server_cpu()
    days = recompute_range(start=S.MONTH_START, end=S.MONTH_END, now=now, workers=1)
    print(
        f"  monthly recompute, {days:,} days, one process: {time.perf_counter() - wall:.2f} s;"
        f" CPU per day: this process {(time.process_time() - cpu) / days * 1e6:.0f} µs,"
        f" server {(_server_cpu() - server) / days * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    main()
