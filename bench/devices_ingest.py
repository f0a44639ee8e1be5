"""Terminal ingestion benchmark: ATTLOG lines posted to /iclock/cdata, recompute included.

Posts a month of punches for 10,000 employees (September 2026, Monday–Friday, two
punches a day: 440,000 lines) in batches of 500 lines — the way an ADMS terminal
uploads — through Django's test client, so the whole request path runs: middleware,
view, parser, `record_punches`, audit, and the recompute of the touched days.

Standalone (a fresh SQLite file under var/bench-devices/):

    python -m bench.devices_ingest --lines 20000

From `make bench` (`bench/__main__.py` calls `run()` after its own scenarios), it reuses
the database and employees already set up there and adds its own terminal.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench-devices"
DB_PATH = BENCH_DIR / "devices.sqlite3"
TZ = ZoneInfo("Asia/Shanghai")
SERIAL = "BENCHADMS0001"
FIRST_DAY = date(2026, 9, 1)  # before the harness's October, so the two never overlap


def _django_ready() -> bool:
    try:
        from django.apps import apps
    except ImportError:
        return False
    return apps.ready


def django_setup_fresh() -> None:
    """A fresh SQLite database file for a standalone run."""
    if BENCH_DIR.exists():
        shutil.rmtree(BENCH_DIR)
    BENCH_DIR.mkdir(parents=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{DB_PATH}"
    os.environ["ZTK_VAR_DIR"] = str(BENCH_DIR)
    os.environ["HUEY_IMMEDIATE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def employees(n: int) -> list[str]:
    """Employee numbers 10000…; created with bulk_create when absent (fixture data)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from ztk.org.models import AttendanceGroup, Department, Employee

    numbers = [str(10_000 + i) for i in range(n)]
    # The harness's create_company already made some of these numbers (10000…): create
    # only the missing ones, or bulk_create collides on org_employee.employee_no.
    present = set(Employee.objects.values_list("employee_no", flat=True))
    missing = [no for no in numbers if no not in present]
    if not missing:
        return numbers
    User = get_user_model()
    with transaction.atomic():
        group, _ = AttendanceGroup.objects.get_or_create(
            code="STD", defaults={"name": "标准工时组"}
        )
        _standard_week(group)
        dept, _ = Department.objects.get_or_create(code="BENCH", defaults={"name": "压测部"})
        users = User.objects.bulk_create(
            [User(username=f"d{no}", password="!") for no in missing], batch_size=2000
        )
        Employee.objects.bulk_create(
            [
                Employee(
                    user=user,
                    employee_no=no,
                    name=f"员工{no}",
                    department=dept,
                    attendance_group=group,
                    hire_date=date(2020, 1, 1),
                )
                for user, no in zip(users, missing, strict=True)
            ],
            batch_size=2000,
        )
    return numbers


def _standard_week(group) -> None:
    """09:00–18:00 Monday to Friday, so recompute has real work to do."""
    try:
        from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
    except ImportError:  # scheduling not there yet: days are computed as rest days
        return
    if WeeklyPattern.objects.filter(group=group).exists():
        return
    shift, created = Shift.objects.get_or_create(code="D9", defaults={"name": "白班 09:00-18:00"})
    if created:
        ShiftSegment.objects.create(shift=shift, position=1, start=clock(9), end=clock(18))
    WeeklyPattern.objects.create(
        group=group,
        monday_shift=shift,
        tuesday_shift=shift,
        wednesday_shift=shift,
        thursday_shift=shift,
        friday_shift=shift,
        default_workday_shift=shift,
    )


def attlog_lines(numbers: list[str], n_lines: int, seed: int = 11) -> list[str]:
    """ATTLOG lines in time order, as a terminal uploads them: mornings, then evenings."""
    rng = random.Random(seed)
    lines: list[str] = []
    day = FIRST_DAY
    while len(lines) < n_lines:
        if day.weekday() < 5:
            for base, spread in ((clock(9), (-40, 20)), (clock(18), (-5, 90))):
                stamps = sorted(
                    (
                        datetime.combine(day, base)
                        + timedelta(minutes=rng.randint(*spread), seconds=rng.randint(0, 59)),
                        no,
                    )
                    for no in numbers
                )
                state = 0 if base.hour == 9 else 1
                lines.extend(
                    f"{no}\t{at:%Y-%m-%d %H:%M:%S}\t{state}\t1\t0\t0\t0" for at, no in stamps
                )
        day += timedelta(days=1)
    return lines[:n_lines]


def run(n_lines: int = 440_000, batch: int = 500, n_employees: int = 10_000) -> dict:
    """Post `n_lines` ATTLOG lines in batches; return throughput and counts."""
    if not _django_ready():
        django_setup_fresh()
    from django.test import Client

    from ztk.devices.models import Device, DeviceStatus
    from ztk.punches.models import Punch

    numbers = employees(n_employees)
    device, _ = Device.objects.get_or_create(
        serial=SERIAL, defaults={"status": DeviceStatus.APPROVED, "name": "bench"}
    )
    if device.status != DeviceStatus.APPROVED:
        Device.objects.filter(pk=device.pk).update(status=DeviceStatus.APPROVED)
    lines = attlog_lines(numbers, n_lines)
    bodies = ["\n".join(lines[i : i + batch]) + "\n" for i in range(0, len(lines), batch)]
    client = Client(HTTP_HOST="localhost")
    before = Punch.objects.filter(device_sn=SERIAL).count()
    client.get(f"/iclock/getrequest?SN={SERIAL}")  # warm: URLconf and views imported

    accepted = 0
    slowest = 0.0
    cpu = _CpuSplit()
    began = time.perf_counter()
    cpu_began = time.process_time()
    with cpu:
        for stamp, body in enumerate(bodies, start=1):
            t0 = time.perf_counter()
            response = client.post(
                f"/iclock/cdata?SN={SERIAL}&table=ATTLOG&Stamp={stamp}",
                data=body.encode(),
                content_type="text/plain",
            )
            slowest = max(slowest, time.perf_counter() - t0)
            text = response.content.decode()
            if response.status_code != 200 or not text.startswith("OK: "):
                raise RuntimeError(f"batch {stamp}: {response.status_code} {text[:200]}")
            accepted += int(text[4:])
    seconds = time.perf_counter() - began
    cpu_total = time.process_time() - cpu_began
    stored = Punch.objects.filter(device_sn=SERIAL).count() - before
    rate = len(lines) / seconds
    return {
        "lines posted": f"{len(lines):,} in {len(bodies):,} requests of {batch}",
        "lines accepted (OK: n)": f"{accepted:,}",
        "new punches stored": f"{stored:,}",
        "seconds": f"{seconds:.2f}",
        "slowest request": f"{slowest * 1000:.0f} ms",
        "throughput (answered; recompute queued above 100)": f"{rate:,.0f} lines/s",
        **cpu.report(cpu_total, len(lines)),
    }


class _CpuSplit:
    """Process CPU time per line: HTTP + devices layer, record_punches, recompute, commit.

    CPU time, not wall time, so a busy machine does not blur where the time goes.
    """

    def __init__(self) -> None:
        self.record = 0.0
        self.recompute = 0.0
        self.commit = 0.0

    def __enter__(self):
        from django.db import connection

        from ztk.devices import ingest
        from ztk.punches import services

        self._ingest, self._services, self._connection = ingest, services, connection
        self._record, self._recompute = ingest.record_punches, services._recompute_safely
        self._commit = connection.commit

        def commit(*args, **kwargs):
            t0 = time.process_time()
            try:
                return self._commit(*args, **kwargs)
            finally:
                self.commit += time.process_time() - t0

        connection.commit = commit

        def record(*args, **kwargs):
            t0 = time.process_time()
            try:
                return self._record(*args, **kwargs)
            finally:
                self.record += time.process_time() - t0

        def recompute(*args, **kwargs):
            t0 = time.process_time()
            try:
                return self._recompute(*args, **kwargs)
            finally:
                self.recompute += time.process_time() - t0

        ingest.record_punches, services._recompute_safely = record, recompute
        return self

    def __exit__(self, *exc) -> None:
        self._ingest.record_punches = self._record
        self._services._recompute_safely = self._recompute
        del self._connection.commit  # back to the class's method

    def report(self, total: float, lines: int) -> dict:
        def per_line(seconds: float) -> str:
            rate = lines / seconds if seconds else 0
            return f"{seconds / lines * 1e6:,.1f} µs/line ({rate:,.0f} lines/s alone)"

        return {
            "CPU: HTTP stack + devices layer": per_line(total - self.record - self.commit),
            "CPU: record_punches w/o recompute": per_line(self.record - self.recompute),
            "CPU: recompute": (
                per_line(self.recompute) if self.recompute else "queued for the worker (below)"
            ),
            "CPU: commit (punches, days, audit)": per_line(self.commit),
            "CPU: all": per_line(total),
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.devices_ingest")
    parser.add_argument("--lines", type=int, default=440_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="cProfile; top 40 by cumtime")
    parser.add_argument(
        "--no-recompute", action="store_true", help="diagnosis: skip the recompute of days"
    )
    args = parser.parse_args()
    django_setup_fresh()
    if args.no_recompute:
        from ztk.punches import services

        services._recompute_safely = lambda pairs, **kwargs: None
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(run, args.lines, args.batch, args.employees)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    else:
        result = run(args.lines, args.batch, args.employees)
    print(f"ZKTeco ADMS ingestion — SQLite, {args.employees:,} employees")
    for key, value in result.items():
        print(f"  {key:<34} {value}")


if __name__ == "__main__":
    main()
