"""/settings/webhooks/: HR sets up the outgoing payroll webhooks — address (checked against
private addresses when saved), events, groups, on/off; the signing secret shown once (and
again once when rotated); the delivery log with "retry" and "send a test event". Auditors
read; everyone else is refused."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import transaction
from django.test import Client

from tests.reports import test_payroll_webhook as payroll_tests
from ztk.attendance.models import AttendancePeriod, PeriodStatus
from ztk.audit.models import AuditEvent
from ztk.core import webhooks
from ztk.reports import payroll
from ztk.reports.models import DeliveryStatus, PayrollDelivery, PayrollWebhook

pytestmark = pytest.mark.django_db
receiver = payroll_tests.receiver  # the HTTP receiver on 127.0.0.1 (a fixture)
expected_signature = payroll_tests.expected_signature
URL = "/settings/webhooks/"
PUBLIC = "https://payroll.example.com/hooks/ztk?token=abc123"


@pytest.fixture
def en_client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def public_names(monkeypatch):
    """Every host name resolves to a public address (no DNS in tests)."""
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])


def _form(**over):
    return {
        "name": "薪资系统",
        "url": PUBLIC,
        "events": ["period.closed", "period.reopened"],
        "active": "on",
        **over,
    }


def _secret(response) -> str:
    return re.search(r'id="new-secret">([0-9a-f]{64})<', response.content.decode()).group(1)


def test_hr_creates_a_webhook_and_sees_its_secret_only_once(client, org, public_names):
    client.force_login(org.hr.user)

    response = client.post(URL, {**_form(), "groups": [org.group.pk]})

    assert response.status_code == 200
    secret = _secret(response)
    hook = PayrollWebhook.objects.get()
    assert (hook.name, hook.url, hook.secret) == ("薪资系统", PUBLIC, secret)
    assert hook.events == ["period.closed", "period.reopened"]
    assert list(hook.groups.all()) == [org.group] and hook.active
    event = AuditEvent.objects.get(action="reports.payrollwebhook.create")
    assert secret not in str(event.changes) and event.changes["after"]["secret"] == "set"
    # never again: neither the list nor the webhook's page shows it, nor the URL's token
    for page in (client.get(URL), client.get(f"{URL}{hook.pk}/")):
        body = page.content.decode()
        assert page.status_code == 200 and secret not in body
    listing = client.get(URL).content.decode()
    assert "https://payroll.example.com/hooks/ztk?…" in listing and "abc123" not in listing


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://10.0.0.8:8443/hook", "10.0.0.8"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://[::1]/hook", "::1"),
        ("https://localhost/hook", "localhost"),
    ],
)
def test_a_private_address_is_refused_when_saved(en_client, org, url, shown):
    en_client.force_login(org.hr.user)

    response = en_client.post(URL, _form(url=url, name="内网接收"))

    assert response.status_code == 422
    body = response.content.decode()
    assert shown in body and "is not a public internet address" in body
    assert 'value="内网接收"' in body  # what was typed is kept
    assert not PayrollWebhook.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="reports.").exists()


def test_a_name_that_resolves_inside_the_network_is_refused(client, org, monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.5"])
    client.force_login(org.hr.user)

    response = client.post(URL, _form(url="https://hooks.corp.example/x"))

    assert response.status_code == 422 and "10.0.0.5" in response.content.decode()
    assert not PayrollWebhook.objects.exists()


def test_plain_http_and_no_events_are_refused_with_their_reason(en_client, org, public_names):
    client = en_client
    client.force_login(org.hr.user)

    plain = client.post(URL, _form(url="http://payroll.example.com/x"))
    none = client.post(URL, {k: v for k, v in _form().items() if k != "events"})

    assert plain.status_code == 422 and "https://" in plain.content.decode()
    assert none.status_code == 422
    assert "Choose at least one event to send." in none.content.decode()
    assert not PayrollWebhook.objects.exists()


def test_an_edit_to_a_private_address_keeps_the_old_one(client, org, public_names):
    hook = PayrollWebhook.objects.create(name="薪资", url=PUBLIC)
    client.force_login(org.hr.user)

    refused = client.post(f"{URL}{hook.pk}/", _form(url="https://192.168.1.10/x"))
    saved = client.post(f"{URL}{hook.pk}/", _form(name="薪资2", events=["period.reopened"]))

    assert refused.status_code == 422 and "192.168.1.10" in refused.content.decode()
    assert saved.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.events) == ("薪资2", PUBLIC, ["period.reopened"])
    assert AuditEvent.objects.filter(action="reports.payrollwebhook.update").count() == 1


def test_a_webhook_gets_only_the_events_it_was_given(org):
    closed_only = PayrollWebhook.objects.create(name="A", url=PUBLIC, events=["period.closed"])
    both = PayrollWebhook.objects.create(name="B", url=PUBLIC)
    period = AttendancePeriod.objects.create(
        group=org.group,
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        status=PeriodStatus.OPEN,
    )

    with transaction.atomic():
        rows = payroll.payroll_queue(period=period, event="period.reopened")

    assert [r.webhook for r in rows] == [both]
    assert closed_only.events == ["period.closed"]


def test_a_test_event_is_sent_signed_and_logged(
    client, org, receiver, django_capture_on_commit_callbacks
):
    client.force_login(org.hr.user)
    created = client.post(URL, _form(url=receiver.url, name="测试接收"))
    secret = _secret(created)
    hook = PayrollWebhook.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{hook.pk}/test/")

    assert response.status_code == 302
    (got,) = receiver.received
    assert got.headers["x-ztk-event"] == "webhook.test"
    assert got.headers["x-ztk-signature"] == expected_signature(got.body, secret)
    (row,) = PayrollDelivery.objects.all()
    assert (row.status, row.attempts, row.last_status, row.period) == ("sent", 1, 200, None)
    log = client.get(f"{URL}{hook.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'id="delivery-{row.pk}"' in log and "Test event" in log and ">200<" in log
    assert AuditEvent.objects.filter(action="reports.payrollwebhook.test").exists()


def test_rotating_shows_a_new_secret_once_and_signs_with_it(
    client, org, receiver, django_capture_on_commit_callbacks
):
    client.force_login(org.hr.user)
    old = _secret(client.post(URL, _form(url=receiver.url)))
    hook = PayrollWebhook.objects.get()

    rotated = client.post(f"{URL}{hook.pk}/rotate/")

    assert rotated.status_code == 200
    new = _secret(rotated)
    assert new != old and new not in client.get(f"{URL}{hook.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}{hook.pk}/test/")
    (got,) = receiver.received
    assert got.headers["x-ztk-signature"] == expected_signature(got.body, new)
    event = AuditEvent.objects.get(action="reports.payrollwebhook.rotate_secret")
    assert new not in str(event.changes) and old not in str(event.changes)


def test_hr_retries_a_given_up_delivery_of_this_webhook_only(
    client, org, receiver, django_capture_on_commit_callbacks
):
    client.force_login(org.hr.user)
    client.post(URL, _form(url=receiver.url))
    hook = PayrollWebhook.objects.get()
    other = PayrollWebhook.objects.create(name="其他", url=PUBLIC)
    with transaction.atomic():
        dead = payroll.queue_test_event(hook)
        sent = payroll.queue_test_event(hook)
        foreign = payroll.queue_test_event(other)
    PayrollDelivery.objects.filter(pk__in=[dead.pk, foreign.pk]).update(
        status=DeliveryStatus.DEAD, attempts=8, last_error="HTTP 503: busy", last_status=503
    )
    PayrollDelivery.objects.filter(pk=sent.pk).update(status=DeliveryStatus.SENT)
    page = client.get(f"{URL}{hook.pk}/").content.decode()
    assert f'name="delivery" value="{dead.pk}"' in page
    assert f'name="delivery" value="{sent.pk}"' not in page and "HTTP 503: busy" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{URL}{hook.pk}/retry/", {"delivery": [dead.pk, sent.pk, foreign.pk]}
        )

    assert response.status_code == 302
    dead.refresh_from_db()
    foreign.refresh_from_db()
    assert (dead.status, dead.attempts, dead.last_status) == ("sent", 1, 200)
    assert foreign.status == "dead"  # another webhook's row is not touched from this page
    assert AuditEvent.objects.filter(action="reports.payroll_delivery.retry").count() == 1


def test_the_auditor_reads_without_forms_or_secrets_and_cannot_change(client, org, public_names):
    hook = PayrollWebhook.objects.create(name="薪资", url=PUBLIC)
    client.force_login(org.auditor.user)

    listing = client.get(URL)
    page = client.get(f"{URL}{hook.pk}/")

    assert listing.status_code == 200 and page.status_code == 200
    for body in (listing.content.decode(), page.content.decode()):
        assert (
            hook.secret not in body
            and "abc123" not in body
            and '<form method="post" class' not in body
        )
    assert client.post(URL, _form()).status_code == 403
    for action in ("", "rotate/", "test/", "retry/"):
        assert client.post(f"{URL}{hook.pk}/{action}", _form()).status_code == 403
    assert PayrollWebhook.objects.get().secret == hook.secret
    assert not PayrollDelivery.objects.exists()


def test_employees_and_supervisors_are_refused(client, org):
    hook = PayrollWebhook.objects.create(name="薪资", url=PUBLIC)
    for user in (org.employee.user, org.supervisor.user):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}{hook.pk}/").status_code == 403
    client.force_login(org.hr.user)
    assert client.get(f"{URL}99999/").status_code == 404
    assert client.get(f"{URL}x/").status_code == 404


def test_the_settings_index_links_the_page(client, org):
    client.force_login(org.hr.user)
    assert f'href="{URL}"' in client.get("/settings/").content.decode()
