"""极速打卡 (quick punch): opening the app inside a punch area while a check-in window is
open punches at once, with a few seconds to undo (``punches.services.punch_undo``).

The punch store decides where (the group's switch, inside a punch area, never a field
punch); this module decides when, because only attendance knows today's slots: a check-in
window open now with no punch in it yet. The page asks `quick_punch_due` before it offers
the quick punch, and the API asks it again before punching, so a stale page cannot punch
outside a window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.core.errors import DomainError
from ztk.org.rules import employee_of
from ztk.org.zones import employee_zone
from ztk.punches.services import WebPunchOutcome, web_punch

from .models import AttendanceDay


def quick_punch_due(row: AttendanceDay | None, now: datetime) -> bool:
    """Whether a check-in window of the day `row` is open at `now` with no punch in it."""
    if row is None:
        return False
    for slot in row.slots or []:
        if slot.get("kind") != "in" or slot.get("punch_id") is not None:
            continue
        if slot.get("status") == "exempt":
            continue
        start, end = slot.get("window_start"), slot.get("window_end")
        if start and end and datetime.fromisoformat(start) <= now <= datetime.fromisoformat(end):
            return True
    return False


def quick_punch(
    *,
    actor: Any,
    latitude: float | None,
    longitude: float | None,
    accuracy_m: float | None = None,
    channel: str = "mobile",
    now: datetime | None = None,
) -> WebPunchOutcome:
    """The punch the app makes by itself on opening; refused (nothing written) when no
    check-in is due, the group has not switched quick punch on, or the person is outside
    every punch area."""
    now = now or timezone.now()
    employee = employee_of(actor)
    if employee is None:
        raise DomainError("no_employee", _("This account is not linked to an employee."))
    today = now.astimezone(employee_zone(employee)).date()
    row = AttendanceDay.objects.filter(employee=employee, day=today).first()
    if not quick_punch_due(row, now):
        raise DomainError("quick_not_due", _("No check-in is due now: tap the button to punch."))
    return web_punch(
        actor=actor,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        channel=channel,
        now=now,
        quick=True,
    )
