"""Monthly report benchmark: summary, department totals, XLSX and CSV for 10,000 employees.

From `make bench` (`bench/__main__.py` calls `run()` last), it reads the October 2026 days
the harness has just recomputed in var/bench/bench.sqlite3 (10,000 employees × 31 days).

Standalone (a fresh SQLite file under var/bench-reports/, or a PostgreSQL database dropped
and created anew, filled the same way — punches through `record_punches`, then one
`recompute_range`):

    python -m bench.reports --employees 10000
    python -m bench.reports --postgres postgres://postgres@127.0.0.1:5432/bench_reports

Overtime (issue 15): on top of the month's weekday punches (whose early arrivals and late
departures already give weekday overtime), one employee in ten works 09:00–17:30 on every
rest day and holiday of the month, and half of them have that overtime approved
(``add_overtime``: punches through `record_punches`, requests as fixture rows, the days
recomputed); the report then sums weekday / rest-day / holiday overtime too.

Leave (issue 15): one employee in five has approved leave in the month — two days of
annual leave, one day of an HR-added day type (陪护假, ``family_care``), two hours of an
HR-added hour type (学习假, ``study``) and three hours of 调休 — as fixture rows (requests,
their exemptions), the days recomputed (``add_leave``); the summary then has a column per
leave type with figures in it.

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
from urllib.parse import urlsplit, urlunsplit

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


LEAVE_SHARE = 5  # one employee in five has leave in the month
BENCH_TYPES = (
    # code, 中文, English, unit, order: HR-added, between the defaults
    ("family_care", "陪护假", "Family care leave", "day", 45),
    ("study", "学习假", "Study leave", "hour", 75),
)


def add_leave(*, quiet: bool = False) -> dict:
    """Approved leave for one employee in five (annual 2 days, 陪护假 1 day, 学习假 2 h,
    调休 3 h), with its exemptions; the days recomputed. Fixture rows, not the service."""
    from chinese_calendar import is_workday
    from django.utils import timezone

    from bench.setup import MONTH_END, MONTH_START, TZ
    from ztk.attendance.services import recompute
    from ztk.leave.models import AbsenceRequest, LeaveType, Status
    from ztk.org.models import Employee
    from ztk.scheduling.models import Exemption

    if AbsenceRequest.objects.exists():
        return {}
    began = time.perf_counter()
    for code, zh, en, unit, order in BENCH_TYPES:
        LeaveType.objects.get_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "unit": unit, "order": order}
        )
    types = dict(LeaveType.objects.values_list("code", "pk"))
    workdays = []
    day = MONTH_START
    while day <= MONTH_END:
        if is_workday(day) and day.weekday() < 5:
            workdays.append(day)
        day += timedelta(days=1)
    annual, care, study, toil = workdays[3:5], workdays[6], workdays[8], workdays[10]
    people = list(Employee.objects.order_by("employee_no").values_list("pk", "user_id"))[
        1::LEAVE_SHARE
    ]
    now = timezone.now()

    def span(day, start, end):
        return (datetime.combine(day, start, tzinfo=TZ), datetime.combine(day, end, tzinfo=TZ))

    plans = []  # (code, days, [(start, end)], amount, hours)
    plans.append(("annual", annual, [span(d, time_of(9), time_of(18)) for d in annual], 2, False))
    plans.append(("family_care", [care], [span(care, time_of(9), time_of(18))], 1, False))
    plans.append(("study", [study], [span(study, time_of(14), time_of(16))], 2, True))
    plans.append(("compensatory", [toil], [span(toil, time_of(9), time_of(12))], 3, True))
    requests, exemptions, pairs = [], [], set()
    for pk, user_id in people:
        for code, days, spans, amount, hours in plans:
            requests.append(
                AbsenceRequest(
                    employee_id=pk, applicant_id=user_id, kind="leave",
                    leave_type_id=types[code], start_date=days[0], end_date=days[-1],
                    start_at=spans[0][0] if hours else None,
                    end_at=spans[-1][1] if hours else None, amount=amount,
                    intervals=[[s.isoformat(), e.isoformat(), s.date().isoformat()]
                               for s, e in spans],
                    reason="bench", status=Status.APPROVED, decided_at=now,
                )
            )  # fmt: skip
            for s, e in spans:
                exemptions.append(Exemption(employee_id=pk, start=s, end=e, kind="leave"))
                pairs.add((pk, s.date()))
    AbsenceRequest.objects.bulk_create(requests, batch_size=2000)
    Exemption.objects.bulk_create(exemptions, batch_size=2000)
    recompute(sorted(pairs), now=now)
    result = {
        "leave_people": len(people),
        "leave_requests": len(requests),
        "leave_setup_s": round(time.perf_counter() - began, 2),
    }
    if not quiet:
        print(
            f"  (leave: {len(people):,} people, {len(requests):,} approved requests of 4 types,"
            f" 2 of them HR-added, {result['leave_setup_s']:.0f} s)"
        )
    return result


def run(employees: int = 10_000, *, detail: bool = True, quiet: bool = False) -> dict:
    """Time the monthly report on the database Django is already set up with."""
    from bench.setup import MONTH_END, MONTH_START
    from ztk.reports import export
    from ztk.reports.summary import daily_detail, department_totals, monthly_summary

    overtime = add_overtime(quiet=quiet)
    leave = add_leave(quiet=quiet)
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
        "ratio": total / TARGET_SECONDS,
        "ok": total <= TARGET_SECONDS,
        "columns": len(summaries.columns.summary),
        "leave_columns": [c.key for c in summaries.columns.leave],
        **overtime,
        **leave,
        "overtime_hours": {
            key: round(float(grand.values.get(key, 0)), 1)
            for key in ("overtime_weekday_hours", "overtime_rest_hours", "overtime_holiday_hours")
        },
        "leave_totals": {
            c.key: round(float(grand.values.get(c.key, 0)), 1) for c in summaries.columns.leave
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
        _line("  ratio to the target", f"{total / TARGET_SECONDS:.2f}×", "≤ 1.0×", result["ok"])
        _line(
            "columns (of them leave types)", f"{result['columns']} ({len(summaries.columns.leave)})"
        )
        _line(
            "leave counted (annual d/陪护 d/学习 h/调休 h)",
            "/".join(
                f"{result['leave_totals'].get(k, 0):,.0f}"
                for k in ("leave_annual_days", "leave_family_care_days", "leave_study_hours",
                          "leave_compensatory_hours")
            ),
        )  # fmt: skip
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


def _fresh_postgres(url: str) -> None:
    """DROP and CREATE the database of `url` (connected to the server's `postgres`)."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')


def _standalone(employees: int, postgres: str | None = None) -> None:
    """A fresh database with `employees` people and their October 2026, then `run`.
    `postgres`: a PostgreSQL URL whose database is dropped and created anew (else SQLite)."""
    if BENCH_DIR.exists():
        shutil.rmtree(BENCH_DIR)
    BENCH_DIR.mkdir(parents=True)
    if postgres:
        _fresh_postgres(postgres)
    os.environ["DATABASE_URL"] = postgres or f"sqlite:///{DB_PATH}"
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

    label = "PostgreSQL" if postgres else "SQLite"
    print(f"ZTK reports bench — {label}, {employees} employees, October 2026 (standalone)")
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
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on PostgreSQL: the URL's database is DROPPED and created anew",
    )
    args = parser.parse_args()
    _standalone(args.employees, args.postgres)


if __name__ == "__main__":
    main()
