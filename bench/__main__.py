"""`make bench`: punches, recompute, terminal ingestion, reports, corrections, analytics, the
punch-reminder tick — on SQLite, and on PostgreSQL when a server answers (the same discovery
as `make test`) — each figure with a floor measured in the same run on the same database
(bench/floors.py), then (g) the morning rush against the site as `make run` serves it
(bench/rush.py).

    make bench                                   both databases, 10,000 employees
    make bench BENCH_ARGS="--db sqlite --employees 1000 --samples 50"
    make bench BENCH_ARGS="--only rush --db sqlite --rush-employees 2000 --rush-seconds 20"
    make bench BENCH_ARGS="--only i --db sqlite"  the punch-reminder tick alone
    make bench BENCH_ARGS="--only j --db sqlite --employees 2000 --findings-requests 10000"
                                                 (j) the nightly oversight findings run

PostgreSQL benches the database `bench_ztk` on the server `make test` finds (dropped and
created anew); `BENCH_PG_DB=name` picks another, e.g. for sessions sharing one server.

Each database runs in its own process (Django is set up once per process); the parent
prints the table of both at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from . import setup as S

VENDORS = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line(label: str, value: str, target: str, ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"  {label:<46} {value:>16}   target {target}{mark}")


class Figures:
    """The headline figures of one database's run, for the table at the end."""

    def __init__(self, vendor: str, employees: int) -> None:
        self.vendor = vendor
        self.employees = employees
        self.rows: list[dict] = []

    def add(
        self,
        figure: str,
        value: str,
        target: str,
        ok: bool,
        *,
        floor: str = "—",
        ratio: float | None = None,
    ) -> None:
        self.rows.append(
            {"figure": figure, "value": value, "floor": floor, "ratio": ratio, "target": target,
             "ok": ok}
        )  # fmt: skip

    def dump(self, path: str) -> None:
        Path(path).write_text(
            json.dumps({"vendor": self.vendor, "employees": self.employees, "rows": self.rows})
        )


def print_table(runs: list[dict]) -> None:
    """Markdown: figure | target | per database value, floor, ratio."""
    print("\n== every figure against its floor and target ==")
    for run in runs:
        label = "SQLite" if run["vendor"] == "sqlite" else "PostgreSQL"
        print(f"\n{label}, {run['employees']:,} employees")
        print("| figure | value | floor | ratio | target | |")
        print("| --- | --- | --- | --- | --- | --- |")
        for row in run["rows"]:
            ratio = "—" if row["ratio"] is None else f"{row['ratio']:.1f}×"
            mark = "ok" if row["ok"] else "MISSED"
            print(
                f"| {row['figure']} | {row['value']} | {row['floor']} | {ratio} |"
                f" {row['target']} | {mark} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--db",
        default="both",
        choices=["both", *VENDORS],
        help="both (default): SQLite, then PostgreSQL when a server answers",
    )
    parser.add_argument(
        "--only",
        default="abcdefghij",
        help="sections to run: a, b, c always run with any of d, e, f, h; g (or 'rush') is"
        " the morning rush against scripts/run.sh, alone when it is the only one (e.g. --only"
        " abc); h the analytics views over --months of history (bench/analytics.py); i the"
        " punch-reminder tick (bench/reminders.py), alone when it is the only one (--only i);"
        " j (or 'findings'): the nightly oversight findings run on its own data"
        " (bench/findings.py)",
    )
    parser.add_argument(
        "--months", type=int, default=12, help="(h) months of stored days before October 2026"
    )
    parser.add_argument(
        "--findings-months", type=int, default=12, help="(j): months of punches and requests"
    )
    parser.add_argument(
        "--findings-requests",
        type=int,
        default=None,
        help="(j): correction requests over the months (default 5 per employee: 50,000)",
    )
    parser.add_argument(
        "--samples", type=int, default=200, help="days timed in (c), corrections in (f)"
    )
    parser.add_argument("--floor-runs", type=int, default=3, help="each floor: best of N")
    parser.add_argument("--rush-seconds", type=float, default=60, help="(g) each phase")
    parser.add_argument("--rush-employees", type=int, default=10_000, help="(g) people")
    parser.add_argument("--rush-levels", default="10,50,200", help="(g) concurrent users")
    parser.add_argument("--figures", help=argparse.SUPPRESS)  # a child's JSON output
    args = parser.parse_args()
    if args.only in ("rush", "load", "g"):
        raise SystemExit(0 if run_load(args) else 1)
    if args.only in ("j", "findings"):
        raise SystemExit(0 if run_findings(args) else 1)

    if args.db != "both":
        figures = run_database(args, VENDORS[args.db])
        if figures is None:
            return
        if args.figures:
            figures.dump(args.figures)
        else:
            print_table([json.loads(json.dumps(vars(figures)))])
        return

    runs: list[dict] = []
    only = args.only.replace("g", "").replace("j", "") or "abc"
    for vendor in ("sqlite", "postgresql"):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            child = [
                sys.executable, "-m", "bench", *sys.argv[1:],
                "--db", vendor, "--only", only, "--figures", out.name,
            ]  # fmt: skip
            done = subprocess.run(child, cwd=S.ROOT)
            text = Path(out.name).read_text()
            if done.returncode != 0:
                print(f"\nthe {vendor} run failed (exit {done.returncode})")
            elif text:
                runs.append(json.loads(text))
    print_table(runs)
    if "j" in args.only:
        run_findings(args)
    if "g" in args.only:
        run_load(args)


def run_findings(args) -> bool:
    """(j) the nightly findings run on its own fresh database (each vendor in a child)."""
    if args.db == "both":
        ok = True
        for vendor in ("sqlite", "postgresql"):
            child = [
                sys.executable, "-m", "bench", "--only", "j", "--db", vendor,
                "--employees", str(args.employees), "--findings-months",
                str(args.findings_months),
                *(["--findings-requests", str(args.findings_requests)]
                  if args.findings_requests else []),
            ]  # fmt: skip
            ok = subprocess.run(child, cwd=S.ROOT).returncode == 0 and ok
        return ok
    db = S.database(VENDORS[args.db])
    if db is None:
        print("\nPostgreSQL: skipped — no server answered (scripts/ensure-postgres.sh)")
        return True
    S.django_setup(db=db)
    from . import findings

    print(f"\nZTK bench (j) — {db.label}")
    result = findings.run(
        employees=args.employees,
        months=args.findings_months,
        requests=args.findings_requests or 5 * args.employees,
    )
    line(
        "findings_run",
        f"{result['seconds']:.2f} s",
        f"≤ {result['budget']:.0f} s (60 s at 10,000 employees)",
        result["ok"],
    )
    line("  peak RSS", f"{peak_mib():,.0f} MiB", "≤ 1024 MiB", peak_mib() <= 1024)
    return bool(result["ok"])


def run_database(args, vendor: str) -> Figures | None:
    db = S.database(vendor)
    if db is None:
        print("\nPostgreSQL: skipped — no server answered (scripts/ensure-postgres.sh)")
        return None
    S.django_setup(db=db)
    from django.conf import settings
    from django.utils import timezone

    from ztk.attendance.models import AttendanceDay
    from ztk.attendance.services import recompute, recompute_range
    from ztk.org.models import Employee
    from ztk.punches.services import PunchInput, record_punches

    from . import floors
    from .drain import BackgroundDrain

    figures = Figures(vendor, args.employees)
    print(f"\nZTK bench — {db.label}, {args.employees:,} employees, October 2026")
    S.create_company(args.employees)
    if args.only == "i":  # the reminder tick alone: it needs the company, not the month
        reminder_figures(args, figures)
        return figures
    lines = S.month_punch_lines(args.employees)
    ids = dict(Employee.objects.values_list("employee_no", "pk"))
    now = timezone.now()

    print(f"load average before the run (other processes share the CPUs): {load_average()}")
    print(
        f"batches above {settings.RECOMPUTE_DEFER_ABOVE} punches queue their days for the"
        " background worker (ztk run_huey, its own process), as in production"
    )
    ingest_floor, ingest_floors = floors.best_of(
        args.floor_runs,
        lambda: floors.ingest_floor(db, [(ids[no], t) for no, t in lines], args.batch),
    )
    floor_us = ingest_floor / len(lines) * 1e6
    with BackgroundDrain(db.var_dir) as drain:
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
    ratio = ingest / ingest_floor
    print(f"\n(a) record_punches, batches of {args.batch}, with recompute")
    line("punches", f"{len(lines):,}", "—")
    runs = " / ".join(f"{f:.2f}" for f in ingest_floors)
    line(
        f"floor (plain {db.vendor} driver), best of",
        f"{ingest_floor:.2f} s",
        f"— ({runs} s; {floor_us:.1f} µs/punch)",
    )
    line("until every day is recomputed", f"{ingest:.2f} s", f"— ({rate:,.0f} punches/s)")
    line("ratio to floor", f"{ratio:.1f}×", "≤ 15×", ratio <= 15)
    line("  punches stored (record_punches returned)", f"{len(lines) / stored:,.0f} /s", "—")
    line("  queue drained after the last batch", f"{ingest - stored:.2f} s", "—")
    line("  CPU: this process / the worker", f"{ingest_cpu:.1f} s / {drain.cpu:.1f} s", "—")
    line(
        "  CPU per punch: this process / the worker",
        f"{ingest_cpu / len(lines) * 1e6:.0f} / {drain.cpu / len(lines) * 1e6:.0f} µs",
        "—",
    )
    figures.add(
        f"(a) record_punches, {len(lines):,} punches, until every day is recomputed",
        f"{ingest:.2f} s ({rate:,.0f}/s)",
        "≤ 15× floor",
        ratio <= 15,
        floor=f"{ingest_floor:.2f} s",
        ratio=ratio,
    )
    assert AttendanceDay.objects.filter(day__gte=S.MONTH_START).exists()

    floor, floor_runs = floors.best_of(
        args.floor_runs, lambda: floors.recompute_floor(db, S.MONTH_START)
    )
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    began, cpu = time.perf_counter(), time.process_time()
    written = recompute_range(start=S.MONTH_START, end=S.MONTH_END, now=now)
    full = time.perf_counter() - began
    full_cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    print("\n(b) full monthly recompute")
    line("employee-days written", f"{written:,}", f"{args.employees * 31:,}")
    runs = " / ".join(f"{f:.2f}" for f in floor_runs)
    line(f"floor (plain {db.vendor} driver), best of", f"{floor:.2f} s", f"— ({runs} s)")
    line("recompute", f"{full:.2f} s", "—")
    line("ratio to floor", f"{full / floor:.1f}×", "≤ 3×", full <= 3 * floor)
    line(
        "  CPU seconds: this process / its workers",
        f"{full_cpu:.2f} / {workers_cpu:.2f} s",
        "—",
    )
    figures.add(
        f"(b) full monthly recompute, {written:,} employee-days",
        f"{full:.2f} s",
        "≤ 3× floor",
        full <= 3 * floor,
        floor=f"{floor:.2f} s",
        ratio=full / floor,
    )

    sample = list(Employee.objects.values_list("pk", flat=True)[: args.samples])
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
    figures.add(
        "(c) one employee-day recompute, median / p95",
        f"{median:.2f} / {p95:.2f} ms",
        "≤ 20 ms",
        p95 <= 20,
    )

    print("\nmemory")
    line("peak RSS", f"{peak_mib():,.0f} MiB", "≤ 1024 MiB", peak_mib() <= 1024)
    worker_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    line(
        "  peak RSS of a worker process", f"{worker_mib:,.0f} MiB", "≤ 1024 MiB", worker_mib <= 1024
    )
    assert AttendanceDay.objects.count() >= written

    if "d" in args.only:
        from . import devices_ingest

        print("\n(d) ZKTeco ADMS ingestion (ATTLOG over HTTP handlers)")
        # Same scale as (a): 44 lines per employee (a month, two punches a day).
        n_lines = 44 * args.employees
        with BackgroundDrain(db.var_dir) as drain:
            result = devices_ingest.run(
                n_lines=n_lines, batch=args.batch, n_employees=args.employees
            )
            posted = time.perf_counter()
            lag = drain.wait() - posted
        for key, value in result.items():
            print(f"  {key:<46} {value}")
        total = float(result["seconds"]) + lag
        per_line = total / n_lines * 1e6
        ratio = per_line / floor_us
        line("queue drained after the last request", f"{lag:.2f} s", "—")
        line("until every day is recomputed", f"{total:.2f} s", f"— ({n_lines / total:,.0f}/s)")
        line("per line, floor per punch (from (a))", f"{per_line:.1f} µs", f"— ({floor_us:.1f} µs)")
        line("ratio to floor", f"{ratio:.1f}×", "≤ 15×", ratio <= 15)
        line("  CPU of the worker (its recompute)", f"{drain.cpu:.1f} s", "—")
        figures.add(
            f"(d) ADMS upload, {n_lines:,} lines, until every day is recomputed",
            f"{per_line:.1f} µs/line ({n_lines / total:,.0f}/s)",
            "≤ 15× floor",
            ratio <= 15,
            floor=f"{floor_us:.1f} µs/punch",
            ratio=ratio,
        )

    # (e) the monthly report of October for every employee: summary, XLSX and CSV.
    if "e" in args.only:
        from . import reports as reports_bench

        result = reports_bench.run(employees=args.employees)
        seconds = result["report_total_s"]
        figures.add(
            "(e) monthly report with leave and overtime (summary, XLSX, CSV)",
            f"{seconds:.2f} s (summary {result['summary_s']:.2f}, XLSX {result['xlsx_s']:.2f},"
            f" CSV {result['csv_s']:.2f})",
            "≤ 10 s (ratio: to the target)",
            result["ok"],
            floor="—",
            ratio=result["ratio"],
        )

    # (f) corrections over the API: submit → approve → recompute, per request.
    if "f" in args.only:
        from . import corrections as corrections_bench

        out = corrections_bench.run(samples=args.samples)
        figures.add(
            "(f) correction submit, median / p95",
            out["submit"],
            "p95 ≤ 50 ms",
            out["submit_ok"],
        )
        figures.add(
            "(f) correction approve + recompute, median / p95",
            out["approve"],
            "p95 ≤ 50 ms",
            out["approve_ok"],
        )
    # (h) every analytics view over 12 months of history (bench/analytics.py).
    if "h" in args.only:
        from . import analytics as analytics_bench

        out = analytics_bench.run(months=args.months)
        slowest = max(out["timings_ms"], key=out["timings_ms"].get)
        figures.add(
            f"(h) analytics views, {args.months} months, slowest ({slowest})",
            f"{out['slowest_s']:.2f} s",
            "≤ 1 s each",
            out["ok"],
        )
    if "i" in args.only:
        reminder_figures(args, figures)
    return figures


def reminder_figures(args, figures: Figures) -> None:
    """(i) the punch-reminder scan at one minute's tick."""
    from . import reminders as reminders_bench

    out = reminders_bench.run(employees=args.employees)
    small, full = out["scan_queries"]
    line("the scan (who is due), everyone", f"{out['scan_s'] * 1000:.0f} ms", "≤ 1 s",
         out["scan_ok"])  # fmt: skip
    line("scan queries, a tenth / everyone", f"{small} / {full}", "equal", small == full)
    line("the tick, everyone due (scan + queue)", f"{out['tick_due_s'] * 1000:.0f} ms", "≤ 1 s",
         out["ok"])  # fmt: skip
    line(f"  the workers' sending, {out['batches']} batches", f"{out['work_s']:.2f} s",
         f"— (longest batch {out['batch_max_s'] * 1000:.0f} ms)")  # fmt: skip
    figures.add(
        f"(i) reminder scan, {out['sent']:,} due",
        f"{out['scan_s'] * 1000:.0f} ms, {small}/{full} queries",
        "≤ 1 s, queries constant",
        out["scan_ok"],
    )
    figures.add(
        f"(i) reminder tick (scan + queue {out['batches']} batches), {out['sent']:,} due",
        f"{out['tick_due_s'] * 1000:.0f} ms, {out['queries_small']}/{out['queries_full']} queries",
        "≤ 1 s",
        out["ok"],
    )


def run_load(args) -> bool:
    """(g) the morning rush: gunicorn and the worker as `make run` starts them, on each
    database asked for (PostgreSQL with Redis, when a server answers)."""
    from . import rush

    levels = tuple(int(n) for n in args.rush_levels.split(",") if n.strip())
    vendors = ["sqlite", "postgresql"] if args.db == "both" else [VENDORS[args.db]]
    ok = True
    for vendor in vendors:
        if vendor == "postgresql" and S.postgres_server_url() is None:
            print("\n(g) PostgreSQL: skipped — no server answered")
            continue
        print(f"load average before the run: {load_average()}")
        ok &= rush.run(
            vendor=vendor,
            employees=args.rush_employees,
            seconds=args.rush_seconds,
            levels=levels,
        )
    return ok


if __name__ == "__main__":
    main()
