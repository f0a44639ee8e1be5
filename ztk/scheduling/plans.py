"""Day plans and exemptions in bulk: the scheduling tables turned into engine inputs.

Recomputing a month for every employee calls this with thousands of employees, so each
function runs a fixed number of queries whatever the number of employees and days, turns
each shift into an engine ``Shift`` once, and shares one ``DayPlan`` object between all
employees with the same plan on a day (the engine caches window layouts per plan).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from ztk import engine
from ztk.core.db import in_clause
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.zones import zone_names

from . import hooks
from .models import (
    SEGMENT_FIELDS,
    Exemption,
    RosterEntry,
    SegmentSpec,
    Shift,
    ShiftSegment,
    WeeklyPattern,
    WorkCalendarDay,
)


class PlanSubject(Protocol):
    """What build_plans needs of an employee: an Employee, or any row with these two."""

    @property
    def pk(self) -> int: ...

    @property
    def attendance_group_id(self) -> int | None: ...


__all__ = [
    "PlanSubject",
    "build_plans",
    "engine_shift",
    "exemptions_for",
    "plan_for",
    "to_engine_shift",
]

# Above this many ids a query filters by date range only and the rows are filtered in
# Python: SQLite limits the number of bound parameters, and a range scan is cheap anyway.
_MAX_IN_IDS = 900
# Exemption bounds are widened by this much so that every zone's local dates are seen.
_ZONE_MARGIN = timedelta(hours=15)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _by_ids(qs: QuerySet, field: str, ids: Sequence[int]) -> QuerySet:
    if len(ids) <= _MAX_IN_IDS:
        return qs.filter(**{f"{field}__in": ids})
    return qs


def engine_shift(
    *,
    code: str,
    name: str,
    kind: str,
    segments: Iterable[SegmentSpec],
    arrive_from: time | None = None,
    arrive_until: time | None = None,
    required_minutes: int | None = None,
) -> engine.Shift:
    """The engine's ``Shift`` for a shift definition; raises ValueError when it rejects it.

    Services build it before saving, so a shift the engine cannot evaluate never reaches
    the database.
    """
    flexible = None
    if kind == Shift.Kind.FLEXIBLE:
        flexible = engine.Flexible(
            arrive_from=arrive_from, arrive_until=arrive_until, required_minutes=required_minutes
        )
    return engine.Shift(
        code=code,
        name=name,
        segments=tuple(engine.Segment(**SegmentSpec.of(s).as_dict()) for s in segments),
        flexible=flexible,
    )


def to_engine_shift(shift: Shift) -> engine.Shift:
    """Convert a saved shift; uses prefetched ``segments`` when present."""
    segments = sorted(shift.segments.all(), key=lambda s: s.position)
    return engine_shift(
        code=shift.code,
        name=shift.name,
        kind=shift.kind,
        segments=[SegmentSpec.of(s) for s in segments],
        arrive_from=shift.arrive_from,
        arrive_until=shift.arrive_until,
        required_minutes=shift.required_minutes,
    )


# Engine shifts and day plans kept between calls, keyed by the rows they are made of, so
# a cached object is never stale whichever process changed the schedule: each call still
# reads the rows (cheap: values, no models) and only the engine objects are reused. Stable
# objects let the engine's per-(shift, date, zone) layouts serve every batch.
_SHIFTS: dict[tuple, Any] = {}
_PLANS: dict[tuple, Any] = {}
_CACHE_MAX = 50_000
_SHIFT_FIELDS = (
    "shift__code",
    "shift__name",
    "shift__kind",
    "shift__arrive_from",
    "shift__arrive_until",
    "shift__required_minutes",
)


def _forget(_changes: Any = None) -> None:
    """Drop the cached engine objects (a schedule changed; frees memory, not needed for
    correctness since the keys are the rows themselves)."""
    _SHIFTS.clear()
    _PLANS.clear()


def _engine_shifts(shift_ids: set[int]) -> dict[int, Any]:
    """Engine shifts by id, from one query over the segments joined to their shifts."""
    if not shift_ids:
        return {}
    by_shift: dict[int, list[tuple]] = {}
    for row in (
        ShiftSegment.objects.filter(shift_id__in=shift_ids)
        .order_by("shift_id", "position")
        .values_list("shift_id", *SEGMENT_FIELDS, *_SHIFT_FIELDS)
    ):
        by_shift.setdefault(row[0], []).append(row)
    missing = shift_ids - set(by_shift)
    if missing:
        codes = sorted(Shift.objects.filter(pk__in=missing).values_list("code", flat=True))
        raise ValueError(f"shifts without segments cannot be planned: {', '.join(codes)}")
    found: dict[int, Any] = {}
    count = len(SEGMENT_FIELDS)
    for pk, rows in by_shift.items():
        key = tuple(rows)
        shift = _SHIFTS.get(key)
        if shift is None:
            code, name, kind, arrive_from, arrive_until, required = rows[0][1 + count :]
            shift = engine_shift(
                code=code,
                name=name,
                kind=kind,
                segments=[
                    SegmentSpec.of(dict(zip(SEGMENT_FIELDS, row[1 : 1 + count], strict=True)))
                    for row in rows
                ],
                arrive_from=arrive_from,
                arrive_until=arrive_until,
                required_minutes=required,
            )
            if len(_SHIFTS) >= _CACHE_MAX:
                _forget()
            _SHIFTS[key] = shift
        found[pk] = shift
    return found


def _rows(sql: str, ids: Sequence[int], params: Sequence[Any]) -> list[tuple]:
    """Run ``sql`` with ``{ids}`` replaced by ``employee_id IN (...)`` over ``ids`` (at
    most _MAX_IN_IDS of them, see _by_ids), ids first then ``params``."""
    from django.db import connection

    clause, id_params = in_clause("employee_id", ids)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=clause), [*id_params, *params])
        return cursor.fetchall()


def _aware(value: Any) -> datetime:
    """A stored instant from a raw query as an aware datetime (SQLite: naive UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _group_zones(
    employees: Sequence[PlanSubject], known: Mapping[int | None, tuple[str, int]] | None = None
) -> dict[int | None, tuple[str, int]]:
    """(time zone, day boundary hour) per attendance group id; None for "no group".

    ``known`` are zones the caller already read (no query for those groups).
    """
    found: dict[int, tuple[str | None, int]] = {}
    group_ids = {e.attendance_group_id for e in employees if e.attendance_group_id is not None}
    if known:
        found.update((g, zone) for g, zone in known.items() if g is not None and g in group_ids)
        group_ids -= set(found)
    if group_ids:
        for pk, tz, hour in AttendanceGroup.objects.filter(pk__in=group_ids).values_list(
            "pk", "time_zone", "day_boundary_hour"
        ):
            found[pk] = (tz, hour)
    no_group = any(e.attendance_group_id is None for e in employees)
    if no_group and known and None in known:
        found_none: str | None = known[None][0]
    else:
        found_none = None
    # The one zone rule (ztk.org.zones): a group without a usable zone, or no group, has
    # the company's.
    names = zone_names([tz for tz, _hour in found.values()] + ([found_none] if no_group else []))
    zones: dict[int | None, tuple[str, int]] = {
        g: (names[tz], hour) for g, (tz, hour) in found.items()
    }
    if no_group:
        zones[None] = (names[found_none], 0)
    return zones


def _makeup_shift_id(pattern: WeeklyPattern, weekday: int) -> int | None:
    """The shift of a make-up working day (调休).

    The pattern's default workday shift; else that weekday's own shift (a group that works
    Saturdays); else Monday's, else the first of Tuesday–Friday that has one.
    """
    for candidate in (
        pattern.default_workday_shift_id,
        pattern.shift_id_for(weekday),
        *(pattern.shift_id_for(i) for i in range(5)),
    ):
        if candidate is not None:
            return candidate
    return None


def build_plans(
    employees: Iterable[PlanSubject],
    start: date,
    end: date,
    *,
    zones: Mapping[int | None, tuple[str, int]] | None = None,
) -> dict[tuple[int, date], engine.DayPlan]:
    """The plan of every employee on every date in [start, end] (both inclusive).

    ``employees`` need only ``pk`` and ``attendance_group_id``. ``zones``: the (time zone,
    day boundary hour) of groups the caller has already read, to save that query.

    rules.md "Day plan": a roster entry wins; otherwise the weekly pattern version in force
    on the date, adjusted by the work calendar when the pattern follows it (holiday → kind
    "holiday" with no shift; make-up working day → ``_makeup_shift_id``); no shift → "rest".
    A roster rest day that falls on a holiday is reported as "holiday". Employees without
    an attendance group have only their roster entries, in the company's time zone.
    Employment dates are not applied here: callers skip days before hire or after leave.
    Each employee's plans are cut where the windows of consecutive dates would overlap
    (``engine.split_overlaps``; the dates just outside [start, end] are planned for it),
    so every caller matches punches and checks corrections with the same windows.

    Queries: groups, patterns, rosters, calendar, segments with their shifts (+ company
    when some employee has no group) — at most six, whatever the number of employees and
    days.
    """
    employees = list(employees)
    if not employees or end < start:
        return {}
    # One date more on each side: the windows of start and end depend on their neighbours.
    outer_start, outer_end = start - timedelta(days=1), end + timedelta(days=1)
    employee_ids = [e.pk for e in employees]
    wanted = set(employee_ids)
    zones = _group_zones(employees, zones)
    group_ids = [g for g in zones if g is not None]

    versions: dict[int, list[WeeklyPattern]] = defaultdict(list)
    if group_ids:
        names = [f.attname for f in WeeklyPattern._meta.concrete_fields]
        for row in (
            WeeklyPattern.objects.filter(group_id__in=group_ids, effective_from__lte=outer_end)
            .order_by("group_id", "effective_from")
            .values_list(*names)
        ):
            pattern = WeeklyPattern.from_db(None, names, row)
            versions[pattern.group_id].append(pattern)
    version_starts = {g: [p.effective_from for p in ps] for g, ps in versions.items()}

    rosters: dict[tuple[int, date], int | None] = {}
    if len(employee_ids) <= _MAX_IN_IDS:
        # Raw: the ORM spends more time compiling a long IN list than SQLite running it.
        from django.db import connection

        ops = connection.ops
        roster_rows = _rows(
            f"SELECT employee_id, {ops.quote_name('date')}, shift_id "
            f"FROM {RosterEntry._meta.db_table} WHERE {{ids}} "
            f"AND {ops.quote_name('date')} >= %s AND {ops.quote_name('date')} <= %s",
            employee_ids,
            [ops.adapt_datefield_value(outer_start), ops.adapt_datefield_value(outer_end)],
        )
    else:
        roster_rows = (
            RosterEntry.objects.filter(date__gte=outer_start, date__lte=outer_end)
            .order_by()
            .values_list("employee_id", "date", "shift_id")
        )
    for employee_id, day, shift_id in roster_rows:
        if employee_id in wanted:
            if not isinstance(day, date):
                day = date.fromisoformat(str(day))
            rosters[(employee_id, day)] = shift_id

    calendar = {
        day: (kind, statutory)
        for day, kind, statutory in WorkCalendarDay.objects.filter(
            date__gte=outer_start, date__lte=outer_end
        )
        .order_by()
        .values_list("date", "kind", "statutory")
    }

    shift_ids = {s for s in rosters.values() if s is not None}
    for patterns in versions.values():
        for pattern in patterns:
            shift_ids |= pattern.shift_ids()
    shifts = _engine_shifts(shift_ids)

    days = [outer_start + timedelta(days=i) for i in range((outer_end - outer_start).days + 1)]
    inner = days[1:-1]  # [start, end]
    shared: dict[tuple[int | None, date, str, int | None, bool], Any] = {}

    def plan(group_id: int | None, day: date, kind: str, shift_id: int | None, statutory: bool):
        key = (group_id, day, kind, shift_id, statutory)
        found = shared.get(key)
        if found is None:
            tz_name, boundary = zones[group_id]
            shift = shifts[shift_id] if shift_id is not None else None
            # The same objects from call to call while the shift's rows are unchanged.
            lasting = (day, kind, id(shift), tz_name, boundary, statutory)
            entry = _PLANS.get(lasting)
            if entry is not None and entry[0] is shift:
                found = entry[1]
            else:
                found = engine.DayPlan(
                    day=day,
                    tz=_zone(tz_name),
                    kind=kind,
                    shift=shift,
                    day_boundary_hour=boundary,
                    statutory=statutory,
                )
                if len(_PLANS) >= _CACHE_MAX:
                    _forget()
                _PLANS[lasting] = (shift, found)
            shared[key] = found
        return found

    # Per group and day: (pattern kind, pattern shift, calendar-says-holiday, statutory).
    group_days: dict[int | None, list[tuple[str, int | None, bool, bool]]] = {}
    for group_id in zones:
        per_day = []
        patterns = versions.get(group_id, [])
        starts = version_starts.get(group_id, [])
        for day in days:
            index = bisect.bisect_right(starts, day) - 1
            pattern = patterns[index] if index >= 0 else None
            use_calendar = pattern.use_work_calendar if pattern is not None else True
            shift_id = pattern.shift_id_for(day.weekday()) if pattern is not None else None
            marked, statutory = calendar.get(day, (None, False)) if use_calendar else (None, False)
            if marked == WorkCalendarDay.Kind.HOLIDAY:
                per_day.append(("holiday", None, True, statutory))
                continue
            if marked == WorkCalendarDay.Kind.WORKDAY and pattern is not None:
                shift_id = _makeup_shift_id(pattern, day.weekday())
            per_day.append(("work" if shift_id is not None else "rest", shift_id, False, False))
        group_days[group_id] = per_day

    # An employee without roster entries has the group's plans: one list per group.
    group_plans = {
        group_id: engine.split_overlaps(
            plan(group_id, day, kind, shift_id, statutory)
            for day, (kind, shift_id, _holiday, statutory) in zip(days, per_day, strict=True)
        )[1:-1]
        for group_id, per_day in group_days.items()
    }
    rostered = {employee_id for employee_id, _day in rosters}
    plans: dict[tuple[int, date], Any] = {}
    for employee in employees:
        group_id = employee.attendance_group_id
        pk = employee.pk
        if pk not in rostered:
            plans.update(zip([(pk, day) for day in inner], group_plans[group_id], strict=True))
            continue
        own = []
        for day, (kind, shift_id, holiday, statutory) in zip(
            days, group_days[group_id], strict=True
        ):
            if (pk, day) in rosters:
                shift_id = rosters[(pk, day)]
                kind = "work" if shift_id is not None else ("holiday" if holiday else "rest")
            # A roster shift on a holiday is a work day: its overtime is weekday overtime.
            own.append(plan(group_id, day, kind, shift_id, statutory and kind == "holiday"))
        plans.update(
            zip([(pk, day) for day in inner], engine.split_overlaps(own)[1:-1], strict=True)
        )
    return plans


def plan_for(employee: Employee, day: date) -> engine.DayPlan:
    """One employee's plan on one date (for pages; use ``build_plans`` for many)."""
    return build_plans([employee], day, day)[(employee.pk, day)]


def exemptions_for(
    employee_ids: Iterable[int],
    start: date,
    end: date,
    *,
    zones: Mapping[int, str | None] | None = None,
) -> dict[tuple[int, date], list[engine.Exemption]]:
    """Active (not voided) exemptions per (employee id, attendance date) in [start, end].

    An exemption is listed under every attendance date whose slots it may cover: the local
    dates it touches in the employee's zone, and the day before the first of them (a night
    shift's check-out lies on the next calendar day). The engine ignores an exemption that
    covers none of a day's slots, so listing it under a neighbour is harmless.
    Two queries (zones, exemptions) whatever the number of employees; one when the caller
    passes ``zones``: each employee's group time zone, None for "no group" (the company's).
    """
    ids = sorted(set(employee_ids))
    if not ids or end < start:
        return {}
    wanted = set(ids)

    if zones is not None and wanted <= zones.keys():
        zone_of = {pk: zones[pk] for pk in ids}
    else:
        zone_rows = _by_ids(Employee.objects.order_by(), "pk", ids).values_list(
            "pk", "attendance_group__time_zone"
        )
        zone_of = {pk: tz for pk, tz in zone_rows if pk in wanted}
    names = zone_names(zone_of.values())
    zone_of = {pk: names[tz] for pk, tz in zone_of.items()}

    lower = datetime.combine(start, time.min, tzinfo=UTC) - _ZONE_MARGIN
    upper = datetime.combine(end + timedelta(days=2), time.min, tzinfo=UTC) + _ZONE_MARGIN
    if len(ids) <= _MAX_IN_IDS:
        # Raw: the ORM spends more time compiling a long IN list than SQLite running it.
        from django.db import connection

        ops = connection.ops
        q_start, q_end = ops.quote_name("start"), ops.quote_name("end")
        rows = [
            (employee_id, _aware(ex_start), _aware(ex_end), kind)
            for employee_id, ex_start, ex_end, kind in _rows(
                f"SELECT employee_id, {q_start}, {q_end}, kind FROM {Exemption._meta.db_table} "
                f"WHERE {{ids}} AND voided_at IS NULL AND {q_start} < %s "
                f"AND {q_end} > %s ORDER BY {q_start}, id",
                ids,
                [ops.adapt_datetimefield_value(upper), ops.adapt_datetimefield_value(lower)],
            )
        ]
    else:
        rows = (
            Exemption.objects.order_by("start", "pk")
            .filter(voided_at__isnull=True, start__lt=upper, end__gt=lower)
            .values_list("employee_id", "start", "end", "kind")
        )
    result: dict[tuple[int, date], list[Any]] = defaultdict(list)
    for employee_id, ex_start, ex_end, kind in rows:
        if employee_id not in zone_of:
            continue
        tz = _zone(zone_of[employee_id])
        first = ex_start.astimezone(tz).date() - timedelta(days=1)
        last = (ex_end - timedelta(microseconds=1)).astimezone(tz).date()
        item = engine.Exemption(start=ex_start, end=ex_end, kind=kind)
        day = max(first, start)
        while day <= min(last, end):
            result[(employee_id, day)].append(item)
            day += timedelta(days=1)
    return dict(result)


hooks.connect(_forget)
