"""Turning punches into stored AttendanceDay rows: incremental, by range, and finalising."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from ztk.org.models import Employee
from ztk.punches.models import Punch

from . import engine
from .models import AttendanceDay, AttendancePeriod, PeriodStatus

log = logging.getLogger(__name__)

FINALISE_GRACE = timedelta(hours=2)
UPDATE_FIELDS = [
    "kind", "shift_code", "status", "provisional", "finalised", "worked_minutes", "late_count",
    "late_minutes", "serious_late_count", "early_count", "early_minutes", "missing_in_count",
    "missing_out_count", "absent_days", "corrected_count", "manual_count", "exempt_minutes",
    "slots", "notes", "outside_punch_ids", "computed_at",
]  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def slot_to_json(slot: engine.SlotResult) -> dict[str, Any]:
    return {
        "key": slot.key,
        "kind": slot.kind,
        "segment": slot.segment,
        "expected": _iso(slot.expected),
        "window_start": _iso(slot.window_start),
        "window_end": _iso(slot.window_end),
        "punch_id": slot.punch_id,
        "punch_at": _iso(slot.punch_at),
        "punch_source": slot.punch_source,
        "status": slot.status,
        "minutes": slot.minutes,
        "serious": slot.serious,
        "half_day_absent": slot.half_day_absent,
    }


# Encoders built once (json.dumps builds a new one per call when given options).
_dumps = json.JSONEncoder().encode
_dumps_u = json.JSONEncoder(ensure_ascii=False).encode

ROW_COLUMNS = ["employee_id", "day", *UPDATE_FIELDS]


def result_to_values(
    employee_id: int, result: engine.DayResult, *, finalised: bool, computed_at: datetime
) -> tuple:
    """One AttendanceDay row as a tuple in ROW_COLUMNS order (bulk upsert without models)."""
    return (
        employee_id,
        result.day,
        result.kind,
        result.shift_code or "",
        result.status,
        result.provisional,
        finalised,
        result.worked_minutes,
        result.late_count,
        result.late_minutes,
        result.serious_late_count,
        result.early_count,
        result.early_minutes,
        result.missing_in_count,
        result.missing_out_count,
        Decimal(str(result.absent_days)),
        result.corrected_count,
        result.manual_count,
        _dumps(dict(result.exempt_minutes_by_kind)) if result.exempt_minutes_by_kind else "{}",
        _dumps_u([slot_to_json(s) for s in result.slots]),
        _dumps_u(
            [{"code": n.code, "slot": n.slot, "params": _jsonable(n.params)} for n in result.notes]
        ),
        _dumps(list(result.outside_punch_ids)) if result.outside_punch_ids else "[]",
        computed_at,
    )


def _closed_ranges(
    group_ids: set[int], start: date, end: date
) -> dict[int, list[tuple[date, date]]]:
    closed: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for group_id, p_start, p_end in AttendancePeriod.objects.filter(
        group_id__in=group_ids, status=PeriodStatus.CLOSED, start__lte=end, end__gte=start
    ).values_list("group_id", "start", "end"):
        closed[group_id].append((p_start, p_end))
    return closed


def _in_closed(day: date, ranges: list[tuple[date, date]]) -> bool:
    return any(a <= day <= b for a, b in ranges)


def plans_tz(employee: Employee) -> ZoneInfo:
    group = employee.attendance_group
    return ZoneInfo(group.time_zone if group else "UTC")


def recompute(
    pairs: Iterable[tuple[int, date]],
    *,
    now: datetime | None = None,
    finalise: bool = False,
) -> int:
    """Recompute the given employee-days and upsert them; returns the number of rows written.

    Days in a closed period are left alone. `finalise` marks the days final (missing → absent).
    """
    by_employee: dict[int, set[date]] = defaultdict(set)
    for employee_id, day in pairs:
        by_employee[employee_id].add(day)
    return _recompute(by_employee, now=now or timezone.now(), finalise=finalise)


def recompute_punched(
    pairs: Iterable[tuple[int, date]], punch_ids: Iterable[int], *, now: datetime | None = None
) -> int:
    """Recompute, of the candidate employee-days `pairs`, only those new punches landed on.

    `pairs` are the candidate dates of the punches (``engine.affected_dates``: L - 1, L,
    L + 1); a punch changes the result of the one attendance date it is partitioned to and
    of no other, so the other candidates (whose inputs did not change) are skipped.
    """
    by_employee: dict[int, set[date]] = defaultdict(set)
    for employee_id, day in pairs:
        by_employee[employee_id].add(day)
    return _recompute(
        by_employee, now=now or timezone.now(), finalise=False, only_punches=set(punch_ids)
    )


def _recompute(
    by_employee: dict[int, set[date]],
    *,
    now: datetime,
    finalise: bool,
    only_punches: set[int] | None = None,
) -> int:
    from ztk.scheduling.plans import build_plans, exemptions_for

    if not by_employee:
        return 0
    start = min(min(days) for days in by_employee.values())
    end = max(max(days) for days in by_employee.values())
    employees = list(
        Employee.objects.select_related("attendance_group").filter(pk__in=by_employee.keys())
    )
    if not employees:
        return 0
    # Neighbouring days decide which day a punch near midnight belongs to.
    plans = build_plans(employees, start - timedelta(days=1), end + timedelta(days=1))
    exemptions = exemptions_for([e.pk for e in employees], start, end)
    group_ids = {e.attendance_group_id for e in employees if e.attendance_group_id}
    closed = _closed_ranges(group_ids, start, end)
    finalised_before = set(
        AttendanceDay.objects.filter(
            employee_id__in=by_employee.keys(), day__gte=start, day__lte=end, finalised=True
        ).values_list("employee_id", "day")
    )

    utc = ZoneInfo("UTC")
    lo = datetime.combine(start - timedelta(days=2), time.min, tzinfo=utc)
    hi = datetime.combine(end + timedelta(days=3), time.min, tzinfo=utc)
    punches: dict[int, list[engine.PunchIn]] = defaultdict(list)
    rows = (
        Punch.objects.filter(employee_id__in=by_employee.keys(), at__gte=lo, at__lt=hi)
        .values_list("employee_id", "id", "at", "source", "void__id")
        .order_by()
    )
    make_punch = engine.PunchIn
    for employee_id, punch_id, at, source, void_id in rows:
        punches[employee_id].append(make_punch(punch_id, at, source, void_id is not None))

    span = [start - timedelta(days=1) + timedelta(days=i) for i in range((end - start).days + 3)]
    no_exemptions: list[engine.Exemption] = []
    today_in: dict[str, date] = {}
    out: list[tuple] = []
    for employee in employees:
        pk = employee.pk
        wanted = by_employee[pk]
        ranges = closed.get(employee.attendance_group_id, [])
        employee_plans = [p for p in (plans.get((pk, d)) for d in span) if p is not None]
        buckets = engine.partition_punches(employee_plans, punches.get(pk, []))
        if only_punches is not None:
            wanted = {
                day for day in wanted if any(p.id in only_punches for p in buckets.get(day, ()))
            }
        group = employee.attendance_group
        tz_name = group.time_zone if group else "UTC"
        today = today_in.get(tz_name)
        if today is None:
            today = today_in[tz_name] = now.astimezone(ZoneInfo(tz_name)).date()
        for day in sorted(wanted):
            if day > today or (ranges and _in_closed(day, ranges)):
                continue
            plan = plans.get((pk, day))
            if plan is None:
                continue
            final = finalise or (pk, day) in finalised_before
            result = engine.evaluate_day(
                plan,
                buckets.get(day, ()),
                exemptions.get((pk, day), no_exemptions),
                as_of=None if final else now,
            )
            out.append(result_to_values(pk, result, finalised=final, computed_at=now))
    upsert_days(out)
    return len(out)


def upsert_days(rows: list[tuple]) -> None:
    """INSERT … ON CONFLICT DO UPDATE in one executemany: the ORM's bulk path costs 10× more."""
    if not rows:
        return
    table = AttendanceDay._meta.db_table
    columns = ", ".join(ROW_COLUMNS)
    placeholders = ", ".join(["%s"] * len(ROW_COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in UPDATE_FIELDS)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT (employee_id, day) DO UPDATE SET {updates}"
    )
    ops = connection.ops
    adapted = [
        (
            *r[:1],
            ops.adapt_datefield_value(r[1]),
            *r[2:15],
            ops.adapt_decimalfield_value(r[15], 3, 1),
            *r[16:22],
            ops.adapt_datetimefield_value(r[22]),
        )
        for r in rows
    ]
    with connection.cursor() as cursor:
        for i in range(0, len(adapted), 2000):
            cursor.executemany(sql, adapted[i : i + 2000])


def recompute_range(
    *,
    start: date,
    end: date,
    group_id: int | None = None,
    now: datetime | None = None,
    chunk: int = 500,
) -> int:
    """Recompute every active employee (of a group) for a date range, in chunks of employees."""
    qs = Employee.objects.filter(active=True)
    if group_id is not None:
        qs = qs.filter(attendance_group_id=group_id)
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    written = 0
    for i in range(0, len(ids), chunk):
        with transaction.atomic():
            written += recompute(((e, d) for e in ids[i : i + chunk] for d in days), now=now)
    return written


SCHEDULE_LOOKBACK_DAYS = 62


def recompute_schedule_changes(changes) -> None:
    """A shift, pattern, roster, calendar or exemption changed: recompute the open past.

    Runs after the schedule write commits (scheduling's hook); closed periods stay as they
    are, and days older than SCHEDULE_LOOKBACK_DAYS are left to `ztk recompute`.
    """
    from ztk.scheduling.selectors import affected_pairs

    today = timezone.localdate()
    pairs = affected_pairs(
        changes, lower=today - timedelta(days=SCHEDULE_LOOKBACK_DAYS), upper=today
    )
    pairs_list = sorted(pairs)
    for i in range(0, len(pairs_list), 20_000):
        with transaction.atomic():
            recompute(pairs_list[i : i + 20_000])
