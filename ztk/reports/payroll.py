"""The payroll webhook: when HR closes (or reopens) an attendance period, every active
payroll webhook of the group receives the period's monthly report, signed.

The request is a POST of JSON (UTF-8) with these headers:

* ``X-ZTK-Signature: sha256=<hex HMAC-SHA256(key=secret, msg=body bytes)>``
* ``X-ZTK-Event: period.closed`` or ``period.reopened``
* ``X-ZTK-Delivery: <id>`` — the same on every retry of one delivery: de-duplicate on it.

The body is the payroll API's monthly report for the period and its group
(``GET /api/v1/reports/monthly?period=…&group=…``: the same keys and figures, built by
``monthly_report`` from the same selectors) plus ``event``, ``group_name`` and the period
extended with ``id``, ``label``, ``status`` and ``closed_at``. It is built once, in the
closing transaction, and stored: every retry sends the same bytes. Any 2xx answer is
success; anything else (or no answer within HTTP_TIMEOUT) is retried.

Delivery runs on the outbox core (``ztk.core.webhooks``), like the group robots: rows are
written in the closing transaction, a Huey task sends them after the commit, each due row
is claimed (its next attempt moved a lease ahead in one conditional UPDATE) so two workers
never send the same row, a failure retries 1, 2, 4 … minutes later, and after
``MAX_ATTEMPTS`` the row is ``dead`` and stays visible in the admin, where it can be
retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ztk.audit.services import record
from ztk.core.errors import PermissionDeniedError
from ztk.core.leases import leased
from ztk.core.webhooks import (
    HTTP_TIMEOUT,
    MAX_ATTEMPTS,
    DeliveryError,
    DeliveryStats,
    deliver_due,
    post,
    retry_rows,
    send_after_commit,
)
from ztk.org.models import AttendanceGroup
from ztk.org.rules import is_hr, is_sysadmin

from .models import TEST_EVENT, DeliveryStatus, PayrollDelivery, PayrollEvent, PayrollWebhook
from .summary import department_totals, is_complete, monthly_summary

log = logging.getLogger(__name__)

BATCH = 200
SIGNATURE_HEADER = "X-ZTK-Signature"
EVENT_HEADER = "X-ZTK-Event"
DELIVERY_HEADER = "X-ZTK-Delivery"


# --- the body (pure apart from the report's reads) -------------------------------------------


def monthly_report(
    *, start: date, end: date, group: AttendanceGroup | None = None, lang: str = "zh-hans"
) -> dict[str, Any]:
    """The monthly report exactly as the payroll API returns it as JSON (same keys, same
    selectors: ``monthly_summary``, ``department_totals``, ``is_complete``)."""
    summaries = monthly_summary(period_start=start, period_end=end, group=group)
    departments, grand = department_totals(summaries, lang=lang)
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "group": group.code if group else None,
        "department": None,
        "generated_at": DjangoJSONEncoder().default(timezone.now()),
        "complete": is_complete(summaries, end),
        "columns": [
            {"key": c.key, "zh": c.zh, "en": c.en, "kind": c.kind}
            for c in summaries.columns.summary
        ],
        "rows": [s.as_dict(summaries.columns) for s in summaries],
        "totals": {"employees": grand.employees, **grand.values},
        "departments": [d.as_dict() for d in departments],
    }


def event_body(period: Any, event: str) -> dict[str, Any]:
    """The webhook's JSON: the monthly report of the period's group, plus the event."""
    group = period.group
    report = monthly_report(start=period.start, end=period.end, group=group)
    return {
        "event": event,
        **report,
        "period": {
            **report["period"],
            "id": period.pk,
            "label": f"{period.start.year:04d}-{period.start.month:02d}",
            "status": period.status,
            "closed_at": period.closed_at.isoformat() if period.closed_at else None,
        },
        "group": group.code,
        "group_name": group.name,
    }


def encode_body(body: dict[str, Any]) -> str:
    """Compact JSON, Chinese kept as UTF-8 (the bytes signed are ``text.encode('utf-8')``)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def sign(secret: str, body: bytes) -> str:
    """The X-ZTK-Signature value: ``sha256=`` + hex HMAC-SHA256(key=secret, msg=body)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does (constant-time comparison); used by the tests and the docs."""
    return hmac.compare_digest(sign(secret, body), signature or "")


# --- queueing (inside the closing transaction) -----------------------------------------------


def webhooks_for(group: AttendanceGroup, event: str | None = None) -> list[PayrollWebhook]:
    """Active webhooks that hear `group` (those limited to it and those with no groups) and,
    when given, `event` (the events HR ticked; filtered here, as SQLite cannot look inside
    a JSON list)."""
    hooks = (
        PayrollWebhook.objects.filter(active=True)
        .filter(Q(groups__isnull=True) | Q(groups=group))
        .distinct()
        .order_by("pk")
    )
    return [h for h in hooks if event is None or h.hears(event)]


def payroll_queue(*, period: Any, event: str) -> list[PayrollDelivery]:
    """Write one delivery per webhook of the period's group; they are sent after the commit.

    Must run inside the caller's transaction (the period's close or reopen), so a
    rolled-back close sends nothing. Nothing is built when no webhook listens.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("payroll_queue must be called inside transaction.atomic()")
    if event not in PayrollEvent.values:
        raise ValueError(f"unknown payroll event {event!r}")
    hooks = webhooks_for(period.group, event)
    if not hooks:
        return []
    text = encode_body(event_body(period, event))
    data = text.encode("utf-8")
    now = timezone.now()
    rows = [
        PayrollDelivery.objects.create(
            webhook=hook,
            period=period,
            event=event,
            body=text,
            signature=sign(hook.secret, data),
            created_at=now,
            next_attempt_at=now,
        )
        for hook in hooks
    ]
    _deliver_after_commit([r.pk for r in rows])
    return rows


def event_body_for_test(hook: PayrollWebhook, *, now: datetime) -> dict[str, Any]:
    """The test event's JSON: which webhook, when; no report (a receiver can tell it by
    ``event`` and by the X-ZTK-Event header)."""
    return {
        "event": TEST_EVENT,
        "webhook": hook.name,
        "sent_at": DjangoJSONEncoder().default(now),
        "events": list(hook.events or []),
    }


def queue_test_event(hook: PayrollWebhook) -> PayrollDelivery:
    """Write one test delivery to `hook` (sent after the commit, signed, retried like the
    others). Inside the caller's transaction, like `payroll_queue`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("queue_test_event must be called inside transaction.atomic()")
    now = timezone.now()
    text = encode_body(event_body_for_test(hook, now=now))
    row = PayrollDelivery.objects.create(
        webhook=hook,
        period=None,
        event=TEST_EVENT,
        body=text,
        signature=sign(hook.secret, text.encode("utf-8")),
        created_at=now,
        next_attempt_at=now,
    )
    _deliver_after_commit([row.pk])
    return row


def _deliver_after_commit(ids: list[int]) -> None:
    send_after_commit(payroll_deliver, ids)


@transaction.atomic
def payroll_delivery_retry(*, actor: Any, ids: Iterable[int]) -> int:
    """Give failed or given-up deliveries a fresh set of attempts, due now (HR, sysadmin)."""
    if not (is_hr(actor) or is_sysadmin(actor)):
        raise PermissionDeniedError()
    pks = retry_rows(
        PayrollDelivery,
        [int(i) for i in ids],
        audit=lambda row: record(
            "reports.payroll_delivery.retry",
            obj=row,
            actor=actor,
            before={"status": row.status, "attempts": row.attempts},
            after={"status": DeliveryStatus.PENDING, "attempts": 0},
        ),
    )
    if pks:
        _deliver_after_commit(pks)
    return len(pks)


# --- sending --------------------------------------------------------------------------------


def post_signed(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float = HTTP_TIMEOUT
) -> int:
    """POST `body` with `headers`; the HTTP status on 2xx, else DeliveryError."""
    status, _answer = post(url, body, headers, timeout=timeout)
    return status


def _send(row: PayrollDelivery) -> dict[str, Any]:
    hook = row.webhook
    if not hook.active and row.event != TEST_EVENT:  # a test may check a hook before it is on
        raise DeliveryError("the webhook is switched off", permanent=True)
    data = row.body_bytes
    signature = sign(hook.secret, data)  # the secret may have been changed since queueing
    status = post_signed(
        hook.url,
        data,
        {SIGNATURE_HEADER: signature, EVENT_HEADER: row.event, DELIVERY_HEADER: str(row.pk)},
    )
    return {"last_status": status, "signature": signature}


def deliver_payroll_pending(
    *, ids: list[int] | None = None, now: datetime | None = None, limit: int = BATCH
) -> DeliveryStats:
    """Send the due deliveries (only `ids`, if given); returns what happened."""
    return deliver_due(
        PayrollDelivery,
        _send,
        ids=ids,
        now=now,
        limit=limit,
        related=("webhook",),
        on_failure=lambda row, error: {"last_status": error.status},
        label=lambda row: f"payroll delivery {row.pk}",
    )


# --- Huey ----------------------------------------------------------------------------------


@db_task(retries=3, retry_delay=30)
def payroll_deliver(ids: list[int]) -> None:
    """Enqueued after the closing commit: send these deliveries now."""
    stats = deliver_payroll_pending(ids=ids)
    log.info("payroll delivery %s", stats.as_dict())


@db_periodic_task(crontab(minute="*"))
@leased("reports-payroll-deliver")
def payroll_deliver_due() -> None:
    """Every minute: retry failed deliveries whose time has come, and any left behind."""
    stats = deliver_payroll_pending()
    if stats.sent or stats.failed or stats.dead:
        log.info("payroll delivery retry %s", stats.as_dict())


__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "MAX_ATTEMPTS",
    "SIGNATURE_HEADER",
    "deliver_payroll_pending",
    "event_body",
    "monthly_report",
    "payroll_delivery_retry",
    "payroll_queue",
    "sign",
    "queue_test_event",
    "verify",
]
