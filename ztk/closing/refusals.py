"""The close's refusals: stable codes (tests and API clients import these) and messages."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from ztk.core.errors import DomainError

PENDING_CORRECTIONS = "pending_corrections"
UNFINALISED_DAYS = "unfinalised_days"
PERIOD_NOT_OVER = "period_not_over"
ALREADY_CLOSED = "already_closed"
NOT_CLOSED = "not_closed"
REASON_REQUIRED = "reason_required"
BAD_PERIOD = "bad_period"
CONFIRMATION_REQUIRED = "confirmation_required"
CONFIRMATION_STALE = "confirmation_stale"

MESSAGES = {
    PENDING_CORRECTIONS: _(
        "%(n)d correction requests for this period are still pending: decide them first, "
        "or close the period and cancel them."
    ),
    UNFINALISED_DAYS: _(
        "%(n)d employee-days of this period are not final yet: finalise the past days first."
    ),
    PERIOD_NOT_OVER: _("The period ends on %(end)s: it can be closed from the day after."),
    ALREADY_CLOSED: _("The period %(start)s – %(end)s is already closed."),
    NOT_CLOSED: _("The period %(start)s – %(end)s is not closed."),
    REASON_REQUIRED: _("Give the reason for reopening the period."),
    BAD_PERIOD: _("No attendance period starts on %(start)s."),
    CONFIRMATION_REQUIRED: _(
        "Review what is still open in the period and confirm the close on the confirmation page."
    ),
    CONFIRMATION_STALE: _(
        "Something in the period changed since you reviewed it: look at the list again "
        "and confirm anew."
    ),
}


def refusal(code: str, **params: Any) -> DomainError:
    """The DomainError for `code`, its message filled in and its parameters as details."""
    message = MESSAGES[code] % params if params else MESSAGES[code]
    details = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()}
    return DomainError(code, message, details=details or None)
