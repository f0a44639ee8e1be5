"""When may a past day be made final? Late uploads must never cause false absences."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from ztk.org.models import Employee

from .models import AttendanceDay, PendingRecompute
from .services import FINALISE_GRACE, recompute, recompute_range


def _day_end(row: AttendanceDay) -> datetime | None:
    ends = [s["window_end"] for s in row.slots if s.get("window_end")]
    return datetime.fromisoformat(max(ends)) if ends else None


# Who knows whether a group's terminals have uploaded since a moment: the terminals app,
# which sits above attendance, registers its answer when it starts (DevicesConfig.ready).
# Without it (no terminals app) no day is taken as surely complete before its grace ends.
TerminalsReportedAfter = Callable[[int | None, datetime], bool]
_reported_after: list[TerminalsReportedAfter] = []


def register_terminals_reported_after(check: TerminalsReportedAfter) -> None:
    """Called once by the terminals app; a second registration of the same check is a no-op."""
    if check not in _reported_after:
        _reported_after.append(check)


def _terminals_reported_after(group_id: int | None, moment: datetime) -> bool:
    """Every approved terminal of the group has uploaded after `moment` (none → False)."""
    return bool(_reported_after) and all(check(group_id, moment) for check in _reported_after)


def finalise_due(*, now: datetime | None = None, lookback_days: int = 7) -> int:
    """Make final every provisional day whose windows closed and whose data is surely in."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = (
        AttendanceDay.objects.filter(
            finalised=False, day__lt=today, day__gte=today - timedelta(days=lookback_days)
        )
        .select_related("employee")
        .only("employee_id", "day", "slots", "employee__attendance_group_id")
    )
    # Days whose punches still wait in the recompute queue are left for the next run.
    waiting = {
        (employee_id, day + timedelta(days=k))
        for employee_id, day in PendingRecompute.objects.values_list("employee_id", "day")
        for k in (-1, 0, 1)
    }
    due: list[tuple[int, date]] = []
    reported: dict[tuple[int | None, datetime], bool] = {}
    for row in rows.iterator(chunk_size=2000):
        if (row.employee_id, row.day) in waiting:
            continue
        end = _day_end(row)
        if end is None or now >= end + FINALISE_GRACE:
            due.append((row.employee_id, row.day))
            continue
        key = (row.employee.attendance_group_id, end)
        if key not in reported:
            reported[key] = _terminals_reported_after(*key)
        if now >= end and reported[key]:
            due.append((row.employee_id, row.day))
    written = 0
    for i in range(0, len(due), 5000):
        with transaction.atomic():
            written += recompute(due[i : i + 5000], now=now, finalise=True)
    return written


def refresh_recent(*, now: datetime | None = None, days: int = 2) -> int:
    """Materialise yesterday and today for everyone, so a person who never punched shows too."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return recompute_range(start=today - timedelta(days=days - 1), end=today, now=now)


def active_employee_count() -> int:
    return Employee.objects.filter(active=True).count()


__all__: list[Any] = ["finalise_due", "refresh_recent"]
