"""Reads of the approval machinery: the one order of every approver's queue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Delegation

T = TypeVar("T")


@dataclass(frozen=True)
class QueueEntry(Generic[T]):
    """One request waiting for an approver, as the queue order needs it."""

    item: T
    pk: int
    urgent: bool  # e.g. an expedited (加急) correction
    waiting_since: datetime | None  # when its current step started
    deadline: datetime | None  # when its current step is due (sla)


def queue_key(entry: QueueEntry[T], now: datetime) -> tuple[bool, bool, float, int]:
    """Overdue first, then urgent, then the longest waiting, then the oldest request."""
    overdue = entry.deadline is not None and now >= entry.deadline
    since = entry.waiting_since.timestamp() if entry.waiting_since else float("inf")
    return (not overdue, not entry.urgent, since, entry.pk)


def queue_order(entries: Iterable[QueueEntry[T]], now: datetime) -> list[T]:
    """The items of an approver's queue in the one order every page and API lists them."""
    return [e.item for e in sorted(entries, key=lambda e: queue_key(e, now))]


def delegations_for(
    user: Any, *, everyone: bool = False, today: date | None = None
) -> QuerySet[Delegation]:
    """Delegations not yet over: those `user` gave or received, or all of them (HR)."""
    today = today or timezone.localdate()
    rows = Delegation.objects.filter(end__gte=today).select_related(
        "approver__employee", "delegate__employee", "created_by"
    )
    if not everyone:
        rows = rows.filter(Q(approver=user) | Q(delegate=user))
    return rows.order_by("start", "pk")
