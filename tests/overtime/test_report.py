"""Counted overtime in the monthly summary, its CSV/XLSX and GET /api/v1/reports/monthly."""

from __future__ import annotations

import io
from datetime import date, time

import pytest
from openpyxl import load_workbook

from ztk.accounts.services import api_key_create
from ztk.reports import export
from ztk.reports.summary import department_totals, monthly_summary
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern, WorkCalendarDay

from .conftest import MON, SAT, TUE, at, punch
from .test_flows import approve_all, submit

pytestmark = pytest.mark.django_db
START, END = date(2026, 11, 1), date(2026, 11, 30)


def zhang(summaries):
    return next(s for s in summaries if s.employee_no == "1002")


def test_approved_overtime_is_reported_by_category(client, week):
    org = week
    punch(org.employee, at(SAT, 9), at(SAT, 17, 40), at(MON, 9), at(MON, 20))
    approve_all(org, submit(org, at(SAT, 9), at(SAT, 18)))
    # Monday evening is computed but never requested: it does not count.

    summaries = monthly_summary(period_start=START, period_end=END)
    row = zhang(summaries)
    assert (row.overtime_weekday_hours, row.overtime_rest_hours, row.overtime_holiday_hours) == (
        0.0,
        8.5,
        0.0,
    )

    csv = export.csv_summary(summaries, lang="en").decode("utf-8-sig")
    header, *lines = csv.splitlines()
    assert "Overtime on rest days (hours)" in header
    column = header.split(",").index("Overtime on rest days (hours)")
    assert next(line for line in lines if line.startswith("1002")).split(",")[column] == "8.5"

    departments, grand = department_totals(summaries, lang="zh-hans")
    book = load_workbook(
        io.BytesIO(
            export.xlsx_report(summaries=summaries, departments=departments, grand_total=grand)
        )
    )
    sheet = book["月度汇总"]
    head = [c.value for c in sheet[1]]
    assert "休息日加班(小时)" in head

    _key, raw = api_key_create(actor=None, user=org.hr.user, name="payroll")
    body = client.get(
        "/api/v1/reports/monthly?period=2026-11", HTTP_AUTHORIZATION=f"Bearer {raw}"
    ).json()
    item = next(r for r in body["rows"] if r["employee_no"] == "1002")
    assert item["overtime_rest_hours"] == 8.5
    assert body["totals"]["overtime_rest_hours"] == 8.5


def test_work_on_a_statutory_holiday_is_holiday_overtime(week):
    """A statutory holiday of the work calendar (scheduling) makes the day's overtime 3×."""
    org = week
    WorkCalendarDay.objects.update_or_create(
        date=TUE,
        defaults={"kind": WorkCalendarDay.Kind.HOLIDAY, "name": "测试节", "statutory": True},
    )
    punch(org.employee, at(TUE, 10), at(TUE, 14))
    req = approve_all(org, submit(org, at(TUE, 10), at(TUE, 14)))
    assert req.kind == "holiday"

    row = zhang(monthly_summary(period_start=START, period_end=END))
    assert (row.overtime_weekday_hours, row.overtime_rest_hours, row.overtime_holiday_hours) == (
        0.0,
        0.0,
        4.0,
    )


def test_a_holiday_that_is_not_statutory_is_rest_day_overtime(week):
    """A company day off, or a day moved into a holiday period (调休): 2×, not 3×."""
    org = week
    WorkCalendarDay.objects.update_or_create(
        date=TUE, defaults={"kind": WorkCalendarDay.Kind.HOLIDAY, "name": "司庆"}
    )
    punch(org.employee, at(TUE, 10), at(TUE, 14))
    req = approve_all(org, submit(org, at(TUE, 10), at(TUE, 14)))
    assert req.kind == "rest"

    row = zhang(monthly_summary(period_start=START, period_end=END))
    assert (row.overtime_weekday_hours, row.overtime_rest_hours, row.overtime_holiday_hours) == (
        0.0,
        4.0,
        0.0,
    )
    assert row.holiday_days == 1  # still a holiday among the days: only the pay differs


NATIONAL_DAY = {
    # date: the hours of 10:00–14:00 in each column (weekday, rest, holiday)
    date(2026, 9, 20): (0.0, 0.0, 0.0),  # make-up Sunday inside 09–18: no overtime
    date(2026, 10, 1): (0.0, 0.0, 4.0),
    date(2026, 10, 3): (0.0, 0.0, 4.0),  # Saturday, a festival day all the same
    date(2026, 10, 4): (0.0, 4.0, 0.0),  # Sunday inside the period
    date(2026, 10, 5): (0.0, 4.0, 0.0),  # 补假 for Saturday Oct 3
    date(2026, 10, 7): (0.0, 4.0, 0.0),  # in lieu of a worked weekend day
}


@pytest.mark.parametrize("day", sorted(NATIONAL_DAY))
def test_national_day_2026_in_the_monthly_report(day, org, time_machine):
    """The seeded calendar (chinese-calendar + the law's festival days) through the plans,
    the recompute and the report: 3× only on Oct 1–3."""
    time_machine.move_to(at(date(2026, 10, 12), 10), tick=False)
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group,
        effective_from=date(2026, 1, 1),
        **{f"{d}_shift": shift for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
        default_workday_shift=shift,
    )
    punch(org.employee, at(day, 10), at(day, 14))
    approve_all(org, submit(org, at(day, 10), at(day, 14)))

    month = date(day.year, day.month, 1)
    end = date(2026, 9, 30) if day.month == 9 else date(2026, 10, 31)
    row = zhang(monthly_summary(period_start=month, period_end=end))
    assert (
        row.overtime_weekday_hours,
        row.overtime_rest_hours,
        row.overtime_holiday_hours,
    ) == NATIONAL_DAY[day]
