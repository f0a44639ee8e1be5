"""The payroll webhook: when HR closes a period, each payroll webhook of the group receives
the period's monthly report, signed with HMAC-SHA256 over the exact body; failures are
retried from the outbox with backoff and given up after MAX_ATTEMPTS.

The receiver is a real HTTP server on 127.0.0.1 in a thread; the signature is checked
here with the standard library, independently of the code under test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client

from tests import factories
from tests.corrections.conftest import at, only_checkout, week_for
from tests.reports.data import november
from ztk.accounts.services import api_key_create
from ztk.attendance.models import AttendancePeriod, PeriodStatus
from ztk.audit.models import AuditEvent
from ztk.closing import selectors, services
from ztk.core.errors import PermissionDeniedError
from ztk.reports import payroll
from ztk.reports.models import (
    DeliveryStatus,
    PayrollDelivery,
    PayrollWebhook,
    validate_webhook_url,
)

pytestmark = pytest.mark.django_db

NOV1, NOV30 = date(2026, 11, 1), date(2026, 11, 30)
NOW = at(date(2026, 12, 2), 10)
SECRET = "s3cr3t-共享密钥"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Receiver:
    url: str = ""
    statuses: deque = field(default_factory=deque)  # answers to give, then 200
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on this machine
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server interface
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec.received.append(
                Received({k.lower(): v for k, v in self.headers.items()}, body, self.path)
            )
            status = rec.statuses.popleft() if rec.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "busy"}')

        def log_message(self, *args):  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_port}/payroll/ztk"
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def expected_signature(body: bytes, secret: str = SECRET) -> str:
    """What the receiver computes: hex HMAC-SHA256 of the raw body with the shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def hook(url: str, *groups, **kwargs) -> PayrollWebhook:
    webhook = PayrollWebhook.objects.create(name="薪资系统", url=url, secret=SECRET, **kwargs)
    webhook.groups.set(groups)
    return webhook


def closed_period(org) -> AttendancePeriod:
    return AttendancePeriod.objects.create(
        group=org.group, start=NOV1, end=NOV30, status=PeriodStatus.CLOSED, closed_at=NOW
    )


def queue(period, event="period.closed") -> list[PayrollDelivery]:
    with transaction.atomic():
        return payroll.payroll_queue(period=period, event=event)


# --- the close sends the signed report ---------------------------------------------------------


def test_closing_a_period_posts_the_signed_report(
    org, receiver, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    week_for(org)
    only_checkout(org.employee, NOV30)
    webhook = hook(receiver.url)
    services.period_finalise_days(actor=org.hr.user, group=org.group, start=NOV1)

    with django_capture_on_commit_callbacks(execute=True):
        period = services.period_close(
            actor=org.hr.user,
            group=org.group,
            start=NOV1,
            confirm=selectors.close_review(group=org.group, start=NOV1).token,
        )

    (delivery,) = PayrollDelivery.objects.all()
    assert (delivery.webhook, delivery.period, delivery.event) == (webhook, period, "period.closed")
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("sent", 1, 200)
    (got,) = receiver.received
    assert got.path == "/payroll/ztk"
    assert got.headers["content-type"].startswith("application/json")
    assert got.headers["x-ztk-event"] == "period.closed"
    assert got.headers["x-ztk-delivery"] == str(delivery.pk)
    # the signature, recomputed here over the exact bytes received
    assert got.headers["x-ztk-signature"] == expected_signature(got.body)
    assert got.body == delivery.body.encode("utf-8")
    assert not hmac.compare_digest(got.headers["x-ztk-signature"], expected_signature(b"x"))
    body = json.loads(got.body)
    assert body["event"] == "period.closed"
    assert body["period"]["start"] == "2026-11-01" and body["period"]["end"] == "2026-11-30"
    assert body["period"]["status"] == "closed" and body["period"]["id"] == period.pk
    assert (body["group"], body["group_name"]) == ("STD", "标准工时组")
    assert body["complete"] is True  # every day final, the period over
    zhang = next(r for r in body["rows"] if r["employee_no"] == "1002")
    # no punch all month but the check-out of 30 November: final days count them as missing
    assert zhang["required_days"] == 21
    assert (zhang["missing_in_count"], zhang["missing_out_count"]) == (21, 20)
    assert "张三" in got.body.decode("utf-8")  # UTF-8, not \u escapes


def test_reopening_posts_period_reopened(
    org, receiver, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    hook(receiver.url)
    closed_period(org)
    with django_capture_on_commit_callbacks(execute=True):
        services.period_reopen(actor=org.hr.user, group=org.group, start=NOV1, reason="补录出差")
    (got,) = receiver.received
    assert got.headers["x-ztk-event"] == "period.reopened"
    assert json.loads(got.body)["period"]["status"] == "open"
    assert got.headers["x-ztk-signature"] == expected_signature(got.body)


def test_the_body_is_the_payroll_apis_monthly_report(org, time_machine):
    """Same keys and figures as GET /api/v1/reports/monthly for the period and group."""
    time_machine.move_to(NOW, tick=False)
    november(org)
    hook("https://payroll.example.invalid/hook")
    (delivery,) = queue(closed_period(org))
    body = json.loads(delivery.body)
    key = api_key_create(actor=None, user=org.hr.user, name="payroll")[1]
    api = Client().get(
        "/api/v1/reports/monthly",
        {"period": "2026-11", "group": "STD"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert api.status_code == 200
    report = api.json()
    for name in ("department", "complete", "columns", "rows", "totals", "departments"):
        assert body[name] == report[name], name
    assert body["group"] == report["group"] == "STD"
    assert {k: body["period"][k] for k in report["period"]} == report["period"]
    assert set(body) == set(report) | {"event", "group_name"}


def test_only_the_active_webhooks_of_the_group_are_queued(org):
    other = factories.AttendanceGroupFactory(code="NIGHT")
    everyone = hook("https://a.example.invalid/")
    ours = hook("https://b.example.invalid/", org.group, other)
    hook("https://c.example.invalid/", other)
    hook("https://d.example.invalid/", active=False)
    rows = queue(closed_period(org))
    assert {r.webhook for r in rows} == {everyone, ours}
    assert all(r.signature == expected_signature(r.body.encode()) for r in rows)


def test_nothing_is_queued_without_webhooks_nor_for_an_unknown_event(org):
    period = closed_period(org)
    assert queue(period) == []
    hook("https://a.example.invalid/")
    with pytest.raises(ValueError), transaction.atomic():
        payroll.payroll_queue(period=period, event="period.deleted")


def test_a_refused_close_queues_nothing(org, time_machine):
    time_machine.move_to(NOW, tick=False)
    week_for(org)
    hook("https://a.example.invalid/")
    with pytest.raises(Exception):  # noqa: B017 - unfinalised days
        services.period_close(actor=org.hr.user, group=org.group, start=NOV1)
    assert not PayrollDelivery.objects.exists()


# --- retries ---------------------------------------------------------------------------------


def test_a_failed_delivery_is_retried_with_backoff(
    org, receiver, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    hook(receiver.url)
    receiver.statuses.extend([500])
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = queue(closed_period(org))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("failed", 1, 500)
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
    assert "HTTP 500" in delivery.last_error
    # not due yet: nothing is sent
    assert payroll.deliver_payroll_pending(now=NOW + timedelta(seconds=30)).sent == 0
    assert len(receiver.received) == 1

    stats = payroll.deliver_payroll_pending(now=NOW + timedelta(minutes=1))

    assert stats.as_dict() == {"sent": 1, "failed": 0, "dead": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("sent", 2, 200)
    assert delivery.sent_at == NOW + timedelta(minutes=1) and delivery.last_error == ""
    first, second = receiver.received
    # a retry is the same delivery: same id, same bytes, same signature
    assert first.body == second.body
    assert first.headers["x-ztk-delivery"] == second.headers["x-ztk-delivery"] == str(delivery.pk)
    assert second.headers["x-ztk-signature"] == expected_signature(second.body)


def test_a_delivery_is_given_up_after_max_attempts(org, receiver):
    hook(receiver.url)
    receiver.statuses.extend([503] * 20)
    (delivery,) = queue(closed_period(org))
    when = delivery.next_attempt_at
    for attempt in range(1, payroll.MAX_ATTEMPTS + 1):
        stats = payroll.deliver_payroll_pending(now=when)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        if attempt < payroll.MAX_ATTEMPTS:
            assert delivery.status == DeliveryStatus.FAILED and stats.failed == 1
            assert delivery.next_attempt_at == when + timedelta(minutes=2 ** (attempt - 1))
            when = delivery.next_attempt_at
    assert delivery.status == DeliveryStatus.DEAD and stats.dead == 1
    assert len(receiver.received) == payroll.MAX_ATTEMPTS
    assert payroll.deliver_payroll_pending(now=when + timedelta(days=1)).as_dict() == {
        "sent": 0,
        "failed": 0,
        "dead": 0,
    }


def test_an_unreachable_receiver_is_retried_and_a_switched_off_webhook_given_up(org, receiver):
    webhook = hook("http://127.0.0.1:9/nothing-listens")
    (delivery,) = queue(closed_period(org))
    payroll.deliver_payroll_pending(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "unreachable" in delivery.last_error
    assert delivery.last_status is None
    webhook.active = False
    webhook.save(update_fields=["active"])
    payroll.deliver_payroll_pending(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == "dead" and "switched off" in delivery.last_error


def test_hr_retries_a_dead_delivery_audited(org, receiver, django_capture_on_commit_callbacks):
    hook(receiver.url)
    (delivery,) = queue(closed_period(org))
    PayrollDelivery.objects.filter(pk=delivery.pk).update(status="dead", attempts=8)
    with pytest.raises(PermissionDeniedError):
        payroll.payroll_delivery_retry(actor=org.employee.user, ids=[delivery.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert payroll.payroll_delivery_retry(actor=org.hr.user, ids=[delivery.pk]) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    event = AuditEvent.objects.get(action="reports.payroll_delivery.retry")
    assert event.changes["before"] == {"status": "dead", "attempts": 8}


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://93.184.215.14/hooks/ztk", True),
        ("https://127.0.0.1:8080/hook", False),
        ("https://localhost/hook", False),
        ("http://127.0.0.1:8080/hook", False),
        ("http://93.184.215.14/hook", False),
        ("ftp://payroll.example.com/", False),
        ("payroll.example.com", False),
    ],
)
def test_webhook_addresses_are_https_and_public(url, ok):
    if ok:
        validate_webhook_url(url)
    else:
        with pytest.raises(ValidationError):
            validate_webhook_url(url)


def test_a_new_webhook_gets_a_strong_secret(db):
    first = PayrollWebhook.objects.create(name="A", url="https://a.example.invalid/")
    second = PayrollWebhook.objects.create(name="B", url="https://b.example.invalid/")
    assert len(first.secret) == 64 and first.secret != second.secret


def test_hr_configures_webhooks_in_the_admin_audited_without_the_secret(client, org):
    client.force_login(org.hr.user)
    response = client.post(
        "/admin/reports/payrollwebhook/add/",
        {
            "name": "金蝶薪资",
            "url": "https://payroll.example.invalid/ztk",
            "secret": "very-secret-value",
            "groups": [org.group.pk],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    webhook = PayrollWebhook.objects.get()
    assert list(webhook.groups.all()) == [org.group]
    event = AuditEvent.objects.get(action="reports.payrollwebhook.create")
    assert "very-secret-value" not in json.dumps(event.changes, ensure_ascii=False)
    assert event.changes["after"]["groups"] == ["STD"]
    assert client.get("/admin/reports/payrolldelivery/").status_code == 200
    assert client.get("/admin/reports/payrollwebhook/").status_code == 200
    client.force_login(org.employee.user)
    assert client.get("/admin/reports/payrollwebhook/").status_code in (302, 403)
