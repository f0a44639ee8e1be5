"""Which attendance date each punch belongs to, and which punches a date can reach."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from .inputs import DayPlan, PunchIn, check_aware
from .layout import CACHE_MAX, layout, to_us

_ONE_DAY: Final = timedelta(days=1)
_OFFSETS: Final = tuple(timedelta(days=offset) for offset in range(-2, 3))
_REACH_MARGIN: Final = timedelta(hours=2)


def affected_dates(punch_at: datetime, tz: ZoneInfo, day_boundary_hour: int) -> set[date]:
    """Attendance dates whose result a punch may change: local date L and L - 1, L + 1.

    L - 1 covers night shifts and the day boundary hour; L + 1 covers a shift starting just
    after midnight whose check-in window opens the evening before (e.g. 00:00-08:00 with a
    120-minute early window takes a 23:00 punch). Shift validation keeps every window within
    one day either side, so no other date can be touched. ``day_boundary_hour`` is accepted
    for symmetry with the plan; it only ever selects L or L - 1, both already included.
    """
    check_aware("punch_at", punch_at)
    if not 0 <= day_boundary_hour <= 23:
        raise ValueError("day_boundary_hour must be an hour from 0 to 23")
    local = punch_at.astimezone(tz).date()
    return {local - _ONE_DAY, local, local + _ONE_DAY}


def punch_reach(plans: Iterable[DayPlan]) -> tuple[datetime, datetime] | None:
    """The instants (UTC) within which lies every punch that can belong to these dates.

    A punch belongs to date D only inside one of D's windows, or, in no window, inside D's
    day-boundary span [D h:00, D + 1 h:00) local time (``attendance_date_for``); the hull
    of both, over the plans given, widened by two hours for zone transitions. The hours
    and zones are those of the plans given: an employee's plans share their group's. A
    recompute of these dates reads only the punches in reach instead of three days.
    None without plans.
    """
    lo: datetime | None = None
    hi: datetime | None = None
    seen: set[int] = set()
    for plan in plans:
        if id(plan) in seen:
            continue
        seen.add(id(plan))
        hour = plan.day_boundary_hour
        first = datetime.combine(plan.day, time(hour)).replace(tzinfo=plan.tz).astimezone(UTC)
        following = plan.day + _ONE_DAY
        last = datetime.combine(following, time(hour)).replace(tzinfo=plan.tz).astimezone(UTC)
        found = layout(plan)
        if found is not None and found.wins:
            first = min(first, found.wins[0].start)
            last = max(last, max(w.end for w in found.wins))
        lo = first if lo is None else min(lo, first)
        hi = last if hi is None else max(hi, last)
    if lo is None or hi is None:
        return None
    return lo - _REACH_MARGIN, hi + _REACH_MARGIN


def boundary_date(at: datetime, tz: tzinfo, hour: int) -> date:
    """The date a punch in no window belongs to: its local date, or the day before when
    it falls before the day boundary hour."""
    local = at.astimezone(tz)
    return local.date() - _ONE_DAY if local.hour < hour else local.date()


def attendance_date_for(punch_at: datetime, plans_by_date: Mapping[date, DayPlan]) -> date:
    """The one attendance date a punch belongs to.

    1. The date whose plan has a punch window containing it (a 02:00 punch belongs to the
       previous day's night shift). The windows of consecutive dates do not overlap when
       the plans were cut by ``split_overlaps``; when two dates' windows still both
       contain it (uncut plans, or shifts that overlap themselves), the earlier date wins.
    2. Otherwise the day boundary hour decides: local time before the boundary hour belongs
       to the previous date. The zone and hour are those of the plan for the punch's local
       date (else the previous date's plan, else any plan; with no plans at all, the
       punch's own zone and hour 0). The date returned may have no plan in the mapping.
    """
    check_aware("punch_at", punch_at)
    reference = next(iter(plans_by_date.values()), None)
    if reference is not None and all(_own_date(p, reference.tz) for p in plans_by_date.values()):
        return punch_at.astimezone(reference.tz).date()  # as partition_punches: day shifts
    return _date_for(punch_at, to_us(punch_at), plans_by_date, reference)


def _date_for(
    punch_at: datetime,
    at_us: int,
    plans_by_date: Mapping[date, DayPlan],
    reference: DayPlan | None,
) -> date:
    local = punch_at.astimezone(reference.tz).date() if reference else punch_at.date()
    # Two days either side also covers plans in other zones than the reference one.
    for offset in _OFFSETS:
        candidate = local + offset
        plan = plans_by_date.get(candidate)
        if plan is None:
            continue
        found = layout(plan)
        if found is None:
            continue
        for start, end, inclusive in found.bounds_us:
            if start <= at_us and (at_us < end or (inclusive and at_us == end)):
                return candidate
    plan = plans_by_date.get(local) or plans_by_date.get(local - _ONE_DAY) or reference
    if plan is None:
        return boundary_date(punch_at, punch_at.tzinfo or UTC, 0)
    return boundary_date(punch_at, plan.tz, plan.day_boundary_hour)


_OWN_DATE: dict[int, tuple[DayPlan, tzinfo, bool]] = {}


def _own_date(plan: DayPlan, tz: tzinfo) -> bool:
    """The plan is in zone ``tz``, its boundary hour is 0 and every window of it lies
    within its own local date [D 00:00, D + 1 00:00) (cached by the plan's identity)."""
    entry = _OWN_DATE.get(id(plan))
    if entry is not None and entry[0] is plan and entry[1] is tz:
        return entry[2]
    own = plan.tz is tz and plan.day_boundary_hour == 0
    found = layout(plan) if own else None
    if found is not None and found.wins:
        midnight = datetime.combine(plan.day, time()).replace(tzinfo=tz).astimezone(UTC)
        following = plan.day + _ONE_DAY
        next_midnight = datetime.combine(following, time()).replace(tzinfo=tz).astimezone(UTC)
        last = max(found.wins, key=lambda w: (w.end, w.end_inclusive))
        own = found.wins[0].start >= midnight and (
            last.end < next_midnight or (last.end == next_midnight and not last.end_inclusive)
        )
    if len(_OWN_DATE) >= CACHE_MAX:
        _OWN_DATE.clear()
    _OWN_DATE[id(plan)] = (plan, tz, own)
    return own


def _sort_key(item: tuple[int, str, PunchIn]) -> tuple[int, str]:
    return item[0], item[1]


def partition_punches(
    plans: Sequence[DayPlan], punches: Iterable[PunchIn]
) -> dict[date, list[PunchIn]]:
    """Assign every punch (voided ones too) to exactly one attendance date.

    See ``attendance_date_for`` for the rule. Every plan's date is a key (possibly with an
    empty list); a punch in no window near the edge of the range may create a key without
    a plan. Lists are sorted by (instant, str(id)).
    """
    by_date: dict[date, DayPlan] = {}
    for plan in plans:
        if plan.day in by_date:
            raise ValueError(f"partition_punches: two plans for {plan.day.isoformat()}")
        by_date[plan.day] = plan
    result: dict[date, list[PunchIn]] = {day: [] for day in sorted(by_date)}
    reference = next(iter(by_date.values()), None)
    keyed = []
    for punch in punches:
        at = punch.at
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            check_aware("punch_at", at)
        keyed.append((to_us(at), str(punch.id), punch))
    keyed.sort(key=_sort_key)
    extra = False
    # Day shifts: when every plan keeps its windows within its own date, in one zone, with
    # the boundary at midnight, a punch belongs to its local date (the rule gives nothing
    # else: no other date's window reaches it, and the boundary falls back to that date).
    local_tz = reference.tz if reference is not None else None
    if local_tz is not None and all(_own_date(plan, local_tz) for plan in by_date.values()):
        for _at_us, _id, punch in keyed:
            day = punch.at.astimezone(local_tz).date()
            bucket = result.get(day)
            if bucket is None:
                bucket = result[day] = []
                extra = True
            bucket.append(punch)
        return dict(sorted(result.items())) if extra else result
    for at_us, _id, punch in keyed:
        day = _date_for(punch.at, at_us, by_date, reference)
        bucket = result.get(day)
        if bucket is None:
            bucket = result[day] = []
            extra = True
        bucket.append(punch)
    return dict(sorted(result.items())) if extra else result
