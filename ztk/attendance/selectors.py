"""Reads of attendance results, shared by pages and the API."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet

from ztk.core.errors import DomainError, NotFoundError
from ztk.org.models import Employee
from ztk.org.zones import employee_zone
from ztk.punches.models import Punch

from .models import AttendanceDay

MAX_RANGE_DAYS = 93


def punch_photo_for(user: Any, punch_id: int) -> Punch:
    """A punch with a photo that `user` may see (whoever may see the employee's days);
    NotFoundError for every other case, so a photo's existence is not revealed."""
    punch = Punch.objects.select_related("employee").filter(pk=punch_id).exclude(photo="").first()
    if punch is None or not user.has_perm("org.view_employee_profile", punch.employee):
        raise NotFoundError()
    return punch


def check_range(start: date, end: date) -> None:
    from django.utils.translation import gettext_lazy as _

    if start.year < 2000 or end.year > 2100:
        raise DomainError("bad_range", _("Dates must lie between the years 2000 and 2100."))
    if end < start:
        raise DomainError("bad_range", _("The end date is before the start date."))
    if (end - start).days >= MAX_RANGE_DAYS:
        raise DomainError(
            "range_too_long", _("Ask for at most %(n)d days at a time.") % {"n": MAX_RANGE_DAYS}
        )


def attendance_days(*, employee: Employee, start: date, end: date) -> QuerySet[AttendanceDay]:
    return AttendanceDay.objects.filter(employee=employee, day__gte=start, day__lte=end).order_by(
        "day"
    )


def team_days(*, employees: QuerySet[Employee], start: date, end: date) -> QuerySet[AttendanceDay]:
    return (
        AttendanceDay.objects.filter(employee__in=employees, day__gte=start, day__lte=end)
        .select_related("employee")
        .order_by("employee__employee_no", "day")
    )


def punches_between(*, employee: Employee, start: date, end: date) -> QuerySet[Punch]:
    tz = employee_zone(employee)
    lo = datetime.combine(start, time.min, tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return (
        Punch.objects.filter(employee=employee, at__gte=lo, at__lt=hi)
        .select_related("void")
        .order_by("at")
    )


def punches_for_day(row: AttendanceDay) -> list[Punch]:
    """The punches the engine looked at for this day: its windows plus outside ones."""
    ids = {s["punch_id"] for s in row.slots if s.get("punch_id")} | set(row.outside_punch_ids)
    starts = [s["window_start"] for s in row.slots if s.get("window_start")]
    ends = [s["window_end"] for s in row.slots if s.get("window_end")]
    qs = Punch.objects.filter(employee_id=row.employee_id).select_related("void")
    if starts and ends:
        lo, hi = datetime.fromisoformat(min(starts)), datetime.fromisoformat(max(ends))
        from django.db.models import Q

        qs = qs.filter(Q(at__gte=lo, at__lte=hi) | Q(pk__in=ids))
    else:
        qs = qs.filter(pk__in=ids)
    return list(qs.order_by("at"))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])
