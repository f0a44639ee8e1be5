"""按假别: the monthly summary's leave-by-type columns, from approved absence requests.

Each approved request (not a cancellation; a cancelled request is no longer approved)
counts the covered dates that fall inside the period: for a day or half-day unit, 1 per
date, 0.5 on a first or last date taken as a morning or afternoon; for an hour unit the
request's own amount when all its dates are in the period, otherwise the covered hours of
the dates inside, rounded up to the half hour (as ``leave.coverage`` counts them).
Columns: ``leave_<code>_days`` for the default day types, ``leave_compensatory_hours``,
``leave_other_days`` (any other day or half-day type), ``leave_outing_days`` and
``leave_trip_days`` (outings and trips asked in days; those asked in hours are already in
``outing_hours``/``trip_hours``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from ztk.leave.models import AbsenceRequest, Kind, Part, Status, Unit

from . import columns as C

KEYS = C.FIGURES_KEYS_LEAVE
DAY_CODES = {"annual", "sick", "personal", "marriage", "maternity", "bereavement"}


def _key(kind: str, code: str | None, unit: str) -> str | None:
    if kind == Kind.OUTING:
        return "leave_outing_days" if unit != Unit.HOUR else None
    if kind == Kind.TRIP:
        return "leave_trip_days" if unit != Unit.HOUR else None
    if code in DAY_CODES:
        return f"leave_{code}_days"
    if code == "compensatory":
        return "leave_compensatory_hours"
    return "leave_other_days" if unit != Unit.HOUR else None


def leave_by_type(
    employee_ids: Iterable[int], start: date, end: date
) -> dict[int, dict[str, float]]:
    """{employee_id: {column key: amount}} for the period [start, end] (one query)."""
    ids = list(employee_ids)
    out: dict[int, dict[str, float]] = defaultdict(dict)
    if not ids:
        return out
    rows = AbsenceRequest.objects.filter(
        employee_id__in=ids,
        status=Status.APPROVED,
        cancels__isnull=True,
        start_date__lte=end,
        end_date__gte=start,
    ).values_list(
        "employee_id", "kind", "leave_type__code", "leave_type__unit", "start_date",
        "end_date", "start_part", "end_part", "start_at", "amount", "intervals",
    )  # fmt: skip
    for emp, kind, code, unit, first, last, first_part, last_part, at, amount, raw in rows:
        hours = at is not None
        unit = Unit.HOUR if hours else (unit or Unit.HALF_DAY)
        key = _key(kind, code, unit)
        if key is None:
            continue
        days = [(date.fromisoformat(i[2]), i[0], i[1]) for i in raw]
        inside = [d for d in days if start <= d[0] <= end]
        if not inside:
            continue
        if unit == Unit.HOUR:
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
