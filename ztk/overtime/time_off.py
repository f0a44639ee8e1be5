"""Approved overtime converted to time off in lieu (调休): the leave app's ledger.

The 调休 balance is the leave type ``compensatory`` (unit: hours) of ``ztk.leave``; a
credit is posted once per request (source ``overtime:<id>``), its reversal once too
(``overtime:<id>:reversal``), so a retry never credits twice.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from ztk.core.errors import DomainError
from ztk.leave import services as leave
from ztk.leave.models import LeaveType, Movement
from ztk.leave.selectors import balance_of

log = logging.getLogger(__name__)

COMPENSATORY = "compensatory"
TIME_OFF_USED = "time_off_used"
TIME_OFF_USED_MESSAGE = _(
    "The time off in lieu (调休) credited for this overtime has already been taken: "
    "cancelling it would leave %(balance)s h of 调休. Ask HR to adjust the balance first."
)
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


def _used(balance: Any, minutes: int) -> DomainError:
    return DomainError(
        TIME_OFF_USED,
        TIME_OFF_USED_MESSAGE % {"balance": balance - hours(minutes)},
        details={"balance": str(balance), "credited_hours": str(hours(minutes))},
    )


def refuse_if_used(request: Any, minutes: int) -> None:
    """Refuse (``time_off_used``) cancelling an overtime whose ``minutes`` of credited 调休
    are no longer on the balance, unless the 调休 type allows a negative balance (then the
    reversal makes it negative, as HR chose for that type)."""
    if minutes <= 0:
        return
    kind = LeaveType.objects.filter(code=COMPENSATORY).first()
    if kind is None or kind.allow_negative:
        return
    balance = balance_of(request.employee_id, kind)
    if balance < hours(minutes):
        raise _used(balance, minutes)


def debit(request: Any, minutes: int, actor: Any) -> None:
    """Take back what ``credit`` gave for a cancelled request; refused with
    ``time_off_used`` when the time off was already taken (the type allows no negative
    balance), which refuses the cancellation's approval (nothing changes)."""
    if minutes <= 0:
        return
    try:
        leave.ledger_debit(
            employee=request.employee_id,
            leave_type=COMPENSATORY,
            amount=hours(minutes),
            source=f"overtime:{request.pk}:reversal",
            kind=Movement.ADJUSTMENT,
            note=f"撤销加班 #{request.pk}",
            actor=actor,
        )
    except DomainError as error:
        if error.code == leave.INSUFFICIENT_BALANCE:
            raise _used(balance_of(request.employee_id, COMPENSATORY), minutes) from error
        raise
