"""Monthly report benchmark: summary, department totals, XLSX and CSV for 10,000 employees.

From `make bench` (`bench/__main__.py` calls `run()` last), it reads the October 2026 days
the harness has just recomputed in var/bench/bench.sqlite3 (10,000 employees × 31 days).

Standalone (a fresh SQLite file under var/bench-reports/, filled the same way — punches
through `record_punches`, then one `recompute_range`):

    python -m bench.reports --employees 10000

Overtime (issue 15): on top of the month's weekday punches (whose early arrivals and late
departures already give weekday overtime), one employee in ten works 09:00–17:30 on every
rest day and holiday of the month, and half of them have that overtime approved
(``add_overtime``: punches through `record_punches`, requests as fixture rows, the days
recomputed); the report then sums weekday / rest-day / holiday overtime too.

Timed: (1) `monthly_summary` + `department_totals`, (2) the XLSX with the summary and
department sheets, (3) the summary CSV — together the "monthly report, generated and
exported", target ≤ 10 s. Also shown, without a target: the per-day detail (310,000 rows)
built and as CSV, and the workbook with its 每日明细 sheet for 1,000 people (the largest
the pages put in a workbook; bigger selections get the detail as CSV).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import datetime, timedelta
from datetime import time as time_of
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench-reports"
DB_PATH = BENCH_DIR / "reports.sqlite3"
TARGET_SECONDS = 10.0


def _line(label: str, value: str, target: str = "—", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"  {label:<46} {value:>16}   target {target}{mark}")


OVERTIME_SHARE = 10  # one employee in ten works the rest days and holidays
APPROVED_SHARE = 2  # … and one in two of them has it approved


def add_overtime(*, quiet: bool = False) -> dict:
    """Rest-day and holiday work for one employee in ten, half of it approved; the days
    recomputed. Fixture data: requests are created as rows, not through the service."""
    from chinese_calendar import is_workday
    from django.utils import timezone

    from bench.setup import MONTH_END, MONTH_START, TZ
    from ztk.attendance.services import recompute
    from ztk.org.models import Employee
    from ztk.overtime.models import OvertimeRequest, Status
    from ztk.punches.services import PunchInput, record_punches

    if OvertimeRequest.objects.exists():
        return {}
    began = time.perf_counter()
    people = list(
        Employee.objects.order_by("employee_no").values_list("pk", "employee_no", "user_id")
    )[::OVERTIME_SHARE]
    days = []
    day = MONTH_START
    while day <= MONTH_END:
        if not is_workday(day):
            days.append(day)
        day += timedelta(days=1)
    now = timezone.now()
    inputs = [
        PunchInput(
            at=datetime.combine(day, clock, tzinfo=TZ),
            source="device",
            employee_id=pk,
            device_sn="BENCH",
            pin=number,
        )
        for day in days
        for clock in (time_of(9), time_of(17, 30))
        for pk, number, _user in people
    ]
    for i in range(0, len(inputs), 5000):
        record_punches(inputs[i : i + 5000], now=now, recompute=False)
    requests = [
        OvertimeRequest(
            employee_id=pk,
            applicant_id=user_id,
            date=day,
            start=datetime.combine(day, time_of(9), tzinfo=TZ),
            end=datetime.combine(day, time_of(17, 30), tzinfo=TZ),
            minutes=510,
            kind="rest",
            reason="bench",
            status=Status.APPROVED,
            decided_at=now,
        )
        for day in days
        for pk, _number, user_id in people[::APPROVED_SHARE]
    ]
    OvertimeRequest.objects.bulk_create(requests, batch_size=2000)
    pairs = [(pk, day) for day in days for pk, _number, _user in people]
    recompute(pairs, now=now)
    result = {
        "overtime_people": len(people),
        "overtime_days": len(pairs),
        "overtime_punches": len(inputs),
        "overtime_approved": len(requests),
        "overtime_setup_s": round(time.perf_counter() - began, 2),
    }
    if not quiet:
        print(
            f"  (overtime: {len(people):,} people × {len(days)} rest days and holidays, "
            f"{len(requests):,} approved, {result['overtime_setup_s']:.0f} s)"
        )
    return result


def run(employees: int = 10_000, *, detail: bool = True, quiet: bool = False) -> dict:
    """Time the monthly report on the database Django is already set up with."""
    from bench.setup import MONTH_END, MONTH_START
    from ztk.reports import export
    from ztk.reports.summary import daily_detail, department_totals, monthly_summary

    overtime = add_overtime(quiet=quiet)
    timings: dict[str, float] = {}

    began = time.perf_counter()
    summaries = monthly_summary(period_start=MONTH_START, period_end=MONTH_END)
    departments, grand = department_totals(summaries, lang="zh-hans")
    timings["summary"] = time.perf_counter() - began

    began = time.perf_counter()
    xlsx = export.xlsx_report(
        summaries=summaries, departments=departments, grand_total=grand, lang="zh-hans"
    )
    timings["xlsx"] = time.perf_counter() - began

    began = time.perf_counter()
    csv_bytes = export.csv_summary(summaries, lang="zh-hans")
    timings["csv"] = time.perf_counter() - began
    total = timings["summary"] + timings["xlsx"] + timings["csv"]

    result = {
        "employees": len(summaries),
        "employee_days": grand.values.get("required_days", 0)
        + grand.values.get("rest_days", 0)
        + grand.values.get("holiday_days", 0),
        "summary_s": round(timings["summary"], 2),
        "xlsx_s": round(timings["xlsx"], 2),
        "xlsx_bytes": len(xlsx),
        "csv_s": round(timings["csv"], 2),
        "csv_bytes": len(csv_bytes),
        "report_total_s": round(total, 2),
        "target_s": TARGET_SECONDS,
        "ok": total <= TARGET_SECONDS,
        **overtime,
        "overtime_hours": {
            key: round(float(grand.values.get(key, 0)), 1)
            for key in ("overtime_weekday_hours", "overtime_rest_hours", "overtime_holiday_hours")
        },
    }
    if not quiet:
        print(f"\n(e) monthly report, {len(summaries):,} employees, October 2026")
        _line("employee-days summed", f"{result['employee_days']:,}", f"{employees * 31:,}")
        _line("monthly_summary + department totals", f"{timings['summary']:.2f} s")
        _line("XLSX (summary + departments)", f"{timings['xlsx']:.2f} s")
        _line("XLSX size", f"{len(xlsx) / 1024:,.0f} KiB")
        _line("CSV (summary)", f"{timings['csv']:.2f} s")
        _line("report generated and exported", f"{total:.2f} s", "≤ 10 s", result["ok"])
        hours = result["overtime_hours"]
        _line(
            "overtime counted (weekday/rest/holiday h)",
            "/".join(f"{hours[k]:,.0f}" for k in hours),
        )

    if detail:
        began = time.perf_counter()
        rows = daily_detail(period_start=MONTH_START, period_end=MONTH_END, lang="zh-hans")
        built = time.perf_counter() - began
        began = time.perf_counter()
        detail_csv = export.csv_detail(rows, lang="zh-hans")
        as_csv = time.perf_counter() - began
        # The largest workbook the pages offer with a 每日明细 sheet: 1,000 people.
        from ztk.org.models import Employee
        from ztk.reports.views import DETAIL_XLSX_MAX_ROWS

        some = Employee.objects.order_by("employee_no")[: DETAIL_XLSX_MAX_ROWS // 31]
        began = time.perf_counter()
        part = monthly_summary(period_start=MONTH_START, period_end=MONTH_END, employees=some)
        part_departments, part_grand = department_totals(part, lang="zh-hans")
        part_rows = daily_detail(
            period_start=MONTH_START, period_end=MONTH_END, employees=some, lang="zh-hans"
        )
        full = export.xlsx_report(
            summaries=part,
            departments=part_departments,
            grand_total=part_grand,
            detail=part_rows,
            lang="zh-hans",
        )
        as_xlsx = time.perf_counter() - began
        result.update(
            detail_rows=len(rows),
            detail_build_s=round(built, 2),
            detail_csv_s=round(as_csv, 2),
            detail_csv_bytes=len(detail_csv),
            workbook_with_detail_people=len(part),
            workbook_with_detail_s=round(as_xlsx, 2),
            workbook_with_detail_bytes=len(full),
        )
        if not quiet:
            _line("daily detail rows built", f"{len(rows):,} in {built:.2f} s")
            _line("daily detail CSV", f"{as_csv:.2f} s")
            _line(
                f"XLSX with the detail sheet, {len(part):,} people",
                f"{as_xlsx:.2f} s",
            )
            _line("  its size", f"{len(full) / 1024 / 1024:,.1f} MiB")
    return result


def _standalone(employees: int) -> None:
    """A fresh database with `employees` people and their October 2026, then `run`."""
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
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from bench import setup as S
    from ztk.attendance.services import recompute_range
    from ztk.org.models import Employee
    from ztk.punches.services import PunchInput, record_punches

    print(f"ZTK reports bench — SQLite, {employees} employees, October 2026 (standalone)")
    began = time.perf_counter()
    S.create_company(employees)
    ids = dict(Employee.objects.values_list("employee_no", "pk"))
    lines = S.month_punch_lines(employees)
    now = timezone.now()
    for i in range(0, len(lines), 5000):
        record_punches(
            [
                PunchInput(at=t, source="device", employee_id=ids[no], device_sn="BENCH", pin=no)
                for no, t in lines[i : i + 5000]
            ],
            now=now,
            recompute=False,
        )
    recompute_range(start=S.MONTH_START, end=S.MONTH_END, now=now)
    print(f"  (set-up: {len(lines):,} punches, recompute, {time.perf_counter() - began:.0f} s)")
    run(employees)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--employees", type=int, default=10_000)
    args = parser.parse_args()
    _standalone(args.employees)


if __name__ == "__main__":
    main()
