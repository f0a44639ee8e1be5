"""The approvers' daily digest: once a day at the group's time, each approver with waiting
steps gets one list, overdue first; participants and opted-out approvers get none."""

from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine

from tests.corrections.conftest import MON, SH, TUE, at, item, only_checkout, submit
from ztk.approvals.digest import send_approver_digests
from ztk.notifications.models import (
    Notification,
    NotificationKind,
    ReminderOptOut,
    ReminderSettings,
)

pytestmark = pytest.mark.django_db


def digests(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=NotificationKind.APPROVAL_DIGEST))


def run(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return send_approver_digests()


@pytest.fixture
def waiting(week):
    only_checkout(week.employee, MON, TUE)
    first = submit(week.employee.user, week.employee, item(MON))
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SH), tick=False):
        second = submit(week.employee.user, week.employee, item(TUE))
    return week, first, second


def test_once_a_day_at_the_digest_time_overdue_first(waiting):
    org, first, second = waiting
    monday = datetime(2026, 11, 30).date()
    assert run(at(monday, 8, 55)) == 0  # before 09:00
    assert run(at(monday, 9, 5)) == 1
    assert run(at(monday, 9, 15)) == 0  # once a day

    [digest] = digests(org.supervisor.user)
    ids = digest.data["requests"]
    assert len(ids) == 2 and digest.data["overdue"] >= 1
    body = digest.texts["en"]["body"]
    # overdue first: the request of Wednesday (due Friday night) before Friday's
    assert body.index(f"#{ids[0]}") < body.index(f"#{ids[1]}")
    assert "‼" in body.splitlines()[1]
    assert digest.url == "/requests/inbox/"
    assert digests(org.employee.user) == []  # a participant never decides


def test_not_for_who_opted_out_nor_when_the_group_switched_it_off(waiting):
    org, _first, _second = waiting
    monday = datetime(2026, 11, 30).date()
    ReminderOptOut.objects.create(user=org.supervisor.user, kind="digest")
    assert run(at(monday, 9, 5)) == 0
    ReminderOptOut.objects.all().delete()
    ReminderSettings.objects.create(group=org.group, digest=False)
    assert run(at(monday, 9, 5)) == 0
    ReminderSettings.objects.filter(group=org.group).update(digest=True, digest_time=time(10))
    assert run(at(monday, 9, 5)) == 0
    assert run(at(monday, 10, 0)) == 1
