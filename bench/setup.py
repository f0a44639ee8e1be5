"""A fresh database — a SQLite file, or the PostgreSQL database ``bench_ztk`` — with 10,000
employees on a 09:00–18:00 Monday–Friday shift."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
DB_PATH = BENCH_DIR / "bench.sqlite3"
# PostgreSQL: its own database on the server `make test` finds, so tests are not disturbed;
# the worker's queue file and logs in their own var directory.
# $BENCH_PG_DB names another (sessions sharing a server each bench their own database).
PG_DB_NAME = os.environ.get("BENCH_PG_DB") or "bench_ztk"
PG_BENCH_DIR = ROOT / "var" / "bench-pg"
TZ = ZoneInfo("Asia/Shanghai")
MONTH_START = date(2026, 10, 1)
MONTH_END = date(2026, 10, 31)


@dataclass(frozen=True)
class Database:
    """Where a bench run stores its data: the Django URL and what the floors connect to."""

    vendor: str  # "sqlite" or "postgresql"
    url: str
    var_dir: Path

    @property
    def label(self) -> str:
        return "SQLite" if self.vendor == "sqlite" else "PostgreSQL"

    @property
    def sqlite_path(self) -> Path:
        return Path(urlsplit(self.url).path)

    @property
    def conninfo(self) -> str:
        """The URL psycopg connects to (Django's ``postgres://`` is libpq's too)."""
        return self.url


def postgres_server_url() -> str | None:
    """The PostgreSQL server `make test` uses: $BENCH_DATABASE_URL, $TEST_DATABASE_URL, else
    what scripts/ensure-postgres.sh finds (or starts); None when none answers."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    try:
        done = subprocess.run(
            [str(ROOT / "scripts" / "ensure-postgres.sh")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def database(vendor: str) -> Database | None:
    if vendor == "sqlite":
        return Database("sqlite", f"sqlite:///{DB_PATH}", BENCH_DIR)
    server = postgres_server_url()
    if server is None:
        return None
    parts = urlsplit(server)
    return Database("postgresql", urlunsplit(parts._replace(path=f"/{PG_DB_NAME}")), PG_BENCH_DIR)


def _fresh_postgres(db: Database) -> None:
    """DROP and CREATE the bench database (connected to the server's maintenance database)."""
    import psycopg

    maintenance = urlunsplit(urlsplit(db.url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {PG_DB_NAME} WITH (FORCE)")
        con.execute(f"CREATE DATABASE {PG_DB_NAME}")


def django_setup(fresh: bool = True, db: Database | None = None) -> Database:
    db = db or database("sqlite")
    assert db is not None
    if fresh and db.var_dir.exists():
        shutil.rmtree(db.var_dir)
    db.var_dir.mkdir(parents=True, exist_ok=True)
    if fresh and db.vendor == "postgresql":
        _fresh_postgres(db)
    os.environ["DATABASE_URL"] = db.url
    os.environ["ZTK_VAR_DIR"] = str(db.var_dir)
    os.environ["HUEY_IMMEDIATE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return db


def create_company(n_employees: int = 10_000):
    """Bulk rows: this is fixture data for a benchmark, not a user's write."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from ztk.org.models import AttendanceGroup, Department, Employee
    from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

    User = get_user_model()
    with transaction.atomic():
        group = AttendanceGroup.objects.create(code="STD", name="标准工时组")
        shift = Shift.objects.create(code="D9", name="白班 09:00-18:00")
        ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
        WeeklyPattern.objects.create(
            group=group,
            monday_shift=shift,
            tuesday_shift=shift,
            wednesday_shift=shift,
            thursday_shift=shift,
            friday_shift=shift,
            default_workday_shift=shift,
        )
        dept = Department.objects.create(code="BENCH", name="压测部")
        users = User.objects.bulk_create(
            [User(username=f"b{i:05d}", password="!") for i in range(n_employees)],
            batch_size=2000,
        )
        Employee.objects.bulk_create(
            [
                Employee(
                    user=u,
                    employee_no=f"{i + 10000}",
                    name=f"员工{i}",
                    department=dept,
                    attendance_group=group,
                    hire_date=date(2020, 1, 1),
                )
                for i, u in enumerate(users)
            ],
            batch_size=2000,
        )
    return group


def month_punch_lines(n_employees: int = 10_000, seed: int = 7):
    """(employee_no, aware time) for every working day of October 2026, in time order.

    Most people punch twice a day; a few forget one or arrive late — about 440,000 punches.
    """
    rng = random.Random(seed)
    from chinese_calendar import is_workday

    out: list[tuple[str, datetime]] = []
    day = MONTH_START
    while day <= MONTH_END:
        if is_workday(day):
            morning, evening = [], []
            for i in range(n_employees):
                number = f"{i + 10000}"
                r = rng.random()
                if r > 0.01:
                    minutes = rng.randint(-40, 25 if r > 0.1 else 3)
                    stamp = datetime.combine(day, time(9), tzinfo=TZ) + timedelta(
                        minutes=minutes, seconds=rng.randint(0, 59)
                    )
                    morning.append((number, stamp))
                if rng.random() > 0.01:
                    stamp = datetime.combine(day, time(18), tzinfo=TZ) + timedelta(
                        minutes=rng.randint(-5, 90), seconds=rng.randint(0, 59)
                    )
                    evening.append((number, stamp))
            morning.sort(key=lambda x: x[1])
            evening.sort(key=lambda x: x[1])
            out.extend(morning)
            out.extend(evening)
        day += timedelta(days=1)
    return out
