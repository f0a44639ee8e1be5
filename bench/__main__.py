"""`make bench`: punches, recompute, terminal ingestion, reports and corrections on SQLite,
then (g) a load run against the site as `make run` serves it (`--only load` for that alone,
`--load-seconds` / `--load-clients` to size it)."""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import time
from datetime import timedelta

from . import setup as S


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor_seconds() -> float:
    """A plain sqlite3 pass with no rules: read every punch, write one row per employee-day.

    One row for every employee and every day of the month, as recompute writes (rest days
    and days without a punch included), not only for the days that have punches.
    """
    con = sqlite3.connect(S.DB_PATH)
    con.execute("DROP TABLE IF EXISTS bench_floor")
    con.execute(
        "CREATE TABLE bench_floor (employee_id INTEGER, day TEXT, n INTEGER, first TEXT,"
        " last TEXT, PRIMARY KEY (employee_id, day))"
    )
    began = time.perf_counter()
    groups: dict[tuple[int, str], list[str]] = {}
    for employee_id, at in con.execute("SELECT employee_id, at FROM punches_punch"):
        groups.setdefault((employee_id, at[:10]), []).append(at)
    days = [str(S.MONTH_START + timedelta(days=i)) for i in range(31)]
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


def line(label: str, value: str, target: str, ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"  {label:<46} {value:>16}   target {target}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--only",
        default="abcdefg",
        help="sections to run: a, b, c always run with any of d, e, f; g (or 'load') is the"
        " load run against scripts/run.sh, alone when it is the only one (e.g. --only abc)",
    )
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--load-clients", type=int, default=20)
    args = parser.parse_args()
    if args.only in ("load", "g"):
        raise SystemExit(0 if run_load(args) else 1)

    S.django_setup()
    from django.utils import timezone

    from ztk.attendance.models import AttendanceDay
    from ztk.attendance.services import recompute, recompute_range
    from ztk.org.models import Employee
    from ztk.punches.services import PunchInput, record_punches

    print(f"ZTK bench — SQLite, {args.employees} employees, October 2026")
    S.create_company(args.employees)
    lines = S.month_punch_lines(args.employees)
    ids = dict(Employee.objects.values_list("employee_no", "pk"))
    now = timezone.now()

    from django.conf import settings

    from .drain import BackgroundDrain

    print(f"load average before the run (other processes share the CPUs): {load_average()}")
    print(
        f"batches above {settings.RECOMPUTE_DEFER_ABOVE} punches queue their days for the"
        " background worker (ztk run_huey, its own process), as in production"
    )
    with BackgroundDrain(S.BENCH_DIR) as drain:
        began, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(lines), args.batch):
            chunk = lines[i : i + args.batch]
            record_punches(
                [PunchInput(at=t, source="device", employee_id=ids[no], device_sn="BENCH", pin=no)
                 for no, t in chunk],
                now=now,
            )  # fmt: skip
        stored = time.perf_counter() - began
        ingest_cpu = time.process_time() - cpu
        ingest = drain.wait() - began
    rate = len(lines) / ingest
    print(f"\n(a) record_punches, batches of {args.batch}, with recompute")
    line("punches", f"{len(lines):,}", "≈440,000")
    line(
        "throughput, until every day is recomputed",
        f"{rate:,.0f} /s",
        "≥ 20,000 /s",
        rate >= 20_000,
    )
    line("  punches stored (record_punches returned)", f"{len(lines) / stored:,.0f} /s", "—")
    line("  queue drained after the last batch", f"{ingest - stored:.2f} s", "—")
    line("  CPU: this process / the worker", f"{ingest_cpu:.1f} s / {drain.cpu:.1f} s", "—")
    assert AttendanceDay.objects.filter(day__gte=S.MONTH_START).exists()

    # The best of three floor runs: a busy disk or CPU only ever slows the floor down,
    # and a slow floor would flatter the ratio.
    floors = [floor_seconds() for _run in range(3)]
    floor = min(floors)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    began, cpu = time.perf_counter(), time.process_time()
    written = recompute_range(start=S.MONTH_START, end=S.MONTH_END, now=now)
    full = time.perf_counter() - began
    full_cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    print("\n(b) full monthly recompute")
    line("employee-days written", f"{written:,}", f"{args.employees * 31:,}")
    runs = " / ".join(f"{f:.2f}" for f in floors)
    line("floor (plain sqlite3, no rules), best of", f"{floor:.2f} s", f"— ({runs} s)")
    line("recompute", f"{full:.2f} s", "≤ 5× floor (aim 3×)", full <= 5 * floor)
    line("ratio to floor", f"{full / floor:.1f}×", "≤ 5×", full <= 5 * floor)
    line(
        "  CPU seconds: this process / its workers",
        f"{full_cpu:.2f} / {workers_cpu:.2f} s",
        "—",
    )

    sample = list(Employee.objects.values_list("pk", flat=True)[:200])
    timings = []
    for k, employee_id in enumerate(sample):
        day = S.MONTH_START + timedelta(days=k % 31)
        t0 = time.perf_counter()
        recompute([(employee_id, day)], now=now)
        timings.append((time.perf_counter() - t0) * 1000)
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[18]
    print("\n(c) one incremental employee-day recompute")
    line("median", f"{median:.2f} ms", "≤ 20 ms", median <= 20)
    line("p95", f"{p95:.2f} ms", "≤ 20 ms", p95 <= 20)

    print("\nmemory")
    line("peak RSS", f"{peak_mib():,.0f} MiB", "≤ 1024 MiB", peak_mib() <= 1024)
    worker_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    line(
        "  peak RSS of a worker process", f"{worker_mib:,.0f} MiB", "≤ 1024 MiB", worker_mib <= 1024
    )
    assert AttendanceDay.objects.count() >= written

    try:
        from . import devices_ingest
    except ImportError:
        devices_ingest = None
    if "d" in args.only and devices_ingest is not None and hasattr(devices_ingest, "run"):
        print("\n(d) ZKTeco ADMS ingestion (ATTLOG over HTTP handlers)")
        # Same scale as the harness: 44 lines per employee (a month, two punches a day).
        n_lines = 44 * args.employees
        with BackgroundDrain(S.BENCH_DIR) as drain:
            result = devices_ingest.run(n_lines=n_lines, n_employees=args.employees)
            posted = time.perf_counter()
            lag = drain.wait() - posted
        for key, value in result.items():
            print(f"  {key:<46} {value}")
        total = float(result["seconds"]) + lag
        line("queue drained after the last request", f"{lag:.2f} s", "—")
        line(
            "throughput, until every day is recomputed",
            f"{n_lines / total:,.0f} lines/s",
            "≥ 20,000 lines/s",
            n_lines / total >= 20_000,
        )
        line("  CPU of the worker (its recompute)", f"{drain.cpu:.1f} s", "—")

    # (e) the monthly report of October for every employee: summary, XLSX and CSV.
    if "e" in args.only:
        from . import reports as reports_bench

        reports_bench.run(employees=args.employees)

    # (f) corrections over the API: submit → approve → recompute, per request.
    if "f" in args.only:
        from . import corrections as corrections_bench

        corrections_bench.run(samples=200)

    if "g" in args.only:
        run_load(args)


def run_load(args) -> bool:
    """(g) gunicorn and the worker as `make run` starts them, under concurrent clients."""
    from . import load

    print(f"load average before the load run: {load_average()}")
    return load.run(seconds=args.load_seconds, clients=args.load_clients)


if __name__ == "__main__":
    main()
