"""Approved overtime converted to time off in lieu (调休): the leave app's ledger.

The 调休 balance is the leave type ``compensatory`` (unit: hours) of ``ztk.leave``; a
credit is posted once per request (source ``overtime:<id>``), its reversal once too
(``overtime:<id>:reversal``), so a retry never credits twice.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ztk.core.errors import DomainError
from ztk.leave import services as leave
from ztk.leave.models import Movement

log = logging.getLogger(__name__)

COMPENSATORY = "compensatory"
_CENT = Decimal("0.01")


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(_CENT, rounding=ROUND_HALF_UP)


def credit(request: Any, minutes: int, actor: Any) -> int | None:
    """Credit ``minutes`` (as hours) of 调休 to the request's employee; the minutes
    credited (0 when nothing counted), or None when no 调休 balance exists (the type is
    missing or keeps no balance): nothing was credited, the request stays unsettled."""
    if minutes <= 0:
        return 0
    try:
        leave.ledger_credit(
            employee=request.employee_id,
            leave_type=COMPENSATORY,
            amount=hours(minutes),
            source=f"overtime:{request.pk}",
            kind=Movement.OVERTIME_CREDIT,
            effective=request.date,
            note=f"加班 #{request.pk} {request.date.isoformat()}",
            actor=actor,
        )
    except DomainError as error:
        if error.code in (leave.UNKNOWN_TYPE, leave.NOT_TRACKED):
            log.warning("overtime #%s: no 调休 balance (%s)", request.pk, error.code)
            return None
        raise
    return minutes


def debit(request: Any, minutes: int, actor: Any) -> None:
    """Take back what ``credit`` gave for a cancelled request; refused with
    ``insufficient_balance`` when the time off was already taken (the type allows no
    negative balance), which refuses the cancellation."""
    if minutes <= 0:
        return
    leave.ledger_debit(
        employee=request.employee_id,
        leave_type=COMPENSATORY,
        amount=hours(minutes),
        source=f"overtime:{request.pk}:reversal",
        kind=Movement.ADJUSTMENT,
        note=f"撤销加班 #{request.pk}",
        actor=actor,
    )
