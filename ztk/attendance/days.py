"""The public day API: what every other app asks about an employee's attendance day.

attendance owns "the day" (docs/architecture.md): corrections, the HR desk, imports,
notifications and the pages ask here and nowhere else —

- ``employee_zone``: the employee's time zone (the one rule lives in ``ztk.org.zones``);
- ``closed_ranges`` / ``closed_days`` / ``closed_period`` / ``is_closed``: whether a day
  lies in a closed period of the employee's attendance group (月结);
- ``day_windows``: the punch window of each slot of the day's plan, as the engine matches
  punches with them — cut where they meet the neighbouring dates' windows (a night shift
  followed by an early shift, rules.md), so the correction check and the HR desk accept
  exactly the times the engine would give that slot;
- ``day_slots``: each slot's stored status with those windows;
- ``day_inputs`` / ``day_preview``: the engine's inputs for a day as the recompute reads
  them, and the day evaluated with extra hypothetical punches (nothing is written).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from django.utils import timezone

from ztk import engine
from ztk.org.models import Employee
from ztk.org.zones import employee_zone
from ztk.punches.models import Punch
from ztk.scheduling.plans import build_plans, exemptions_for, plan_for

from .models import AttendanceDay, AttendancePeriod, PeriodStatus

__all__ = [
    "DayInputs",
    "SlotInfo",
    "Window",
    "attendance_date_at",
    "closed_days",
    "closed_period",
    "closed_ranges",
    "day_inputs",
    "day_preview",
    "day_slots",
    "day_windows",
    "employee_zone",
    "in_ranges",
    "is_closed",
]

Range = tuple[date, date]


# --------------------------------------------------------------------------- closed periods


def closed_ranges(
    group_ids: Iterable[int | None], start: date, end: date
) -> dict[int | None, list[Range]]:
    """(first, last) day of every closed period of these groups that meets [start, end],
    by group id (no entry for None: without a group nothing is closed): one query, for
    callers that check many employee-days (``in_ranges``)."""
    ranges: dict[int | None, list[Range]] = defaultdict(list)
    ids = {g for g in group_ids if g is not None}
    if ids:
        for group_id, first, last in AttendancePeriod.objects.filter(
            group_id__in=ids, status=PeriodStatus.CLOSED, start__lte=end, end__gte=start
        ).values_list("group_id", "start", "end"):
            ranges[group_id].append((first, last))
    return ranges


def in_ranges(day: date, ranges: Sequence[Range]) -> bool:
    return any(first <= day <= last for first, last in ranges)


def closed_days(group_id: int | None, days: Iterable[date], *, lock: bool = False) -> set[date]:
    """The days among ``days`` that lie in a closed period of the group (None: no group,
    nothing is ever closed).

    ``lock`` (inside a transaction): the periods' rows are read locked, so a close that
    committed first is seen and a close that starts meanwhile waits for this transaction
    and then finds its requests pending. (Read before its transaction, a submission could
    leave a pending request in a period closed in between. A period row that does not
    exist yet cannot be locked; the close creates it and the periods page shows it, so it
    exists before anyone closes it.)
    """
    days = list(days)
    if group_id is None or not days:
        return set()
    periods = AttendancePeriod.objects.filter(
        group_id=group_id, start__lte=max(days), end__gte=min(days)
    )
    if lock:
        periods = periods.select_for_update().order_by("pk")
    ranges = [
        (start, end)
        for status, start, end in periods.values_list("status", "start", "end")
        if status == PeriodStatus.CLOSED
    ]
    return {d for d in days if in_ranges(d, ranges)}


def closed_period(employee: Employee, day: date) -> AttendancePeriod | None:
    """The closed period of the employee's group that covers ``day``, if any (for a
    refusal that names the period)."""
    if employee.attendance_group_id is None:
        return None
    return (
        AttendancePeriod.objects.filter(
            group_id=employee.attendance_group_id,
            status=PeriodStatus.CLOSED,
            start__lte=day,
            end__gte=day,
        )
        .order_by("start")
        .first()
    )


def is_closed(employee: Employee, day: date) -> bool:
    """Whether ``day`` lies in a closed period of the employee's group."""
    return bool(closed_days(employee.attendance_group_id, [day]))


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True, slots=True)
class Window:
    """One slot's punch window of the day's plan, in the employee's local time, cut where
    it meets the neighbouring dates' windows (as the engine matches punches)."""

    key: str
    kind: str
    segment: int
    expected: datetime
    start: datetime
    end: datetime
    end_inclusive: bool

    def contains(self, moment: datetime) -> bool:
        if self.end_inclusive:
            return self.start <= moment <= self.end
        return self.start <= moment < self.end


def _windows(plan: engine.DayPlan | None) -> list[Window]:
    if plan is None:
        return []
    return [
        Window(w.key, w.kind, w.segment, w.expected, w.start, w.end, w.end_inclusive)
        for w in engine.slot_windows(plan)
    ]


def day_windows(employee: Employee, day: date) -> list[Window]:
    """The slots' punch windows of the employee's plan for ``day`` (none on rest days and
    holidays). The plan is built with its neighbours (``build_plans``), so the windows of
    a night shift and the next date's early shift are already cut at their midpoint."""
    return _windows(plan_for(employee, day))


def attendance_date_at(employee: Employee, moment: datetime) -> date:
    """The attendance date a punch at ``moment`` would belong to (the engine's rule,
    ``engine.attendance_date_for``): the date whose punch window contains it (a 02:00
    check-out belongs to the night shift of the day before), else the day boundary."""
    local = moment.astimezone(employee_zone(employee)).date()
    start, end = local - timedelta(days=1), local + timedelta(days=1)
    plans = build_plans([employee], start, end)
    by_date = {d: plans[(employee.pk, d)] for d in (start, local, end)}
    return engine.attendance_date_for(moment, by_date)


# --------------------------------------------------------------------------- inputs, preview


class DayInputs(NamedTuple):
    """The engine's inputs around some dates, as the recompute reads them."""

    plans: dict[tuple[int, date], engine.DayPlan]
    exemptions: dict[tuple[int, date], list[engine.Exemption]]
    punches: list[engine.PunchIn]


def day_inputs(employee: Employee, start: date, end: date) -> DayInputs:
    """Plans (with a date more each side: they decide which punches a date gets),
    exemptions and every stored punch (voided ones marked) within reach of [start, end]."""
    plans = build_plans([employee], start - timedelta(days=1), end + timedelta(days=1))
    exemptions = exemptions_for([employee.pk], start, end)
    lo = datetime.combine(start - timedelta(days=2), time.min, tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=3), time.min, tzinfo=UTC)
    punches = [
        engine.stored_punch(pk, at, source, void_id is not None)
        for pk, at, source, void_id in Punch.objects.filter(
            employee=employee, at__gte=lo, at__lt=hi
        )
        .values_list("id", "at", "source", "void__id")
        .order_by()
    ]
    return DayInputs(plans, exemptions, punches)


def day_preview(
    employee: Employee,
    day: date,
    extra_punches: Sequence[engine.PunchIn] = (),
    *,
    now: datetime | None = None,
    final: bool | None = None,
) -> engine.DayResult | None:
    """The engine's result for one employee-day from the stored inputs plus
    ``extra_punches`` (hypothetical ones: a correction's requested time). Nothing is
    written; without extra punches it is the day as the recompute stores it. None when the
    day has no plan. ``final`` (default: whether the stored day is finalised) evaluates
    the day as closed (missing slots are absences)."""
    now = now or timezone.now()
    plans, exemptions, punches = day_inputs(employee, day, day)
    plan = plans.get((employee.pk, day))
    if plan is None:
        return None
    if final is None:
        final = AttendanceDay.objects.filter(employee=employee, day=day, finalised=True).exists()
    ordered = [plans[k] for k in sorted(plans) if k[0] == employee.pk]
    buckets = engine.partition_punches(ordered, [*punches, *extra_punches])
    return engine.evaluate_day(
        plan,
        buckets.get(day, ()),
        exemptions.get((employee.pk, day), ()),
        as_of=None if final else now,
    )


# --------------------------------------------------------------------------- slots


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """A slot of a day: its status (stored, or evaluated when the day is not stored yet)
    and its punch window from the plan (``day_windows``)."""

    key: str
    kind: str
    status: str
    expected: datetime | None
    window_start: datetime | None
    window_end: datetime | None
    end_inclusive: bool


def _parse(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _slot_info(slot: dict[str, Any], window: Window | None) -> SlotInfo:
    """A stored slot with the plan's window (the stored one only when the plan has no
    such slot any more)."""
    if window is None:
        start, end = _parse(slot.get("window_start")), _parse(slot.get("window_end"))
        inclusive = slot.get("kind") == "out"
    else:
        start, end, inclusive = window.start, window.end, window.end_inclusive
    return SlotInfo(
        key=slot["key"],
        kind=slot.get("kind", ""),
        status=slot["status"],
        expected=_parse(slot.get("expected")),
        window_start=start,
        window_end=end,
        end_inclusive=inclusive,
    )


def day_slots(
    employee: Employee, days: Iterable[date], *, now: datetime | None = None
) -> dict[date, dict[str, SlotInfo]]:
    """Each day's slots by key: status from the stored AttendanceDay rows (a day not
    stored yet is evaluated on the fly, ``day_preview``), punch windows from the plans
    (``day_windows``: the windows the engine matches punches with, cut where they meet
    the neighbouring dates'), even when the stored row predates a schedule change."""
    wanted = set(days)
    if not wanted:
        return {}
    now = now or timezone.now()
    rows = {r.day: r for r in AttendanceDay.objects.filter(employee=employee, day__in=wanted)}
    plans = build_plans([employee], min(wanted), max(wanted))
    out: dict[date, dict[str, SlotInfo]] = {}
    for day in wanted:
        windows = {w.key: w for w in _windows(plans.get((employee.pk, day)))}
        row = rows.get(day)
        if row is not None:
            slots = row.slots
        else:
            result = day_preview(employee, day, now=now)
            slots = [engine.slot_to_json(s) for s in result.slots] if result else []
        out[day] = {s["key"]: _slot_info(s, windows.get(s["key"])) for s in slots}
    return out
