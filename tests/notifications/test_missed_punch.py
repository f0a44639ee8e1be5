"""Missed-punch alerts: once per employee-day-slot, with the last day to apply."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from tests.attendance.page_data import at, punch, store_day
from ztk.corrections.models import CorrectionPolicy
from ztk.notifications.missed_punch_alert import notify_missed_punches
from ztk.notifications.models import MissedPunchAlert, Notification, NotificationKind

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 26)  # a Thursday


def alerts_for(employee):
    return list(
        Notification.objects.filter(
            recipient=employee.user, kind=NotificationKind.MISSED_PUNCH
        ).order_by("id")
    )


def test_each_missing_slot_is_reported_once(org):
    # given: the employee checked in only; the colleague never punched (absent)
    punch(org.employee, at(DAY, 8, 55))
    store_day(org.employee, DAY)
    store_day(org.colleague, DAY)
    punch(org.supervisor, at(DAY, 8, 50))
    punch(org.supervisor, at(DAY, 18, 5))
    store_day(org.supervisor, DAY)  # normal: nothing to report

    # when
    assert notify_missed_punches(day=DAY) == 2

    # then
    [alert] = alerts_for(org.employee)
    assert alert.data == {
        "employee_no": "1002",
        "day": "2026-11-26",
        "slots": ["out1"],
        "last_day_to_apply": "2026-11-29",
    }
    assert "18:00" in alert.body
    assert "2026年11月29日" in alert.body  # in the company's language (default zh-hans)
    assert "2026年11月26日" in alert.title
    assert alert.url == "/attendance/day/2026-11-26/"
    [absent] = alerts_for(org.colleague)
    assert absent.data["slots"] == ["in1", "out1"]
    assert "09:00" in absent.body and "18:00" in absent.body
    assert alerts_for(org.supervisor) == []

    # and running again sends nothing
    assert notify_missed_punches(day=DAY) == 0
    assert Notification.objects.filter(kind=NotificationKind.MISSED_PUNCH).count() == 2
    assert MissedPunchAlert.objects.count() == 3


def test_a_slot_that_goes_missing_later_gets_its_own_alert(org):
    # given: a provisional day at 14:00 — check-in missing, check-out still pending
    store_day(org.employee, DAY, as_of=at(DAY, 14))
    assert notify_missed_punches(day=DAY) == 1
    assert [a.data["slots"] for a in alerts_for(org.employee)] == [["in1"]]

    # when the day is final, the check-out is missing too
    store_day(org.employee, DAY)
    assert notify_missed_punches(day=DAY) == 1

    # then: only the new slot is reported
    assert [a.data["slots"] for a in alerts_for(org.employee)] == [["in1"], ["out1"]]


def test_the_window_comes_from_the_caller(org):
    store_day(org.employee, DAY)
    store_day(org.colleague, DAY)
    seen = []

    def window(employee, day):
        seen.append((employee.employee_no, day))
        return None if employee == org.colleague else day + timedelta(days=7)

    notify_missed_punches(day=DAY, last_day_to_apply=window)

    assert sorted(seen) == [("1002", DAY), ("1003", DAY)]
    assert alerts_for(org.employee)[0].data["last_day_to_apply"] == "2026-12-03"
    colleague = alerts_for(org.colleague)[0]
    assert colleague.data["last_day_to_apply"] is None
    assert "人事" in colleague.body  # written in the company language (zh-hans)


def test_the_alert_quotes_the_groups_policy_window_and_cut_off(org):
    # given: the group allows 10 calendar days, but the period closes on 1 December
    CorrectionPolicy.objects.create(
        group=org.employee.attendance_group, window_days=10, cutoff_day=1
    )
    store_day(org.employee, DAY)

    notify_missed_punches(day=DAY)

    # then: the last day to apply is the cut-off, as the day page says — not "the day + 3"
    [alert] = alerts_for(org.employee)
    assert alert.data["last_day_to_apply"] == "2026-12-01"
    assert "2026年12月1日" in alert.body


def test_rest_days_and_inactive_employees_are_skipped(org):
    store_day(org.employee, DAY, kind="rest")
    org.colleague.active = False
    org.colleague.save()
    store_day(org.colleague, DAY)
    assert notify_missed_punches(day=DAY) == 0


def test_the_daily_task_runs_for_yesterday_at_the_alert_hour(org, settings):
    from ztk.notifications.tasks import missed_punch_alerts

    settings.MISSED_PUNCH_ALERT_HOUR = 8
    store_day(org.employee, DAY)
    with time_machine.travel(at(DAY + timedelta(days=1), 7, 15), tick=False):
        missed_punch_alerts.call_local()
    assert alerts_for(org.employee) == []
    with time_machine.travel(at(DAY + timedelta(days=1), 8, 15), tick=False):
        missed_punch_alerts.call_local()
    assert len(alerts_for(org.employee)) == 1


def test_written_in_the_companys_language(org):
    from ztk.org.models import Company

    Company.objects.create(name="ZTK", locale="en")
    store_day(org.employee, DAY)
    notify_missed_punches(day=DAY)
    [alert] = alerts_for(org.employee)
    assert alert.title == "Missed punch on 11/26/2026"
    assert alert.body == (
        "Missing punch: check-in 09:00, check-out 18:00. "
        "You can apply for a correction until 11/29/2026."
    )
