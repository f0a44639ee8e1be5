"""The monthly summary, department totals and daily detail, against hand-worked figures.

The days are the table of tests/reports/data.py; every expected number below was worked
out by hand from that table (the sums are written out), not by the report code.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests import factories
from tests.reports.data import NOV_END, NOV_START, november
from ztk.attendance.models import AttendanceDay
from ztk.attendance.services import recompute
from ztk.core.errors import DomainError
from ztk.org.models import Company
from ztk.punches.services import PunchInput, record_punches
from ztk.reports.summary import (
    daily_detail,
    department_totals,
    is_complete,
    monthly_summary,
    parse_period,
)
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.services import exemption_create

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")

# 张三's November, worked out by hand from tests/reports/data.py:ZHANG.
ZHANG_EXPECTED = {
    "required_days": 20,  # work rows: 2–6, 9–13, 16–20, 23–27
    "leave_days": 1,  # the 10th (the 17th is a business trip: attended)
    "absent_days": 1.5,  # the 9th (1) + the 11th (0.5)
    "attended_days": 17.5,  # 20 − 1 − 1.5
    "late_count": 3,  # 3rd, 4th, 11th
    "late_minutes": 212,  # 17 + 45 + 150
    "serious_late_count": 2,  # 4th, 11th
    "early_count": 1,
    "early_minutes": 20,
    "missing_in_count": 1,  # 9th
    "missing_out_count": 2,  # 6th, 9th
    "corrected_count": 1,
    "manual_count": 1,
    "leave_hours": 9.5,  # (540 + 30) / 60
    "outing_hours": 2.0,  # 120 / 60
    "trip_hours": 9.0,  # 540 / 60
    "worked_hours": 129.13,  # 7748 / 60
    "rest_days": 7,  # 1, 7, 8, 14, 15, 21, 22
    "holiday_days": 0,
    "provisional_days": 1,  # 27th
}
LI_EXPECTED = {
    "required_days": 3,
    "attended_days": 3.0,
    "late_count": 1,
    "late_minutes": 5,
    "worked_hours": 26.92,  # (540 + 535 + 540) / 60 = 26.9166…
}
ZHAO_EXPECTED = {
    "required_days": 1,
    "attended_days": 0.0,
    "absent_days": 1.0,
    "missing_in_count": 1,
    "missing_out_count": 1,
    "holiday_days": 1,
}


def summary_of(summaries, employee_no):
    (row,) = [s for s in summaries if s.employee_no == employee_no]
    return row


def zero_figures(columns):
    return {c.key: 0 for c in columns.figures}


def test_each_figure_matches_the_hand_worked_month(org):
    # given
    november(org)

    # when
    summaries = monthly_summary(period_start=NOV_START, period_end=NOV_END)

    # then
    zhang = summary_of(summaries, "1002")
    assert {k: zhang.value(k) for k in ZHANG_EXPECTED} == ZHANG_EXPECTED
    li = summary_of(summaries, "1003")
    assert {k: li.value(k) for k in LI_EXPECTED} == LI_EXPECTED
    zhao = summary_of(summaries, "2001")
    assert {k: zhao.value(k) for k in ZHAO_EXPECTED} == ZHAO_EXPECTED
    assert (zhang.name, zhang.department, zhang.department_code, zhang.group_code) == (
        "张三",
        "研发部",
        "RD",
        "STD",
    )


def test_everyone_employed_is_listed_even_without_days_and_ordered_by_number(org):
    november(org)
    factories.EmployeeFactory(employee_no="5001", attendance_group=org.group, active=False)
    factories.EmployeeFactory(
        employee_no="5002", attendance_group=org.group, hire_date=date(2026, 12, 1)
    )
    factories.EmployeeFactory(employee_no="5003", attendance_group=None)
    factories.EmployeeFactory(
        employee_no="5004", attendance_group=org.group, leave_date=date(2026, 10, 31)
    )

    summaries = monthly_summary(period_start=NOV_START, period_end=NOV_END)

    # not listed: inactive without days, hired after, no group, left before the period
    listed = [s.employee_no for s in summaries]
    assert listed == ["1000", "1001", "1002", "1003", "2001", "4001", "4002"]
    hr = summary_of(summaries, "4001")
    figures = summaries.columns.figures
    assert {c.key: hr.value(c.key) for c in figures} == zero_figures(summaries.columns)


def test_an_inactive_employee_with_days_in_the_period_is_still_listed(org):
    november(org)
    org.colleague.active = False
    org.colleague.save()
    summaries = monthly_summary(period_start=NOV_START, period_end=NOV_END)
    assert summary_of(summaries, "1003").required_days == 3


def test_filters_by_group_department_tree_and_employees(org):
    november(org)
    child = factories.DepartmentFactory(code="RD-APP", name="应用组", parent=org.department)
    other_group = factories.AttendanceGroupFactory(code="NIGHT")
    factories.EmployeeFactory(employee_no="6001", department=child, attendance_group=org.group)
    factories.EmployeeFactory(employee_no="6002", department=child, attendance_group=other_group)

    by_group = monthly_summary(period_start=NOV_START, period_end=NOV_END, group=other_group)
    by_dept = monthly_summary(period_start=NOV_START, period_end=NOV_END, department=org.department)
    just_two = monthly_summary(
        period_start=NOV_START, period_end=NOV_END, employees=[org.employee, org.stranger]
    )

    assert [s.employee_no for s in by_group] == ["6002"]
    assert [s.employee_no for s in by_dept] == ["1000", "1001", "1002", "1003", "6001", "6002"]
    assert [s.employee_no for s in just_two] == ["1002", "2001"]
    assert summary_of(just_two, "1002").late_minutes == 212


def test_days_outside_the_period_are_not_counted(org):
    november(org)
    AttendanceDay.objects.filter(employee=org.colleague, day=date(2026, 11, 3)).update(
        day=date(2026, 10, 30)
    )
    summaries = monthly_summary(period_start=NOV_START, period_end=NOV_END)
    assert summary_of(summaries, "1003").late_count == 0
    assert summary_of(summaries, "1003").required_days == 2


def test_the_query_count_does_not_grow_with_the_number_of_employees(org, django_assert_num_queries):
    november(org)
    # the employees, the leave types, one aggregate, leave by type
    with django_assert_num_queries(4):
        few = monthly_summary(period_start=NOV_START, period_end=NOV_END)
    for i in range(25):
        employee = factories.EmployeeFactory(employee_no=f"7{i:03d}", attendance_group=org.group)
        AttendanceDay.objects.create(
            employee=employee,
            day=date(2026, 11, 2),
            kind="work",
            status="normal",
            computed_at=datetime(2026, 11, 3, tzinfo=SH),
        )
    with django_assert_num_queries(4):
        many = monthly_summary(period_start=NOV_START, period_end=NOV_END)
    with django_assert_num_queries(5):  # + the department tree
        monthly_summary(period_start=NOV_START, period_end=NOV_END, department=org.department)
    with django_assert_num_queries(2):  # shift names, the days
        daily_detail(period_start=NOV_START, period_end=NOV_END)
    assert len(many) == len(few) + 25


def test_department_totals_add_up_each_department_and_the_whole(org):
    november(org)
    summaries = monthly_summary(period_start=NOV_START, period_end=NOV_END)

    departments, grand = department_totals(summaries, lang="zh-hans")

    rd, sales = departments
    assert (rd.department_code, rd.department, rd.employees) == ("RD", "研发部", 4)
    assert (sales.department_code, sales.department, sales.employees) == ("SALES", "销售部", 3)
    # RD = 张三 + 李四 (王部长 and 李主管 have no days)
    assert rd.values["required_days"] == 23
    assert rd.values["attended_days"] == 20.5
    assert rd.values["late_count"] == 4
    assert rd.values["late_minutes"] == 217
    assert rd.values["worked_hours"] == 156.05  # 129.13 + 26.92
    assert rd.values["leave_hours"] == 9.5
    assert sales.values["absent_days"] == 1.0
    assert sales.values["holiday_days"] == 1
    assert (grand.department, grand.employees) == ("合计", 7)
    assert grand.values["required_days"] == 24
    assert grand.values["absent_days"] == 2.5
    assert grand.values["missing_out_count"] == 3
    assert grand.values["provisional_days"] == 1
    assert department_totals(summaries, lang="en")[1].department == "Total"


def test_people_without_a_department_are_totalled_under_no_department(org):
    november(org)
    org.colleague.department = None
    org.colleague.save()
    summaries = monthly_summary(period_start=NOV_START, period_end=NOV_END)
    departments, _grand = department_totals(summaries, lang="en")
    first = departments[0]
    assert (first.department_code, first.department, first.employees) == (
        "",
        "(no department)",
        1,
    )


def test_complete_only_after_the_period_and_with_no_provisional_day(org):
    november(org)
    summaries = monthly_summary(period_start=NOV_START, period_end=NOV_END)
    with time_machine.travel(datetime(2026, 11, 30, 12, tzinfo=SH), tick=False):
        assert not is_complete(summaries, NOV_END)
    with time_machine.travel(datetime(2026, 12, 5, 12, tzinfo=SH), tick=False):
        assert not is_complete(summaries, NOV_END)  # the 27th is still provisional
        AttendanceDay.objects.filter(provisional=True).update(finalised=True)
        again = monthly_summary(period_start=NOV_START, period_end=NOV_END)
        assert is_complete(again, NOV_END)


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("start_day", "value", "expected"),
    [
        (1, "2026-10", (date(2026, 10, 1), date(2026, 10, 31))),
        (1, "2026-02", (date(2026, 2, 1), date(2026, 2, 28))),
        (26, "2026-10", (date(2026, 10, 26), date(2026, 11, 25))),
        (26, "2026-12", (date(2026, 12, 26), date(2027, 1, 25))),
    ],
)
def test_a_period_starts_in_its_month_on_the_company_start_day(db, start_day, value, expected):
    Company.objects.create(name="示例公司", period_start_day=start_day)
    assert parse_period(value) == expected


@pytest.mark.parametrize("value", ["2026-13", "2026-00", "26-10", "1999-12", "2026/10", "x"])
def test_a_bad_period_is_refused(db, value):
    with pytest.raises(DomainError) as refused:
        parse_period(value)
    assert refused.value.code == "bad_period"


def test_no_period_means_the_one_containing_today(db):
    Company.objects.create(name="示例公司", period_start_day=26)
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=SH), tick=False):
        assert parse_period("") == (date(2026, 10, 26), date(2026, 11, 25))
    with time_machine.travel(datetime(2026, 1, 27, 12, tzinfo=SH), tick=False):
        assert parse_period(None) == (date(2026, 1, 26), date(2026, 2, 25))


# --------------------------------------------------------------------------- detail


def test_the_daily_detail_says_each_day_in_words(org):
    november(org)

    rows = daily_detail(period_start=NOV_START, period_end=NOV_END, employees=[org.employee])
    by_day = {r.date.day: r for r in rows}

    assert len(rows) == 27
    late = by_day[3]
    assert (late.weekday, late.shift, late.status) == ("二", "白班", "异常")
    assert late.slots == {"in1": "09:17 迟到17分钟", "out1": "18:00 正常"}
    assert late.explanation == "上班：迟到 17 分钟。"
    assert by_day[9].slots == {"in1": "缺卡", "out1": "缺卡"}
    assert by_day[9].status == "旷工"
    assert by_day[10].slots == {"in1": "请假", "out1": "请假"}
    assert by_day[17].slots == {"in1": "出差", "out1": "出差"}
    assert by_day[12].slots["in1"] == "09:00 补卡"
    assert by_day[13].slots["out1"] == "18:00 手动补录"
    assert by_day[27].status == "正常 (未定稿)" and by_day[27].slots["out1"] == "未打卡"
    assert (by_day[1].status, by_day[1].shift, by_day[1].slots) == ("休息", "", {})


def test_the_daily_detail_in_english(org):
    november(org)
    rows = daily_detail(
        period_start=NOV_START, period_end=NOV_END, employees=[org.employee], lang="en"
    )
    late = rows[2]
    assert (late.weekday, late.status) == ("Tue", "Abnormal")
    assert late.slots["in1"] == "09:17 Late 17 min"
    assert late.explanation == "Check-in: late by 17 min."
    assert rows[26].status == "Normal (provisional)"


# --------------------------------------------------------------------------- real recompute


def test_through_punches_exemptions_and_the_real_recompute(org):
    """Punches and a leave go through the real services and engine; the summary reads them."""
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group,
        **{f"{d}_shift": shift for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
        default_workday_shift=shift,
    )
    now = datetime(2026, 12, 1, 12, tzinfo=SH)

    def at(day, hh, mm):
        return PunchInput(
            at=datetime.combine(date(2026, 11, day), time(hh, mm), tzinfo=SH),
            source="device",
            employee_no="1002",
            device_sn="SN1",
            pin="1002",
        )

    record_punches(
        [at(20, 8, 50), at(20, 17, 30), at(23, 9, 12), at(23, 18, 0), at(24, 8, 55)],
        now=now,
        recompute=False,
    )
    exemption_create(
        actor=org.hr.user,
        employee=org.employee,
        start=datetime(2026, 11, 26, 9, tzinfo=SH),
        end=datetime(2026, 11, 26, 18, tzinfo=SH),
        kind="leave",
    )
    days = [20, 21, 23, 24, 25, 26]
    recompute([(org.employee.pk, date(2026, 11, d)) for d in days], now=now, finalise=True)

    (row,) = monthly_summary(period_start=NOV_START, period_end=NOV_END, employees=[org.employee])

    # Fri 20th early 30; Sat rest; Mon 23rd late 12; Tue 24th no check-out;
    # Wed 25th absent; Thu 26th leave all day (09:00–18:00 = 9 h)
    assert row.required_days == 5
    assert row.rest_days == 1
    assert row.leave_days == 1
    assert row.absent_days == 1.0
    assert row.attended_days == 3.0  # 5 − 1 − 1
    assert (row.late_count, row.late_minutes) == (1, 12)
    assert (row.early_count, row.early_minutes) == (1, 30)
    assert (row.missing_in_count, row.missing_out_count) == (1, 2)
    assert row.leave_hours == 9.0
    assert row.provisional_days == 0
