"""Bulk import of historical corrections: 10,000 rows checked and committed (target < 10 s).

Standalone, on a fresh SQLite file under var/bench-corrections/:

    python -m bench.corrections_import            # 1,000 employees × 10 days = 10,000 rows
    python -m bench.corrections_import --employees 10000 --days 1

Each employee punched in on every day of the file (terminal punches, recomputed) and
forgot to punch out; the file fills every check-out. Timed: the dry run (every row
validated), the commit (validated again in the transaction, record_punches with the
recompute of the days, audit), the two together, and a re-import of the same file (adds
nothing). `run()` prints the seconds and returns them.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench-corrections"
DB_PATH = BENCH_DIR / "corrections.sqlite3"
TZ = ZoneInfo("Asia/Shanghai")
FIRST_DAY = date(2026, 8, 3)  # a Monday, before the other benches' months
TARGET_SECONDS = 10.0


def django_setup_fresh() -> None:
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


def working_days(n: int) -> list[date]:
    from chinese_calendar import is_workday

    days, day = [], FIRST_DAY
    while len(days) < n:
        if is_workday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def company(n_employees: int) -> list[str]:
    """Bulk rows (fixture data for a benchmark, not a user's write)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from ztk.org.models import AttendanceGroup, Department, Employee
    from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

    User = get_user_model()
    numbers = [f"C{i:05d}" for i in range(n_employees)]
    with transaction.atomic():
        group = AttendanceGroup.objects.create(code="CORR", name="补卡导入组")
        shift = Shift.objects.create(code="CD9", name="白班 09:00-18:00")
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
        dept = Department.objects.create(code="CORR", name="导入部")
        users = User.objects.bulk_create(
            [User(username=f"c{i:05d}", password="!") for i in range(n_employees)],
            batch_size=2000,
        )
        Employee.objects.bulk_create(
            [
                Employee(
                    user=u,
                    employee_no=numbers[i],
                    name=f"员工{i}",
                    department=dept,
                    attendance_group=group,
                    hire_date=date(2020, 1, 1),
                )
                for i, u in enumerate(users)
            ],
            batch_size=2000,
        )
    return numbers


def morning_punches(numbers: list[str], days: list[date]) -> None:
    from django.utils import timezone

    from ztk.org.models import Employee
    from ztk.punches.services import PunchInput, record_punches

    ids = dict(Employee.objects.filter(employee_no__in=numbers).values_list("employee_no", "pk"))
    inputs = [
        PunchInput(
            at=datetime.combine(day, clock(8, 50), tzinfo=TZ) + timedelta(seconds=i % 600),
            source="device",
            employee_id=ids[no],
            device_sn="BENCHCORR",
            pin=no,
        )
        for day in days
        for i, no in enumerate(numbers)
    ]
    now = timezone.now()
    for start in range(0, len(inputs), 2000):
        record_punches(inputs[start : start + 2000], now=now)


HEADER = ["工号", "日期", "卡点", "时间", "原因", "外部编号"]


def _rows(numbers: list[str], days: list[date]):
    for day in days:
        for i, no in enumerate(numbers):
            minute = 5 + i % 50
            yield [no, day.isoformat(), "下班", f"18:{minute:02d}", "考勤机断电，历史补录", f"H{i}"]


def corrections_csv(numbers: list[str], days: list[date]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(_rows(numbers, days))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def corrections_xlsx(numbers: list[str], days: list[date]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in _rows(numbers, days):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(
    employees: int = 1_000, days: int = 10, *, xlsx: bool = False, fresh: bool = True
) -> dict[str, float]:
    if fresh:
        django_setup_fresh()
    from ztk.hrdesk import bulk_import

    numbers = company(employees)
    dates = working_days(days)
    morning_punches(numbers, dates)
    data = (corrections_xlsx if xlsx else corrections_csv)(numbers, dates)
    name = "bench.xlsx" if xlsx else "bench.csv"
    rows = employees * days

    began = time.perf_counter()
    preview = bulk_import.import_preview(actor=None, data=data, filename=name)
    checked = time.perf_counter() - began
    assert preview.counts()["ok"] == rows, preview.counts()

    began = time.perf_counter()
    result = bulk_import.import_commit(actor=None, data=data, filename=name)
    committed = time.perf_counter() - began
    assert result.new == rows, result

    began = time.perf_counter()
    again = bulk_import.import_commit(actor=None, data=data, filename=name)
    repeated = time.perf_counter() - began
    assert again.new == 0 and again.duplicate == rows

    from ztk.attendance.models import AttendanceDay

    statuses = set(
        AttendanceDay.objects.filter(day__in=dates, employee__employee_no__in=numbers[:50])
        .values_list("status", flat=True)
        .distinct()
    )
    assert statuses == {"normal"}, statuses

    total = checked + committed
    kind = "XLSX" if xlsx else "CSV"
    print(f"ZTK bench — corrections import ({kind}), SQLite, {employees:,} employees × {days} days")
    print(f"  {'rows':<44} {rows:>10,}")
    print(f"  {'dry run (validate every row)':<44} {checked:>8.2f} s")
    print(f"  {'commit (validate again, write, recompute)':<44} {committed:>8.2f} s")
    mark = "ok" if total < TARGET_SECONDS else "MISSED"
    print(f"  {'dry run + commit':<44} {total:>8.2f} s   target < {TARGET_SECONDS:.0f} s  {mark}")
    print(f"  {'re-import of the same file (adds 0)':<44} {repeated:>8.2f} s")
    return {"rows": rows, "preview": checked, "commit": committed, "total": total,
            "reimport": repeated}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.corrections_import")
    parser.add_argument("--employees", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--xlsx", action="store_true", help="an XLSX file instead of CSV")
    args = parser.parse_args()
    run(args.employees, args.days, xlsx=args.xlsx)


if __name__ == "__main__":
    main()
