"""Analytics trends (HR for everyone, department heads for their departments).

`GET /api/v1/analytics/trends?metric=&by=&interval=&from=&to=` → `{metric, by, interval,
from, to, points}`: the figures of ``ztk.oversight.trends.trends`` (the same numbers the
pages /hr/analytics/ draw; docs/analytics.md says what each one means). A metric, split,
period or range the selector cannot answer is refused with 422 and a stable code
(``analytics_bad_metric``, ``analytics_bad_by``, ``analytics_bad_period``,
``analytics_bad_range``, ``analytics_range_too_long``).

Reminders (issue 14 item 7): ``metric=reminder_punched`` — punch reminders sent and how
many were followed by the person's own punch on time in the slot's window (``n``, ``value``,
``late``, ``rate`` in %); ``metric=reminder_before_after`` (``by=all`` or ``group``, weeks
only) — per group two points, the weeks before and after its own switch-on date, with the
missed-punch rate, the change and whether the 30 % drop was reached; ``to`` is the day the
comparison is made on.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Field, Query, Router, Schema

from ztk.core.errors import PermissionDeniedError
from ztk.oversight import trends as t

from .schemas import ErrorOut, Text

router = Router(tags=["analytics"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class TrendFilter(Schema):
    metric: str = Text(
        ...,
        max_length=32,
        description="late, early, missing, absent, field, corrections, lead_time, "
        "reminder_punched, reminder_before_after",
    )
    by: str = Text(
        "all",
        max_length=32,
        description="all, department, group (corrections also: category, channel; "
        "reminder_before_after: all or group)",
    )
    interval: str = Text(
        "week",
        max_length=8,
        description="week (Monday) or month (reminder_before_after: week only)",
    )
    start: date | None = Field(None, alias="from", description="first day (inclusive)")
    end: date | None = Field(
        None,
        alias="to",
        description=f"last day (inclusive); at most {t.MAX_DAYS} days from `from` (a longer "
        f"range: 422 `{t.RANGE_TOO_LONG}`); for reminder_before_after the day the comparison "
        "is made on (whole weeks up to the Sunday before it, at most 8 each side)",
    )


class PointOut(Schema):
    period: date = Field(..., description="first day of the week (Monday) or month")
    key: str = Field(..., description="department / group / category code or channel; '' for all")
    label: str
    value: float = Field(
        ...,
        description="the count; for lead_time the p50 in hours; for reminder_punched the "
        "reminders followed by the person's own punch on time in the slot's window; for "
        "reminder_before_after the missing slots of the window",
    )
    days: int = Field(..., description="working employee-days (day metrics)")
    rate: float | None = Field(
        ...,
        description="value per 100 working days (reminder_punched: per 100 reminders sent)",
    )
    p90: float | None = Field(..., description="lead_time: the 90th percentile in hours")
    n: int = Field(..., description="lead_time: requests decided; reminder_punched: reminders sent")
    within_sla: float | None = Field(..., description="lead_time: share decided within the SLA")
    sla_days: int | None = Field(..., description="lead_time: the usual SLA in working days")
    late: int | None = Field(
        None, description="reminder_punched: reminders followed by a punch after the tolerance"
    )
    side: str | None = Field(
        None, description="reminder_before_after: 'before' or 'after' (period: its first Monday)"
    )
    since: date | None = Field(
        None, description="reminder_before_after: when the group switched reminders on"
    )
    change: float | None = Field(
        None, description="reminder_before_after: (after − before) / before, e.g. -0.35"
    )
    reached: bool | None = Field(
        None, description="reminder_before_after: whether the 30 % drop was reached"
    )


class TrendsOut(Schema):
    metric: str
    by: str
    interval: str
    start: date = Field(..., alias="from")
    end: date = Field(..., alias="to")
    points: list[PointOut]


@router.get(
    "/analytics/trends",
    response={200: TrendsOut, **ERRORS},
    by_alias=True,
    summary="Trend figures per week or month, by department, group, category or channel",
)
def analytics_trends(request, q: Query[TrendFilter]) -> dict[str, Any]:
    scope = t.scope_for(request.auth)
    if scope is None:
        raise PermissionDeniedError()
    points = t.trends(q.metric, by=q.by, period=q.interval, start=q.start, end=q.end, scope=scope)
    return {
        "metric": q.metric,
        "by": q.by,
        "interval": q.interval,
        "from": q.start,
        "to": q.end,
        "points": [p.as_dict() for p in points],
    }
