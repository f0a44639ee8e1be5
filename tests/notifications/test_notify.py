"""notify(): inbox rows, outbox rows per email address and per robot, delivery after commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.factories import DepartmentFactory, UserFactory
from ztk.notifications.models import (
    Channel,
    Notification,
    NotificationKind,
    OutboxMessage,
    OutboxStatus,
)
from ztk.notifications.services import notify

from .conftest import make_robot

SUBMITTED = NotificationKind.CORRECTION_SUBMITTED


def send(**kw):
    defaults = {
        "kind": SUBMITTED,
        "title": "补卡申请待审批",
        "body": "张三 2026-11-26 上班卡",
        "url": "/approvals/",
    }
    with transaction.atomic():
        return notify(**(defaults | kw))


def test_creates_inbox_rows_and_an_email_per_address(org):
    # given: the supervisor has an address on the employee record, HR only on the account
    org.supervisor.email = "li@example.com"
    org.supervisor.save()
    org.hr.user.email = "hr@example.com"
    org.hr.user.save()

    # when
    notes = send(recipients=[org.supervisor.user, org.hr.user, org.employee.user], data={"x": 1})

    # then
    assert [n.recipient for n in notes] == [org.supervisor.user, org.hr.user, org.employee.user]
    assert all(n.read_at is None and n.kind == SUBMITTED and n.data == {"x": 1} for n in notes)
    emails = OutboxMessage.objects.filter(channel=Channel.EMAIL).order_by("target")
    assert [(m.target, m.status, m.notification.recipient) for m in emails] == [
        ("hr@example.com", OutboxStatus.PENDING, org.hr.user),
        ("li@example.com", OutboxStatus.PENDING, org.supervisor.user),
    ]
    assert emails[0].payload["subject"] == "补卡申请待审批"
    assert "张三 2026-11-26 上班卡" in emails[0].payload["body"]


def test_email_false_skips_email_and_repeats_and_inactive_accounts_are_skipped(org):
    org.employee.email = "zhang@example.com"
    org.employee.save()
    gone = UserFactory(username="gone", is_active=False)

    notes = send(recipients=[org.employee.user, org.employee.user, gone, None], email=False)

    assert [n.recipient for n in notes] == [org.employee.user]
    assert not OutboxMessage.objects.exists()


def test_robots_of_the_department_its_ancestors_and_the_company(org, robot_server):
    # given: RD (under HQ) and SALES, with robots at several levels
    hq = DepartmentFactory(code="HQ", name="总部")
    org.department.parent = hq
    org.department.save()
    own = make_robot(robot_server.url(), department=org.department, name="rd")
    parent = make_robot(robot_server.url(), platform="wecom", department=hq, name="hq")
    company = make_robot(robot_server.url(), platform="feishu", name="company")
    make_robot(robot_server.url(), department=org.stranger.department, name="sales")
    make_robot(robot_server.url(), department=org.department, name="off", active=False)
    make_robot(
        robot_server.url(),
        department=org.department,
        name="only approved",
        kinds=[NotificationKind.CORRECTION_APPROVED],
    )

    # when
    send(recipients=[org.supervisor.user], department=org.department)

    # then: one message per robot that hears the event, carrying the event's text
    robots = OutboxMessage.objects.exclude(channel=Channel.EMAIL).order_by("id")
    assert [(m.channel, m.target) for m in robots] == [
        ("dingtalk", str(own.pk)),
        ("wecom", str(parent.pk)),
        ("feishu", str(company.pk)),
    ]
    assert robots[0].payload["text"].startswith("补卡申请待审批\n张三 2026-11-26 上班卡")
    assert robot_server.received == []  # nothing is sent before the commit


def test_missed_punch_reminders_reach_robots_only_when_chosen(org, robot_server):
    everything = make_robot(robot_server.url(), department=org.department)
    chosen = make_robot(
        robot_server.url(), department=org.department, kinds=[NotificationKind.MISSED_PUNCH]
    )

    send(
        kind=NotificationKind.MISSED_PUNCH,
        recipients=[org.employee.user],
        department=org.department,
    )

    targets = set(OutboxMessage.objects.values_list("target", flat=True))
    assert targets == {str(chosen.pk)}
    assert str(everything.pk) not in targets


def test_without_a_department_only_company_robots_hear_it(org, robot_server):
    company = make_robot(robot_server.url())
    make_robot(robot_server.url(), department=org.department)

    send(recipients=[org.employee.user])

    assert list(OutboxMessage.objects.values_list("target", flat=True)) == [str(company.pk)]


@pytest.mark.django_db(transaction=True)
def test_must_run_inside_a_transaction():
    user = UserFactory(username="outside")
    with pytest.raises(RuntimeError):
        notify(kind=SUBMITTED, recipients=[user], title="t", body="b")
    assert not Notification.objects.exists()


def test_delivery_is_enqueued_after_the_commit(
    org, robot_server, mailoutbox, django_capture_on_commit_callbacks
):
    org.employee.email = "zhang@example.com"
    org.employee.save()
    make_robot(robot_server.url())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send(recipients=[org.employee.user])

    assert len(callbacks) == 1
    assert [m.to for m in mailoutbox] == [["zhang@example.com"]]
    assert len(robot_server.received) == 1
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_nothing_is_sent_when_the_change_rolls_back(
    org, robot_server, mailoutbox, django_capture_on_commit_callbacks
):
    org.employee.email = "zhang@example.com"
    org.employee.save()
    make_robot(robot_server.url())

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
    ):
        notify(kind=SUBMITTED, recipients=[org.employee.user], title="t", body="b")
        1 / 0  # noqa: B018 - the caller's change fails after notifying

    assert callbacks == []
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert mailoutbox == []
    assert robot_server.received == []


@pytest.mark.django_db(transaction=True)
def test_real_commit_and_rollback(robot_server, mailoutbox):
    """With real transactions (no test wrapper): commit delivers, rollback never does."""
    user = UserFactory(username="real", email="real@example.com")
    make_robot(robot_server.url())

    with pytest.raises(ZeroDivisionError), transaction.atomic():
        notify(kind=SUBMITTED, recipients=[user], title="rolled back", body="b")
        1 / 0  # noqa: B018
    assert mailoutbox == [] and robot_server.received == []
    assert not Notification.objects.exists()

    with transaction.atomic():
        notify(kind=SUBMITTED, recipients=[user], title="committed", body="b")
    assert [m.subject for m in mailoutbox] == ["committed"]
    assert [r.body["text"]["content"].splitlines()[0] for r in robot_server.received] == [
        "committed"
    ]
    assert Notification.objects.get().title == "committed"
