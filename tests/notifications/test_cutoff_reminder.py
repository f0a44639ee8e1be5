"""The correction cut-off reminder: once per person and period, before the last day to
apply, for missing punches not yet requested; not in quiet hours, not when opted out."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.attendance.page_data import punch, store_day
from ztk.notifications.cutoff_reminder import send_cutoff_reminders
from ztk.notifications.models import Notification, NotificationKind, ReminderOptOut

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 26)  # last day to apply: 2026-11-29 (the default policy)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


def run(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return send_cutoff_reminders()


def reminders(employee) -> list[Notification]:
    return list(
        Notification.objects.filter(
            recipient=employee.user, kind=NotificationKind.CUTOFF_REMINDER
        ).order_by("id")
    )


def test_sent_once_per_period_within_the_days_before_the_last_day(org):
    punch(org.employee, at(DAY, 8, 55))
    store_day(org.employee, DAY)  # check-out missing
    store_day(org.colleague, DAY)  # absent
    punch(org.supervisor, at(DAY, 8, 50))
    punch(org.supervisor, at(DAY, 18, 5))
    store_day(org.supervisor, DAY)  # normal

    assert run(at(date(2026, 11, 26), 20)) == 0  # the day itself is not over
    assert run(at(date(2026, 11, 27), 10)) == 2  # 2 days before 11-29
    assert run(at(date(2026, 11, 28), 10)) == 0  # once per period

    [message] = reminders(org.employee)
    assert message.data == {
        "days": ["2026-11-26"],
        "last_day_to_apply": "2026-11-29",
        "period": "2026-11-01",
    }
    assert "11-26" in message.texts["en"]["body"]
    assert "补卡" in message.texts["zh-hans"]["body"] or "11" in message.texts["zh-hans"]["body"]
    assert reminders(org.supervisor) == []


def test_not_in_quiet_hours_nor_for_who_opted_out(org):
    store_day(org.employee, DAY)
    store_day(org.colleague, DAY)
    ReminderOptOut.objects.create(user=org.colleague.user, kind="cutoff")

    assert run(at(date(2026, 11, 27), 23)) == 0  # quiet hours 22:00–07:00
    assert run(at(date(2026, 11, 28), 7, 30)) == 1
    assert reminders(org.colleague) == []


def test_not_after_the_last_day(org):
    store_day(org.employee, DAY)
    assert run(at(date(2026, 11, 30), 10)) == 0
