"""Punch reminders with a frozen clock walked across whole days: several groups in two time
zones, a night shift across midnight, a holiday, leave, an opt-out and people who punched.

Every expected reminder is sent exactly once and no other: the expectations are written by
hand from the shifts below, not derived from the code under test.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.attendance.page_data import punch
from tests.factories import AttendanceGroupFactory, DepartmentFactory, EmployeeFactory
from ztk.notifications.models import (
    Notification,
    NotificationKind,
    ReminderOptOut,
    ReminderSent,
    ReminderSettings,
)
from ztk.notifications.reminders import send_punch_reminders
from ztk.scheduling import services as scheduling
from ztk.scheduling.models import Exemption

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
WEDNESDAY = date(2026, 11, 25)
THURSDAY = date(2026, 11, 26)
FRIDAY = date(2026, 11, 27)  # made a company holiday below
WEEKDAYS = 5


def at(day: date, hh: int, mm: int = 0, zone: ZoneInfo = SH) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=zone)


@pytest.fixture
def company(org):
    """Three groups: day shift in Shanghai, night shift 22:00–06:00 in Shanghai (quiet hours
    left at their default 22:00–07:00), day shift in Berlin; Friday is a holiday."""
    actor = org.hr.user
    # the small org's own people rest every day: only the people below are scheduled
    scheduling.pattern_set(actor=actor, group=org.group, shifts=[None] * 7)

    def shift(code: str, start: time, end: time):
        return scheduling.shift_create(
            actor=actor, code=code, name=code, segments=[{"start": start, "end": end}]
        )[0]

    day_shift = shift("D9", time(9), time(18))
    night_shift = shift("N22", time(22), time(6))
    berlin_shift = shift("B9", time(9), time(17))
    groups = {
        "day": AttendanceGroupFactory(code="DAYG", name="白班组"),
        "night": AttendanceGroupFactory(code="NIGHTG", name="夜班组"),
        "berlin": AttendanceGroupFactory(code="BERG", name="柏林组", time_zone="Europe/Berlin"),
    }
    for key, s in (("day", day_shift), ("night", night_shift), ("berlin", berlin_shift)):
        scheduling.pattern_set(actor=actor, group=groups[key], shifts=[s] * WEEKDAYS + [None, None])
    scheduling.calendar_day_set(actor=actor, day=FRIDAY, kind="holiday", name="公司假日")

    dept = DepartmentFactory(code="PLANT", name="工厂")

    def person(name: str, group: str):
        return EmployeeFactory(name=name, department=dept, attendance_group=groups[group])

    people = {
        "early_bird": person("早到", "day"),  # checks in at 08:40, never checks out
        "forgetful": person("全忘", "day"),  # never punches
        "opted_out": person("不要提醒", "day"),  # switched check-in reminders off
        "on_leave": person("下午请假", "day"),  # leave Thursday 13:00–18:00
        "night_in": person("夜班到岗", "night"),  # checks in 21:45 Thursday, never out
        "night_none": person("夜班全忘", "night"),  # never punches
        "berliner": person("柏林", "berlin"),  # never punches
    }
    punch(people["early_bird"], at(THURSDAY, 8, 40))
    punch(people["night_in"], at(THURSDAY, 21, 45))
    ReminderOptOut.objects.create(user=people["opted_out"].user, kind="punch_in")
    Exemption.objects.create(
        employee=people["on_leave"],
        start=at(THURSDAY, 13),
        end=at(THURSDAY, 18),
        kind=Exemption.Kind.LEAVE,
        created_by=actor,
    )
    return people


def walk(start: datetime, end: datetime, step: timedelta = timedelta(minutes=5)) -> None:
    """Run the tick from `start` every `step`. Five minutes still lands twice in every
    check-in reminder's ten minutes and six times in every check-out's thirty (the zones
    here are whole hours apart), like the real one-minute tick does ten and thirty times."""
    moment = start
    while moment < end:
        with time_machine.travel(moment, tick=False):
            send_punch_reminders()
        moment += step


def sent_reminders(people) -> list[tuple[str, str, date, str]]:
    names = {p.user_id: key for key, p in people.items()}
    return sorted(
        (names.get(user_id, f"user {user_id}"), kind, day, key)
        for user_id, kind, day, key in ReminderSent.objects.values_list(
            "user_id", "kind", "day", "key"
        )
    )


def test_a_walk_from_thursday_to_saturday_sends_each_expected_reminder_once(company):
    # when: the tick runs every five minutes from Thursday 00:00 to Saturday 09:00 (Shanghai)
    walk(at(THURSDAY, 0), at(FRIDAY + timedelta(days=1), 9))

    expected = sorted(
        [
            # Wednesday's night shift ends Thursday 06:00: nobody checked out
            ("night_in", "punch_out", WEDNESDAY, "out1"),
            ("night_none", "punch_out", WEDNESDAY, "out1"),
            # Thursday, day shift 09:00–18:00
            ("forgetful", "punch_in", THURSDAY, "in1"),
            ("forgetful", "punch_out", THURSDAY, "out1"),
            ("early_bird", "punch_out", THURSDAY, "out1"),  # checked in at 08:40
            ("opted_out", "punch_out", THURSDAY, "out1"),  # opted out of check-in only
            ("on_leave", "punch_in", THURSDAY, "in1"),  # the leave covers 18:00 only
            # Thursday night 22:00 → Friday 06:00 (quiet hours 22:00–07:00: it works then)
            ("night_none", "punch_in", THURSDAY, "in1"),
            ("night_in", "punch_out", THURSDAY, "out1"),
            ("night_none", "punch_out", THURSDAY, "out1"),
            # Berlin: Wednesday's 17:00 check-out is Thursday 00:00 in Shanghai
            ("berliner", "punch_out", WEDNESDAY, "out1"),
            # Berlin, Thursday 09:00–17:00 in its own zone
            ("berliner", "punch_in", THURSDAY, "in1"),
            ("berliner", "punch_out", THURSDAY, "out1"),
            # Friday is a holiday: nothing, in any group or zone
        ]
    )
    assert sent_reminders(company) == expected
    # one message each, in each person's inbox
    assert Notification.objects.filter(kind=NotificationKind.PUNCH_REMINDER).count() == len(
        expected
    )


def test_each_reminder_goes_at_its_time_in_its_zone(company):
    def sent_between(
        start: datetime, end: datetime, step: timedelta = timedelta(minutes=1)
    ) -> set[tuple[str, str, date]]:
        before = set(sent_reminders(company))
        walk(start, end, step)
        return {row[:3] for row in set(sent_reminders(company)) - before}

    # not before ten minutes ahead of 09:00 in Shanghai
    assert sent_between(at(THURSDAY, 8, 0), at(THURSDAY, 8, 50)) == set()
    assert sent_between(at(THURSDAY, 8, 50), at(THURSDAY, 8, 51)) == {
        ("forgetful", "punch_in", THURSDAY),
        ("on_leave", "punch_in", THURSDAY),
    }
    # Berlin's 08:50 is Shanghai's 15:50
    assert (
        sent_between(at(THURSDAY, 8, 51), at(THURSDAY, 8, 50, BERLIN), timedelta(minutes=5))
        == set()
    )
    assert sent_between(at(THURSDAY, 8, 50, BERLIN), at(THURSDAY, 8, 51, BERLIN)) == {
        ("berliner", "punch_in", THURSDAY)
    }
    # the night shift's check-out at 06:00 Friday, in the quiet hours
    assert sent_between(at(FRIDAY, 5, 0), at(FRIDAY, 6, 1)) == {
        ("night_in", "punch_out", THURSDAY),
        ("night_none", "punch_out", THURSDAY),
    }


def test_quiet_hours_still_silence_a_day_shift_reminder_that_falls_in_them(company):
    # given: HR of the day group set quiet hours over its check-in reminder
    day_group = company["forgetful"].attendance_group
    ReminderSettings.objects.create(group=day_group, quiet_start=time(8, 30), quiet_end=time(9, 0))
    walk(at(THURSDAY, 8, 30), at(THURSDAY, 9, 0), timedelta(minutes=1))
    assert (
        not ReminderSent.objects.filter(kind="punch_in", day=THURSDAY)
        .exclude(user=company["berliner"].user)
        .exists()
    )
