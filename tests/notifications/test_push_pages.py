"""Switching Web Push on and off for a device (the endpoints push.js calls) and HR's
delivery log."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from ztk.audit.models import AuditEvent
from ztk.notifications.models import OutboxMessage, OutboxStatus, PushSubscription

pytestmark = pytest.mark.django_db

KEY = "B" + "A" * 86  # 65 bytes once decoded
AUTH = "A" * 22  # 16 bytes


def subscription(endpoint="https://fcm.googleapis.com/fcm/send/abc", **over):
    return {"endpoint": endpoint, "keys": {"p256dh": KEY, "auth": AUTH}, **over}


def post(client, name, body):
    return client.post(
        reverse(name),
        json.dumps(body),
        content_type="application/json",
        headers={"User-Agent": "Mozilla/5.0 (iPhone) Safari"},
    )


def test_a_device_is_switched_on_and_off(client, org):
    client.force_login(org.employee.user)

    response = post(client, "notifications:push_subscribe", subscription())

    assert response.status_code == 201
    device = PushSubscription.objects.get()
    assert (device.user, device.user_agent) == (org.employee.user, "Mozilla/5.0 (iPhone) Safari")
    assert AuditEvent.objects.filter(action="notifications.push.subscribe").count() == 1
    # the inbox says so
    assert (
        "Notifications are on for 1 of your devices."
        in client.get(
            reverse("notifications:inbox"), headers={"Accept-Language": "en"}
        ).content.decode()
    )

    off = post(client, "notifications:push_unsubscribe", {"endpoint": device.endpoint})
    assert off.status_code == 200 and json.loads(off.content) == {"removed": 1}
    assert not PushSubscription.objects.exists()


def test_the_same_device_signed_in_by_someone_else_moves_to_them(client, org):
    client.force_login(org.employee.user)
    post(client, "notifications:push_subscribe", subscription())
    other = Client()
    other.force_login(org.colleague.user)
    post(other, "notifications:push_subscribe", subscription())
    assert PushSubscription.objects.get().user == org.colleague.user
    # and nobody switches off another person's device
    post(client, "notifications:push_unsubscribe", {"endpoint": subscription()["endpoint"]})
    assert PushSubscription.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        subscription(endpoint="http://push.example.net/x"),  # not https
        subscription(endpoint="https://127.0.0.1/x"),  # this machine
        subscription(endpoint="https://10.0.0.8/x"),  # the internal network
        {"endpoint": "https://push.example.net/x", "keys": {"p256dh": "short", "auth": AUTH}},
        {"endpoint": "https://push.example.net/x", "keys": "nope"},
        {"endpoint": "https://push.example.net/" + "x" * 1100, "keys": subscription()["keys"]},
        [],
    ],
)
def test_a_bad_subscription_is_refused_with_its_reason(client, org, body):
    client.force_login(org.employee.user)
    response = post(client, "notifications:push_subscribe", body)
    assert response.status_code == 422
    assert json.loads(response.content)["code"] == "push_subscription_invalid"
    assert not PushSubscription.objects.exists()


def test_hr_reads_the_delivery_log_per_person_and_channel(client, org):
    from django.db import transaction

    from ztk.notifications.services import notify

    org.employee.email = "zhang@example.com"
    org.employee.save()
    with transaction.atomic():
        notify(kind="correction_approved", recipients=[org.employee.user], title="T", body="B")
    OutboxMessage.objects.filter(channel="email").update(
        status=OutboxStatus.FAILED, attempts=3, last_error="mail server: connection refused"
    )

    client.force_login(org.hr.user)
    html = client.get(
        reverse("notifications:deliveries") + "?person=1002&channel=email",
        headers={"Accept-Language": "en"},
    ).content.decode()
    assert "张三 (1002)" in html and "zhang@example.com" in html
    assert "mail server: connection refused" in html and "Failed, will retry" in html
    assert "<dt>Attempts</dt><dd>3 · next" in html
    nobody = client.get(reverse("notifications:deliveries") + "?person=9999").content.decode()
    assert "zhang@example.com" not in nobody

    client.force_login(org.employee.user)
    assert client.get(reverse("notifications:deliveries")).status_code == 403
