"""HR changes whether a holiday is statutory: the stored days of open periods take the new
overtime category (recomputed after commit), closed periods keep theirs (issue 15)."""

from __future__ import annotations

from datetime import date
from importlib import import_module

import pytest
from django.apps import apps as django_apps

from ztk.attendance.models import AttendanceDay, AttendancePeriod, PeriodStatus
from ztk.reports.summary import monthly_summary
from ztk.scheduling import services as scheduling
from ztk.scheduling.models import WorkCalendarDay

from .conftest import MON, SAT, TUE, at, punch
from .test_flows import approve_all, submit

pytestmark = pytest.mark.django_db
WED = date(2026, 11, 25)
START, END = date(2026, 11, 1), date(2026, 11, 30)


def category(employee, when):
    return AttendanceDay.objects.values_list("kind", "overtime_kind").get(
        employee=employee, day=when
    )


def holiday_hours(org):
    row = next(
        s
        for s in monthly_summary(period_start=START, period_end=END)
        if s.employee_no == org.employee.employee_no
    )
    return row.overtime_rest_hours, row.overtime_holiday_hours


def test_changing_the_flag_recomputes_the_open_days(week, django_capture_on_commit_callbacks):
    org = week
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.calendar_day_set(actor=org.hr.user, day=TUE, kind="holiday", name="司庆")
    punch(org.employee, at(TUE, 10), at(TUE, 14))
    approve_all(org, submit(org, at(TUE, 10), at(TUE, 14)))
    assert category(org.employee, TUE) == ("holiday", "rest")
    assert holiday_hours(org) == (4.0, 0.0)

    # when HR says the day is a festival day of the law
    with django_capture_on_commit_callbacks(execute=True):
        _entry, changes = scheduling.calendar_day_set(
            actor=org.hr.user, day=TUE, kind="holiday", name="司庆", statutory=True
        )
    # then the stored day is recomputed: its overtime moves to the 3× column
    assert changes
    assert category(org.employee, TUE) == ("holiday", "holiday")
    assert holiday_hours(org) == (0.0, 4.0)


def test_a_closed_period_keeps_its_categories(week, django_capture_on_commit_callbacks):
    org = week
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.calendar_day_set(
            actor=org.hr.user, day=TUE, kind="holiday", name="节", statutory=True
        )
    punch(org.employee, at(TUE, 10), at(TUE, 14))
    approve_all(org, submit(org, at(TUE, 10), at(TUE, 14)))
    AttendancePeriod.objects.create(
        group=org.group, start=START, end=END, status=PeriodStatus.CLOSED
    )
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.calendar_day_set(
            actor=org.hr.user, day=TUE, kind="holiday", name="节", statutory=False
        )
    assert category(org.employee, TUE) == ("holiday", "holiday")  # as it was paid


def test_the_migration_recategorises_open_days_only(week):
    """attendance 0006 on days stored before the category existed."""
    org = week
    WorkCalendarDay.objects.create(date=TUE, kind="holiday", name="调休", statutory=False)
    WorkCalendarDay.objects.create(date=WED, kind="holiday", name="节", statutory=True)
    punch(org.employee, at(TUE, 10), at(TUE, 14), at(WED, 10), at(WED, 14))
    punch(org.employee, at(MON, 9), at(MON, 19), at(SAT, 10), at(SAT, 14))
    october = date(2026, 10, 31)
    punch(org.employee, at(october, 10), at(october, 14))
    WorkCalendarDay.objects.create(date=october, kind="holiday", name="调休", statutory=False)
    AttendancePeriod.objects.create(
        group=org.group, start=date(2026, 10, 1), end=october, status=PeriodStatus.CLOSED
    )
    AttendanceDay.objects.filter(employee=org.employee, day=october).update(kind="holiday")
    # given every day as the old code stored it (the field's default)
    AttendanceDay.objects.update(overtime_kind="weekday")

    import_module("ztk.attendance.migrations.0006_day_overtime_kind").categorise(django_apps, None)

    assert category(org.employee, TUE) == ("holiday", "rest")
    assert category(org.employee, WED) == ("holiday", "holiday")
    assert category(org.employee, october) == ("holiday", "holiday")  # closed: as reported
    assert category(org.employee, SAT) == ("rest", "rest")
    assert category(org.employee, MON) == ("work", "weekday")
