"""按假别: the monthly summary's leave-by-type columns, from approved absence requests.

The columns follow HR's leave types (``leave.LeaveType``): every active type, and every
inactive type that still has approved leave in the period, in HR's order (``order``, then
code), each in the type's own unit — ``leave_<code>_days`` for a day or half-day type,
``leave_<code>_hours`` for an hour type (调休 is ``leave_compensatory_hours``). Then
``leave_outing_days`` and ``leave_trip_days``: outings and trips asked in days (those asked
in hours are already in ``outing_hours``/``trip_hours``). Labels are the type's names with
the unit: 婚假(天) / Marriage leave (days).

Each approved request (not a cancellation; a cancelled request is no longer approved)
counts the covered dates that fall inside the period: asked in days or half days, 1 per
date, 0.5 on a first or last date taken as a morning or afternoon; asked in hours, the
request's own amount when all its dates are in the period, otherwise the covered hours of
the dates inside, rounded up to the half hour (as ``leave.coverage`` counts them).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from ztk.leave.models import AbsenceRequest, Kind, LeaveType, Part, Status, Unit

from . import columns as C

# "Time off in lieu (调休)" → "Time off in lieu": the Chinese name in brackets is dropped
# from the English label (the Chinese header has it already).
_CJK_BRACKETS = re.compile(r"\s*\([^)]*[^\x00-\x7f][^)]*\)\s*$")


def _approved(start: date, end: date) -> QuerySet[AbsenceRequest]:
    return AbsenceRequest.objects.filter(
        status=Status.APPROVED, cancels__isnull=True, start_date__lte=end, end_date__gte=start
    )


def leave_type_columns(start: date, end: date) -> dict[str, C.Column]:
    """{type code: its column} for the period [start, end], in HR's order (one query)."""
    used = Exists(_approved(start, end).filter(kind=Kind.LEAVE, leave_type_id=OuterRef("pk")))
    types = LeaveType.objects.filter(Q(active=True) | used).order_by("order", "code")
    return {
        code: C.leave_type_column(code, unit == Unit.HOUR, zh, _CJK_BRACKETS.sub("", en) or en)
        for code, unit, zh, en in types.values_list("code", "unit", "name_zh", "name_en")
    }


def leave_by_type(
    employees: QuerySet[Any] | Iterable[int], start: date, end: date, columns: dict[str, C.Column]
) -> dict[int, dict[str, float]]:
    """{employee_id: {column key: amount}} for the period [start, end] (one query): the
    leave types' ``columns`` ({code: column}, ``leave_type_columns``) and outing / trip days.
    ``employees``: their ids, or a query of them (``Employee.objects.values("pk")``)."""
    ids = employees if isinstance(employees, QuerySet) else list(employees)
    out: dict[int, dict[str, float]] = defaultdict(dict)
    by_type = {code: column.key for code, column in columns.items()}
    rows = _approved(start, end).filter(employee_id__in=ids).values_list(
        "employee_id", "kind", "leave_type__code", "start_date", "end_date", "start_part",
        "end_part", "start_at", "amount", "intervals",
    )  # fmt: skip
    for emp, kind, code, first, last, first_part, last_part, at, amount, raw in rows:
        hours = at is not None
        if kind == Kind.OUTING:
            key = None if hours else "leave_outing_days"
        elif kind == Kind.TRIP:
            key = None if hours else "leave_trip_days"
        else:
            key = by_type.get(code)
        if key is None:
            continue
        days = [(date.fromisoformat(i[2]), i[0], i[1]) for i in raw]
        inside = [d for d in days if start <= d[0] <= end]
        if not inside:
            continue
        if hours:
            if len(inside) == len(days):
                value = Decimal(amount)
            else:
                value = Decimal(0)
                for _day, s, e in inside:
                    span = datetime.fromisoformat(e) - datetime.fromisoformat(s)
                    value += Decimal(math.ceil(span.total_seconds() / 1800)) / 2
        else:
            value = Decimal(0)
            for day, _s, _e in inside:
                half = (day == first and first_part != Part.FULL) or (
                    day == last and last_part != Part.FULL
                )
                value += Decimal("0.5") if half else Decimal(1)
        out[emp][key] = out[emp].get(key, 0.0) + float(value)
    return out
