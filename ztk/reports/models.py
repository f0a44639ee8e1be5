"""Payroll webhooks: where a closed (or reopened) period's monthly report is sent, and the
outbox of those sends (``payroll.py`` signs, delivers and retries them)."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.core.webhooks import validate_receiver_url


def validate_webhook_url(value: str) -> None:
    """Payroll is reached over HTTPS at a public address (``ztk.core.webhooks``)."""
    validate_receiver_url(value, not_https_message=_("Use the receiver's https:// address."))


def new_secret() -> str:
    """A fresh signing secret (256 bits, hex) for a new webhook."""
    return secrets.token_hex(32)


def every_event() -> list[str]:
    """A new webhook hears every payroll event until HR picks fewer."""
    return list(PayrollEvent.values)


class PayrollWebhook(models.Model):
    """A payroll or HR system that receives the monthly report when a period closes."""

    name = models.CharField(_("name"), max_length=120)
    url = models.CharField(
        _("address"),
        max_length=500,
        validators=[validate_webhook_url],
        help_text=_("The receiver's https:// address; it gets a POST with the report as JSON."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        default=new_secret,
        help_text=_(
            "Shared with the receiver: X-ZTK-Signature is sha256= and the hex HMAC-SHA256 of "
            "the request body with this secret."
        ),
    )
    events = models.JSONField(
        _("events"),
        default=every_event,
        help_text=_("The payroll events this receiver gets (see PayrollEvent)."),
    )
    active = models.BooleanField(_("active"), default=True)
    groups = models.ManyToManyField(
        "org.AttendanceGroup",
        verbose_name=_("attendance groups"),
        blank=True,
        related_name="+",
        help_text=_("Only these groups' periods. None selected means every group."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payroll webhook")
        verbose_name_plural = _("payroll webhooks")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def hears(self, event: str) -> bool:
        """Whether this webhook is sent `event` (the test event always goes through)."""
        return event == TEST_EVENT or event in (self.events or [])


class PayrollEvent(models.TextChoices):
    PERIOD_CLOSED = "period.closed", _("Period closed")
    PERIOD_REOPENED = "period.reopened", _("Period reopened")


# Sent only when HR presses "send a test event"; not something a webhook subscribes to.
TEST_EVENT = "webhook.test"
DELIVERY_EVENTS = [*PayrollEvent.choices, (TEST_EVENT, _("Test event"))]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Given up")


class PayrollDelivery(models.Model):
    """One POST of one event to one webhook; retried with backoff until sent or given up.

    ``body`` is the exact JSON text sent (its UTF-8 bytes are what is signed), so a retry
    sends the same bytes and the receiver can de-duplicate on X-ZTK-Delivery.
    """

    webhook = models.ForeignKey(
        PayrollWebhook,
        verbose_name=_("webhook"),
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    period = models.ForeignKey(
        "attendance.AttendancePeriod",
        verbose_name=_("attendance period"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text=_("Empty for a test event."),
    )
    event = models.CharField(_("event"), max_length=20, choices=DELIVERY_EVENTS)
    body = models.TextField(_("body (JSON)"))
    signature = models.CharField(_("signature"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payroll delivery")
        verbose_name_plural = _("payroll deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="payroll_delivery_due",
            ),
        ]
        default_permissions = ("view", "change")

    def __str__(self) -> str:
        return f"#{self.pk} {self.event} → {self.webhook_id} ({self.status})"

    @property
    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8")
