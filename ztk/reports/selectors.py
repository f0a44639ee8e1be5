"""Reads for the payroll webhook settings page."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db.models import Count, Q, QuerySet

from .models import DeliveryStatus, PayrollDelivery, PayrollWebhook

LOG_ROWS = 50


def webhooks() -> QuerySet[PayrollWebhook]:
    """Every webhook with its groups and how many deliveries failed or were given up."""
    return PayrollWebhook.objects.prefetch_related("groups").annotate(
        failing=Count(
            "deliveries",
            filter=Q(deliveries__status__in=[DeliveryStatus.FAILED, DeliveryStatus.DEAD]),
        )
    )


def webhook(pk: int) -> PayrollWebhook | None:
    return PayrollWebhook.objects.prefetch_related("groups").filter(pk=pk).first()


def deliveries(hook: PayrollWebhook, *, limit: int = LOG_ROWS) -> list[PayrollDelivery]:
    """The webhook's latest deliveries, newest first."""
    return list(
        PayrollDelivery.objects.filter(webhook=hook)
        .select_related("period__group")
        .defer("body")
        .order_by("-created_at", "-id")[:limit]
    )


def shown_url(url: str) -> str:
    """The address without its query or credentials (they may hold the receiver's key):
    what lists and read-only views show."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "…"
    tail = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{tail}"


def delivery_counts() -> dict[str, int]:
    """Payroll deliveries by status (every status present, 0 when none): /metrics' backlog."""
    counts = dict(PayrollDelivery.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in DeliveryStatus.values}
