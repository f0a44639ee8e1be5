"""Cancelling an approved request (销假/撤销) is itself a request, decided on the same chain.

One owner for every request type that can be cancelled after approval (absences,
overtime): the request model has ``cancels`` (FK to itself, related name
``cancellations``), ``status`` and the route fields. The type's service asks
``refuse_uncancellable`` before it files the cancellation (a copy of the original with
``cancels`` set, routed like any request), and at the last approval calls
``finish_cancellation`` with its own ``undo`` (void exemptions and restore the balance;
stop counting the overtime and take back the 调休 credit).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError

from .registry import Decidable
from .services import end_route

NOT_APPROVED = "not_approved"
ALREADY_CANCELLING = "already_cancelling"
MESSAGES = {
    NOT_APPROVED: _("Only an approved request can be cancelled."),
    ALREADY_CANCELLING: _("A cancellation of this request is already waiting for approval."),
}
APPROVED, PENDING, CANCELLED = "approved", "pending", "cancelled"


def refuse_uncancellable(original: Any) -> None:
    """Refuse (``DomainError``, 422) asking to cancel `original` (locked by the caller):
    only an approved request that is not itself a cancellation, with no cancellation of it
    already waiting."""
    if original.status != APPROVED or original.cancels_id is not None:
        raise DomainError(NOT_APPROVED, MESSAGES[NOT_APPROVED], details={"status": original.status})
    if original.cancellations.filter(status=PENDING).exists():
        raise DomainError(ALREADY_CANCELLING, MESSAGES[ALREADY_CANCELLING])


def finish_cancellation(
    d: Decidable,
    cancellation: Any,
    *,
    actor: Any,
    now: datetime,
    undo: Callable[[Any, Any], None],
    snap: Callable[[Any], dict[str, Any]],
) -> Any:
    """The last approval of `cancellation`: the original (re-read under lock) must still
    be approved; `undo(original, cancellation)` reverses its effects (a refusal there
    refuses the approval: the caller's transaction rolls back); the original becomes
    cancelled (audited ``<prefix>.cancelled``) and the cancellation approved. Returns
    the original."""
    original = d.lock(cancellation.cancels_id)
    if original.status != APPROVED:
        raise DomainError(NOT_APPROVED, MESSAGES[NOT_APPROVED], details={"status": original.status})
    before = snap(original)
    undo(original, cancellation)
    original.status = CANCELLED
    original.save(update_fields=["status"])
    record(
        f"{d.audit_prefix}.cancelled",
        obj=original,
        actor=actor,
        before=before,
        after=snap(original),
        extra={"cancellation": cancellation.pk},
    )
    end_route(cancellation, APPROVED, actor, now)
    return original
