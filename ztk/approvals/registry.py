"""The request types the approval machinery decides, each through a small adapter.

A request type (corrections now; leave, outing and overtime requests next) registers one
``Decidable`` in its AppConfig.ready; the machinery never imports a request type. Its
request model carries the route: ``chain`` (the resolved steps, JSON), ``current_step``,
``current_kind``, ``current_approvers`` (M2M to users), ``step_started_at``,
``overdue_notified_step``, ``status``, ``decided_at`` and ``decided_by``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db.models import QuerySet


class Decidable(Protocol):
    """What the machinery needs to know about one request type."""

    name: str  # e.g. "corrections"
    audit_prefix: str  # audit actions are f"{audit_prefix}.reroute" etc.

    def pending(self) -> QuerySet[Any]:
        """Requests of this type still waiting for a decision."""

    def lock(self, pk: int) -> Any:
        """The request re-read under a row lock (with its employee)."""

    def zone(self, request: Any) -> ZoneInfo:
        """The employee's time zone (for "today" and deadlines)."""

    def participants(self, request: Any) -> set[int]:
        """User ids who never decide it: the employee and the applicant."""

    def record_action(self, request: Any, kind: str, actor: Any, **fields: Any) -> Any:
        """Add an entry to the request's trail (``approvals.models.ActionKind``)."""

    def notify_approvers(self, request: Any) -> None:
        """Tell the current step's approvers that the request waits for them."""

    def notify_overdue(
        self, request: Any, recipients: Iterable[Any], deadline: datetime, tz: ZoneInfo
    ) -> None:
        """Tell the approvers and HR that the current step is past its deadline."""


# Optional on a Decidable: ``inbox_rows(user, now)``, ``inbox_approve(actor, ids,
# comment)`` and ``inbox_types()``: the type's rows of the approver's one inbox and its batch
# approval (``inboxes``).

_TYPES: dict[str, Decidable] = {}


def register(decidable: Decidable) -> None:
    _TYPES[decidable.name] = decidable


def registered() -> list[Decidable]:
    return list(_TYPES.values())
