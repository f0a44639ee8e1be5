"""Reads of the notifications app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from ztk.org.roles import HR

from .models import Notification, OutboxMessage, OutboxStatus, PushSubscription, RobotWebhook


def unread_count(user: Any) -> int:
    """The unread badge: one COUNT on a partial index (0 without a query when logged out)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def notification_list(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own inbox, newest first."""
    qs = Notification.objects.filter(recipient_id=user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def notification_get(*, user: Any, pk: int) -> Notification | None:
    """One of the user's own notifications (someone else's id gives None)."""
    return Notification.objects.filter(recipient_id=user.pk, pk=pk).first()


def hr_recipients() -> QuerySet:
    """Active accounts with the HR role (e.g. for overdue approval steps)."""
    return get_user_model().objects.filter(groups__name=HR, is_active=True).distinct()


def robot_list() -> QuerySet[RobotWebhook]:
    return RobotWebhook.objects.select_related("department").order_by(
        "department__code", "name", "id"
    )


def outbox_problems(*, limit: int = 50) -> list[OutboxMessage]:
    """Messages that failed (retrying) or were given up, newest first."""
    return list(
        OutboxMessage.objects.filter(status__in=[OutboxStatus.FAILED, OutboxStatus.DEAD]).order_by(
            "-created_at", "-id"
        )[:limit]
    )


def outbox_counts() -> dict[str, int]:
    counts = dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in OutboxStatus.values}


def push_device_count(user: Any) -> int:
    """How many devices of `user` have Web Push on."""
    return PushSubscription.objects.filter(user_id=user.pk).count()


@dataclass(frozen=True)
class DeliveryFilters:
    channel: str = ""
    status: str = ""
    person: str = ""  # an employee number, a name or a login (contains)


def delivery_log(filters: DeliveryFilters) -> QuerySet[OutboxMessage]:
    """Every outbox row, newest first, with the person it was for (when one): what was
    sent to whom over which channel, its status, attempts and last error."""
    qs = OutboxMessage.objects.select_related("notification__recipient__employee").order_by(
        "-created_at", "-id"
    )
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.person:
        term = filters.person
        qs = qs.filter(
            Q(notification__recipient__employee__employee_no=term)
            | Q(notification__recipient__employee__name__contains=term)
            | Q(notification__recipient__username=term)
        )
    return qs


def push_device_labels(ids: list[str]) -> dict[str, str]:
    """The browser of each Web Push target (subscription id) still known."""
    pks = [int(i) for i in ids if i.isdigit()]
    return {
        str(pk): agent
        for pk, agent in PushSubscription.objects.filter(pk__in=pks).values_list("pk", "user_agent")
    }
