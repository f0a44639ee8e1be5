"""Punch reminders: before check-in and at check-out, once, to those who have not punched."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.attendance.page_data import punch, store_day
from tests.factories import DepartmentFactory, EmployeeFactory
from ztk.notifications.missed_punch_alert import notify_missed_punches
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
THURSDAY = date(2026, 11, 26)
SATURDAY = date(2026, 11, 28)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


@pytest.fixture
def office(org):
    """The small org's group works 09:00–18:00 Monday to Friday."""
    day = scheduling.shift_create(
        actor=org.hr.user,
        code="DAY",
        name="白班",
        segments=[{"start": time(9), "end": time(18)}],
    )[0]
    scheduling.pattern_set(actor=org.hr.user, group=org.group, shifts=[day] * 5 + [None, None])
    return org


def reminded(employee=None) -> list[Notification]:
    qs = Notification.objects.filter(kind=NotificationKind.PUNCH_REMINDER)
    if employee is not None:
        qs = qs.filter(recipient=employee.user)
    return list(qs.order_by("id"))


def run(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return send_punch_reminders()


def test_check_in_reminder_is_sent_once_ten_minutes_before_to_who_has_not_punched(office):
    punch(office.employee, at(THURSDAY, 8, 40))

    assert run(at(THURSDAY, 8, 49)) == 0  # 11 minutes before: not yet
    assert run(at(THURSDAY, 8, 50)) == 6  # everyone in the group but the employee
    assert run(at(THURSDAY, 8, 51)) == 0  # once only

    assert reminded(office.employee) == []
    [message] = reminded(office.colleague)
    assert "09:00" in message.title and "09:00" in message.body
    assert message.url == "/attendance/"
    assert message.data["reminder"] == "punch_in"
    assert ReminderSent.objects.filter(user=office.colleague.user, key="in1").count() == 1
    # nothing after the check-in time has passed
    assert run(at(THURSDAY, 9, 1)) == 0


def test_check_out_reminder_at_the_end_skips_who_punched_out(office):
    punch(office.employee, at(THURSDAY, 18, 0))
    punch(office.colleague, at(THURSDAY, 8, 55))  # checked in only

    assert run(at(THURSDAY, 17, 59)) == 0
    assert run(at(THURSDAY, 18, 1)) == 6
    assert run(at(THURSDAY, 18, 2)) == 0

    assert reminded(office.employee) == []
    [message] = reminded(office.colleague)
    assert message.data["reminder"] == "punch_out"
    assert "18:00" in message.body


def test_no_reminder_on_a_rest_day(office):
    assert run(at(SATURDAY, 8, 50)) == 0
    assert run(at(SATURDAY, 18, 5)) == 0
    assert reminded() == []


def test_no_reminder_for_who_is_on_leave(office):
    Exemption.objects.create(
        employee=office.colleague,
        start=at(THURSDAY, 0),
        end=at(THURSDAY + timedelta(days=1), 0),
        kind=Exemption.Kind.LEAVE,
        created_by=office.hr.user,
    )
    assert run(at(THURSDAY, 8, 55)) == 6
    assert reminded(office.colleague) == []
    assert reminded(office.employee) != []


def test_no_reminder_for_who_opted_out_or_is_inactive(office):
    ReminderOptOut.objects.create(user=office.colleague.user, kind="punch_in")
    office.stranger.active = False
    office.stranger.save()
    assert run(at(THURSDAY, 8, 55)) == 5
    assert reminded(office.colleague) == []
    assert reminded(office.stranger) == []
    # the opt-out is per kind: the check-out reminder still comes
    assert run(at(THURSDAY, 18, 0)) == 6
    assert len(reminded(office.colleague)) == 1


def test_no_reminder_when_the_group_switched_it_off(office):
    ReminderSettings.objects.create(group=office.group, punch_in=False, punch_in_minutes=10)
    assert run(at(THURSDAY, 8, 55)) == 0
    assert run(at(THURSDAY, 18, 0)) == 7


def test_no_reminder_in_quiet_hours(office):
    ReminderSettings.objects.create(
        group=office.group, quiet_start=time(8, 30), quiet_end=time(9, 0)
    )
    assert run(at(THURSDAY, 8, 55)) == 0
    assert run(at(THURSDAY, 18, 0)) == 7


def test_the_lead_time_is_the_groups(office):
    ReminderSettings.objects.create(group=office.group, punch_in_minutes=30)
    assert run(at(THURSDAY, 8, 29)) == 0
    assert run(at(THURSDAY, 8, 30)) == 7


def _queries(moment: datetime) -> tuple[int, int]:
    with time_machine.travel(moment, tick=False), CaptureQueriesContext(connection) as ctx:
        sent = send_punch_reminders()
    return sent, len(ctx.captured_queries)


def test_a_run_uses_a_constant_number_of_queries_for_5_or_50_people(office):
    # given: 5 more people in one department, all due their check-in reminder
    dept = DepartmentFactory(code="OPS", name="运营部")
    for _i in range(5):
        EmployeeFactory(department=dept, attendance_group=office.group)
    sent_5, queries_5 = _queries(at(THURSDAY, 8, 55))

    # when there are 50 (the next day, so that everyone is due again)
    for _i in range(45):
        EmployeeFactory(department=dept, attendance_group=office.group)
    sent_50, queries_50 = _queries(at(THURSDAY + timedelta(days=1), 8, 55))

    # then: the same number of queries (one batch per department and slot time)
    assert (sent_5, sent_50) == (7 + 5, 7 + 50)
    assert queries_5 == queries_50
    # (each batch's notify also reads the groups' channel choices, the languages, the
    # targets of each channel to a person, the recipients' work-app user ids, and who
    # another run reminded meanwhile: constant too)
    assert queries_50 <= 62


def test_a_tick_queues_its_batches_and_each_person_is_reminded_once(office):
    from ztk.notifications.reminders import send_reminder_batch

    queued: list[dict] = []
    # the periodic task hands each batch to the worker's queue instead of sending it
    assert send_punch_reminders(now=at(THURSDAY, 8, 55), enqueue=queued.append) == 7
    assert queued and not ReminderSent.objects.exists()
    # the next minute's tick, before a worker ran them, queues the same people again
    again: list[dict] = []
    send_punch_reminders(now=at(THURSDAY, 8, 56), enqueue=again.append)

    with transaction.atomic():
        sent = sum(send_reminder_batch(b) for b in queued)
    sent_again = sum(send_reminder_batch(b) for b in again)

    assert (sent, sent_again) == (7, 0)  # each person once, whichever batch ran first
    assert ReminderSent.objects.count() == 7


def test_the_missed_punch_alert_follows_the_switch_and_the_opt_out(org):
    store_day(org.employee, THURSDAY)
    store_day(org.colleague, THURSDAY)
    ReminderOptOut.objects.create(user=org.colleague.user, kind="missed_punch")
    assert notify_missed_punches(day=THURSDAY) == 1  # the employee only

    ReminderSettings.objects.create(group=org.group, missed_punch=False)
    store_day(org.supervisor, THURSDAY)
    assert notify_missed_punches(day=THURSDAY) == 0


def test_the_reminder_reads_in_each_language(office):
    run(at(THURSDAY, 8, 55))
    [message] = reminded(office.colleague)
    assert "09:00" in message.texts["en"]["title"]
    assert message.texts["en"]["title"] == "Check in by 09:00"
    assert "上班卡" in message.texts["zh-hans"]["title"]


def test_a_sent_reminder_records_its_slot_for_the_analytics(office):
    """Whom, which group and the engine's window: on time up to 09:00 + the grace (0,
    whole minutes: before 09:01), late until the check-in window's end (13:30, the
    shift's midpoint); a check-out on time to the end of its window (18:00 + 240 min)."""
    run(at(THURSDAY, 8, 50))
    run(at(THURSDAY, 18, 0))
    sent_in = ReminderSent.objects.get(user=office.colleague.user, kind="punch_in")
    assert sent_in.employee_id == office.colleague.pk
    assert sent_in.group_id == office.group.pk
    assert (sent_in.day, sent_in.key) == (THURSDAY, "in1")
    assert sent_in.window_start == at(THURSDAY, 7)
    assert sent_in.on_time_until == at(THURSDAY, 9, 1)
    assert sent_in.window_end == at(THURSDAY, 13, 30)
    sent_out = ReminderSent.objects.get(user=office.colleague.user, kind="punch_out")
    assert sent_out.window_start == at(THURSDAY, 13, 30)
    assert sent_out.on_time_until == sent_out.window_end
    assert sent_out.window_end == at(THURSDAY, 22) + timedelta(microseconds=1)
