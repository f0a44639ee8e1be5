"""Payroll webhooks as HR sets them up (/settings/webhooks/): create, edit, rotate the
secret, send a test event, retry failed deliveries. Every write checks
``org.rules.can_change_settings`` (HR, system admins), runs in one transaction and is
audited with the secret reduced to "set" (``webhook_snapshot``).

The address is checked when it is saved (``core.webhooks.url_problem`` through the
model's validator: HTTPS, a public internet address), and again at every send.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record, snapshot
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.org.models import AttendanceGroup
from ztk.org.rules import can_change_settings

from . import payroll
from .models import (
    PayrollDelivery,
    PayrollEvent,
    PayrollWebhook,
    new_secret,
    validate_webhook_url,
)

NAME_MAX = 120
URL_MAX = 500


def webhook_snapshot(hook: PayrollWebhook) -> dict[str, Any]:
    """`snapshot` with the secret reduced to whether it is set (secrets stay out of the log)."""
    data = snapshot(hook)
    data["secret"] = "set" if hook.secret else ""
    data["groups"] = sorted(hook.groups.values_list("code", flat=True)) if hook.pk else []
    return data


def _require_change(actor: Any) -> None:
    if not can_change_settings(actor):
        raise PermissionDeniedError()


def _checked(name: str, url: str, events: Iterable[str]) -> tuple[str, str, list[str]]:
    """The cleaned name, address and events, or a DomainError naming the field."""
    name = clean_text(name, field="name", label=_("Name"), max_length=NAME_MAX)
    if not name:
        raise DomainError("name_required", _("Give the webhook a name."), details={"field": "name"})
    url = clean_text(url, field="url", label=_("Address"), max_length=URL_MAX)
    try:
        validate_webhook_url(url)
    except ValidationError as exc:
        raise DomainError(
            exc.error_list[0].code or "receiver_url",
            exc.messages[0],
            details={"field": "url"},
        ) from None
    chosen = list(dict.fromkeys(str(e) for e in events))
    unknown = [e for e in chosen if e not in PayrollEvent.values]
    if unknown:
        raise DomainError(
            "unknown_event",
            _("Unknown event: %(event)s.") % {"event": ", ".join(unknown)},
            details={"field": "events"},
        )
    if not chosen:
        raise DomainError(
            "no_events",
            _("Choose at least one event to send."),
            details={"field": "events"},
        )
    return name, url, [e for e in PayrollEvent.values if e in chosen]


@transaction.atomic
def webhook_create(
    *,
    actor: Any,
    name: str,
    url: str,
    events: Iterable[str],
    groups: Iterable[AttendanceGroup] = (),
    active: bool = True,
) -> tuple[PayrollWebhook, str]:
    """A new webhook; returns it and its signing secret, which the page shows once."""
    _require_change(actor)
    name, url, chosen = _checked(name, url, events)
    hook = PayrollWebhook.objects.create(
        name=name, url=url, events=chosen, active=active, secret=new_secret()
    )
    hook.groups.set(list(groups))
    record(
        "reports.payrollwebhook.create",
        obj=hook,
        actor=actor,
        after=webhook_snapshot(hook),
        extra={"via": "settings"},
    )
    return hook, hook.secret


@transaction.atomic
def webhook_update(
    *,
    actor: Any,
    webhook: PayrollWebhook,
    name: str,
    url: str,
    events: Iterable[str],
    groups: Iterable[AttendanceGroup] = (),
    active: bool = True,
) -> PayrollWebhook:
    """Change a webhook's name, address, events, groups or switch; the secret stays."""
    _require_change(actor)
    name, url, chosen = _checked(name, url, events)
    hook = PayrollWebhook.objects.select_for_update().get(pk=webhook.pk)
    before = webhook_snapshot(hook)
    hook.name, hook.url, hook.events, hook.active = name, url, chosen, active
    hook.save(update_fields=["name", "url", "events", "active"])
    hook.groups.set(list(groups))
    after = webhook_snapshot(hook)
    if after != before:
        record(
            "reports.payrollwebhook.update",
            obj=hook,
            actor=actor,
            before=before,
            after=after,
            extra={"via": "settings"},
        )
    return hook


@transaction.atomic
def webhook_rotate_secret(*, actor: Any, webhook: PayrollWebhook) -> tuple[PayrollWebhook, str]:
    """A new signing secret (shown once); deliveries sent from now on, retries included,
    are signed with it."""
    _require_change(actor)
    hook = PayrollWebhook.objects.select_for_update().get(pk=webhook.pk)
    hook.secret = new_secret()
    hook.save(update_fields=["secret"])
    record("reports.payrollwebhook.rotate_secret", obj=hook, actor=actor, after={"secret": "set"})
    return hook, hook.secret


@transaction.atomic
def webhook_send_test(*, actor: Any, webhook: PayrollWebhook) -> PayrollDelivery:
    """Queue a test event to the webhook (sent after the commit, shown in its log)."""
    _require_change(actor)
    hook = PayrollWebhook.objects.get(pk=webhook.pk)
    row = payroll.queue_test_event(hook)
    record(
        "reports.payrollwebhook.test",
        obj=hook,
        actor=actor,
        after={"delivery": row.pk, "event": row.event},
    )
    return row


def webhook_deliveries_retry(*, actor: Any, webhook: PayrollWebhook, ids: Iterable[int]) -> int:
    """Send this webhook's failed or given-up deliveries among `ids` again; how many."""
    _require_change(actor)
    own = PayrollDelivery.objects.filter(webhook=webhook, pk__in=[int(i) for i in ids])
    return payroll.payroll_delivery_retry(actor=actor, ids=own.values_list("pk", flat=True))
