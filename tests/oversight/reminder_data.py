"""Two groups with punch reminders switched on at different dates (issue 14 item 7), for
tests/oversight/test_reminder_analytics.py and the pages: reminders sent with their slot
windows, the punches that followed (on time, late, voided, a correction, none) and the
stored days around each group's switch-on date. The expected figures are worked out by
hand in the tests. A 09:00–18:00 shift: check-in window 07:00–13:30, on time before 09:01
(grace 0, whole minutes); check-out window 13:30–22:00 (inclusive)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import AttendanceGroupFactory
from tests.oversight.analytics_data import day
from ztk.notifications.models import ReminderSent
from ztk.notifications.reminder_services import reminder_settings_save
from ztk.punches.models import Punch, PunchVoid

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 7)  # a Monday: whole weeks up to Sunday Dec 6


def at(d: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute, second), tzinfo=SH)


def remind(employee, d: date, kind: str, *, recorded: bool = True) -> ReminderSent:
    """A punch reminder as ``send_reminder_batch`` records it."""
    if kind == "punch_in":
        window = (at(d, 7), at(d, 9, 1), at(d, 13, 30))
    else:
        end = at(d, 22) + timedelta(microseconds=1)
        window = (at(d, 13, 30), end, end)
    slot = {}
    if recorded:
        slot = {
            "employee": employee,
            "group": employee.attendance_group,
            "window_start": window[0],
            "on_time_until": window[1],
            "window_end": window[2],
        }
    return ReminderSent.objects.create(
        user=employee.user, kind=kind, day=d, key="in1" if kind == "punch_in" else "out1", **slot
    )


def punch(employee, moment: datetime, source: str = "device") -> Punch:
    return Punch.objects.create(
        employee=employee, at=moment, source=source, dedup_key=f"{employee.pk}-{moment}-{source}"
    )


def build_reminders(org):
    """STD (张三 1002, 李四 1003, RD): switched on by HR's saved settings on Mon Nov 9.
    WH (赵六 2001, SALES): no settings saved; its first reminder went on Wed Nov 18."""
    std = org.group
    wh = AttendanceGroupFactory(code="WH", name="仓库组")
    e, c, s = org.employee, org.colleague, org.stranger
    s.attendance_group = wh
    s.save()
    with time_machine.travel(at(date(2026, 11, 9), 10), tick=False):
        reminder_settings_save(actor=org.hr.user, group=std, punch_in=True)

    # --- reminders and what followed ------------------------------------------------------
    remind(e, date(2026, 11, 10), "punch_in")
    punch(e, at(date(2026, 11, 10), 8, 55))  # on time
    remind(e, date(2026, 11, 11), "punch_in")
    punch(e, at(date(2026, 11, 11), 9, 0, 30))  # 0 whole minutes late: on time
    remind(c, date(2026, 11, 10), "punch_in")
    punch(c, at(date(2026, 11, 10), 9, 20))  # late
    remind(c, date(2026, 11, 11), "punch_out")  # never punched out
    remind(e, date(2026, 11, 12), "punch_in", recorded=False)  # sent before slots were kept
    remind(e, date(2026, 11, 17), "punch_out")
    punch(e, at(date(2026, 11, 17), 18, 30))  # on time
    remind(c, date(2026, 11, 17), "punch_in")
    punch(c, at(date(2026, 11, 17), 9), "correction")  # not their own punch: none
    remind(c, date(2026, 11, 18), "punch_in")
    voided = punch(c, at(date(2026, 11, 18), 8, 58))
    PunchVoid.objects.create(punch=voided, reason="wrong person", voided_by=org.hr.user)
    punch(c, at(date(2026, 11, 18), 9, 1))  # exactly 1 minute late: late
    remind(s, date(2026, 11, 18), "punch_in")
    punch(s, at(date(2026, 11, 18), 8, 59))  # on time
    remind(s, date(2026, 11, 24), "punch_in")  # never
    remind(s, date(2026, 11, 25), "punch_out")
    punch(s, at(date(2026, 11, 25), 21, 59))  # on time, late in the check-out window

    # --- stored days around the switch-on dates -----------------------------------------
    day(e, date(2026, 10, 5), missing_in_count=1)  # before STD's window (Oct 12 – Nov 8)
    day(e, date(2026, 10, 13), missing_in_count=1)
    day(e, date(2026, 10, 14), "normal")
    day(c, date(2026, 10, 13), missing_out_count=1)
    day(c, date(2026, 10, 20), "normal")
    day(e, date(2026, 11, 10), "normal")
    day(e, date(2026, 11, 11), "normal")
    day(c, date(2026, 11, 10), late_count=1)
    day(c, date(2026, 11, 11), missing_out_count=1)
    day(e, date(2026, 11, 14), "rest")
    day(e, date(2026, 11, 17), "normal")
    day(s, date(2026, 11, 10), missing_in_count=1)  # WH before: Nov 9 – Nov 22
    day(s, date(2026, 11, 11), "normal")
    day(s, date(2026, 11, 18), "normal")
    day(s, date(2026, 11, 19), "normal")
    day(s, date(2026, 11, 24), missing_in_count=1)  # WH after: Nov 23 – Dec 6
    day(s, date(2026, 11, 25), "normal")
    day(s, date(2026, 11, 26), "normal")
    return SimpleNamespace(org=org, std=std, wh=wh)


@pytest.fixture
def reminders(org):
    return build_reminders(org)
