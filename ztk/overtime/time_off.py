"""Approved overtime converted to time off in lieu (调休): the 调休 balance is the leave
app's ledger (``ztk.leave``, issue 15 item 2).

TODO(leave): the leave app with its balance ledger is not on main yet. Until it is, no
balance exists to credit: ``credit`` answers None, so the request stays "approved, not
settled" (the request page says the time off is not credited yet) and ``settle_due``
settles it once this module calls the ledger's credit service. Nothing here pretends
that a balance moved.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def credit(request: Any, minutes: int, actor: Any) -> int | None:
    """Credit ``minutes`` of 调休 to the request's employee; the minutes credited, or None
    when no balance ledger exists (nothing was credited)."""
    log.info("overtime #%s: no time-off ledger yet, %s min not credited", request.pk, minutes)
    return None


def debit(request: Any, minutes: int, actor: Any) -> None:
    """Take back what ``credit`` gave for a cancelled request."""
    if minutes:
        log.warning("overtime #%s: no time-off ledger to debit %s min from", request.pk, minutes)
