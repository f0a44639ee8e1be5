"""Which channels a message takes: per message kind and attendance group (the inbox always),
in each person's language; the settings page and the API that choose them."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.api.conftest import call
from tests.factories import AttendanceGroupFactory
from ztk.accounts.services import api_key_create
from ztk.audit.models import AuditEvent
from ztk.notifications.channels import MessageKind, message_kind
from ztk.notifications.models import (
    MessageLanguage,
    Notification,
    NotificationKind,
    OutboxMessage,
    PushSubscription,
    ReminderSettings,
)
from ztk.notifications.services import notify

pytestmark = pytest.mark.django_db

P256DH = "B" + "A" * 86  # any 65-byte key decodes; only its shape is checked when stored
AUTH = "A" * 22


def device(user, token="d1"):
    return PushSubscription.objects.create(
        user=user, endpoint=f"https://push.example.net/{token}", p256dh=P256DH, auth=AUTH
    )


def send(kind, *users):
    with transaction.atomic():
        notify(
            kind=kind,
            recipients=list(users),
            title="Title",
            body="Body",
            url="/",
        )


def channels_of(user) -> set[str]:
    return set(
        OutboxMessage.objects.filter(notification__recipient=user).values_list("channel", flat=True)
    )


@pytest.fixture
def people(org):
    """张三 (group STD) and 李四 moved to group NIGHT; both with e-mail and a device."""
    for person in (org.employee, org.colleague):
        person.email = f"{person.employee_no}@example.com"
        person.save()
        device(person.user, person.employee_no)
    org.colleague.attendance_group = AttendanceGroupFactory(code="NIGHT", name="夜班组")
    org.colleague.save()
    return org


def test_every_kind_has_a_message_kind():
    assert message_kind(NotificationKind.CORRECTION_SUBMITTED) == MessageKind.APPROVAL_REQUESTED
    assert message_kind(NotificationKind.CORRECTION_REJECTED) == MessageKind.DECISION_MADE
    assert message_kind(NotificationKind.PUNCH_REMINDER) == MessageKind.PUNCH_REMINDER
    assert message_kind("something_new") == MessageKind.OTHER


def test_by_default_a_message_goes_by_e_mail_and_web_push(people):
    send(NotificationKind.PUNCH_REMINDER, people.employee.user, people.colleague.user)
    assert channels_of(people.employee.user) == {"email", "webpush"}
    assert channels_of(people.colleague.user) == {"email", "webpush"}
    assert Notification.objects.count() == 2  # the inbox, always


def test_a_group_chooses_per_kind_and_other_groups_keep_theirs(people):
    ReminderSettings.objects.create(
        group=people.group,
        channels={"punch_reminder": {"email": False}, "decision_made": {"webpush": False}},
    )

    send(NotificationKind.PUNCH_REMINDER, people.employee.user, people.colleague.user)
    assert channels_of(people.employee.user) == {"webpush"}  # STD: no e-mail for reminders
    assert channels_of(people.colleague.user) == {"email", "webpush"}  # NIGHT: defaults

    OutboxMessage.objects.all().delete()
    send(NotificationKind.CORRECTION_APPROVED, people.employee.user)
    assert channels_of(people.employee.user) == {"email"}

    OutboxMessage.objects.all().delete()
    send(NotificationKind.CORRECTION_SUBMITTED, people.employee.user)  # approval requested
    assert channels_of(people.employee.user) == {"email", "webpush"}


def test_nothing_but_the_inbox_when_every_channel_is_off(people):
    ReminderSettings.objects.create(
        group=people.group, channels={"cutoff_reminder": {"email": False, "webpush": False}}
    )
    send(NotificationKind.CUTOFF_REMINDER, people.employee.user)
    assert channels_of(people.employee.user) == set()
    assert Notification.objects.filter(recipient=people.employee.user).exists()


def test_e_mail_is_in_the_persons_language(people):
    MessageLanguage.objects.create(user=people.employee.user, language="en")
    with transaction.atomic():
        notify(
            kind=NotificationKind.CORRECTION_APPROVED,
            recipients=[people.employee.user, people.colleague.user],
            title=_lazy("Correction request approved"),
            body=_lazy("Correction request approved"),
        )
    mail = {m.target: m.payload["subject"] for m in OutboxMessage.objects.filter(channel="email")}
    assert mail["1002@example.com"] == "Correction request approved"  # chose English
    assert mail["1003@example.com"] == "补卡申请已通过"  # the company's language


def _lazy(text):
    from django.utils.translation import gettext_lazy

    return gettext_lazy(text)


def test_signing_in_remembers_the_language(org):
    org.employee.user.set_password("pw-123456789")
    org.employee.user.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post(reverse("accounts:login"), {"username": "employee", "password": "pw-123456789"})
    assert MessageLanguage.objects.get(user=org.employee.user).language == "en"


# --- the settings page and the API ---------------------------------------------------------


def test_hr_switches_a_channel_off_on_the_page_and_it_is_audited(client, org):
    client.force_login(org.hr.user)
    url = reverse("settings:reminder_edit", args=[org.group.code])
    page = client.get(url).content.decode()
    assert 'name="ch.punch_reminder.email"' in page and 'name="ch.decision_made.webpush"' in page

    form = {"punch_in": "1", "punch_in_minutes": "10", "punch_out": "1", "missed_punch": "1",
            "cutoff": "1", "cutoff_days": "2", "digest": "1", "digest_time": "09:00",
            "quiet": "1", "quiet_start": "22:00", "quiet_end": "07:00"}  # fmt: skip
    for kind in MessageKind.values:
        for code in ("email", "webpush"):
            if (kind, code) != ("punch_reminder", "email"):
                form[f"ch.{kind}.{code}"] = "1"
    response = client.post(url, form)

    assert response.status_code == 302
    saved = ReminderSettings.objects.get(group=org.group).channels
    assert saved["punch_reminder"] == {"email": False, "webpush": True}
    event = AuditEvent.objects.get(action="notifications.reminders.create")
    assert event.changes["after"]["channels"]["punch_reminder"]["email"] is False


def test_the_api_reads_and_changes_the_channels(org):
    _key, raw = api_key_create(actor=None, user=org.hr.user, name="hr")
    client = Client()
    path = f"/api/v1/settings/reminders/{org.group.code}"

    got = call(client, "GET", path, key=raw)
    assert got.status == 200
    assert got.body["channels"]["approval_requested"] == {"email": True, "webpush": True}
    assert {c["code"] for c in got.body["available_channels"]} >= {"email", "webpush"}

    put = call(
        client, "PUT", path, key=raw, body={"channels": {"approval_digest": {"email": False}}}
    )
    assert put.status == 200
    assert put.body["channels"]["approval_digest"] == {"email": False, "webpush": True}
    assert put.body["punch_in_minutes"] == 10  # untouched

    again = call(
        client, "PUT", path, key=raw, body={"channels": {"approval_digest": {"email": False}}}
    )
    assert again.status == 200
    assert AuditEvent.objects.filter(action__startswith="notifications.reminders.").count() == 1

    bad = call(client, "PUT", path, key=raw, body={"channels": {"no_such_kind": {"email": True}}})
    assert bad.status == 422 and bad.body["code"] == "reminders_invalid"
    assert bad.body["details"]["field"] == "channels"
    unknown = call(client, "PUT", path, key=raw, body={"channels": {"digest": {"fax": True}}})
    assert unknown.status == 422

    assert call(client, "GET", "/api/v1/settings/reminders/NOPE", key=raw).status == 404
