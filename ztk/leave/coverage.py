"""Which times a request covers, from the employee's day plans (pure: no database).

One interval per attendance date with work, so a night shift's leave runs from its
start on the date to its end the next morning (``engine.segment_offsets`` + ``wall``):

- a whole day covers the date's first segment start to its last segment end — every slot
  (the engine counts a check-in covered when ``start <= t < end``, a check-out when
  ``start < t <= end``);
- a morning covers the first half: the first segment of a two- or three-segment shift
  (the first half of the segments, at least one), or, for a one-segment shift, from its
  start to the middle of its scheduled time (the check-in slot); an afternoon the rest;
- hours cover exactly the asked times, cut to each date's scheduled span; the amount is
  the scheduled minutes inside, in hours rounded up to the half hour.

A date without work (rest day, holiday) is neither covered nor counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from ztk.engine import DayPlan
from ztk.engine.inputs import segment_offsets, wall

FULL, AM, PM = "full", "am", "pm"
HALF = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class Interval:
    day: date
    start: datetime
    end: datetime
    amount: Decimal  # days (day units) or hours (hour units)

    def as_json(self) -> list[str]:
        return [self.start.isoformat(), self.end.isoformat(), self.day.isoformat()]


def segments(plan: DayPlan | None) -> list[tuple[datetime, datetime]]:
    """The date's work segments as instants (none on a rest day or holiday)."""
    if plan is None or plan.kind != "work" or plan.shift is None:
        return []
    return [
        (wall(plan.day, plan.tz, start), wall(plan.day, plan.tz, end))
        for start, end in segment_offsets(plan.shift.segments)
    ]


def part_span(plan: DayPlan | None, part: str) -> tuple[datetime, datetime] | None:
    """The span a whole day, a morning or an afternoon of the date covers."""
    segs = segments(plan)
    if not segs:
        return None
    if part == FULL:
        return segs[0][0], segs[-1][1]
    if len(segs) == 1:
        start, end = segs[0]
        middle = start + (end - start) / 2
        middle = middle.replace(second=0, microsecond=0)
        return (start, middle) if part == AM else (middle, end)
    cut = max(1, len(segs) // 2)
    first, rest = segs[:cut], segs[cut:]
    return (first[0][0], first[-1][1]) if part == AM else (rest[0][0], rest[-1][1])


def dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def cover_days(
    plans: Mapping[date, DayPlan],
    start: date,
    end: date,
    start_part: str = FULL,
    end_part: str = FULL,
) -> list[Interval]:
    """Whole or half days from `start` to `end`. One date: `start_part` is the whole day,
    the morning or the afternoon. Several: the first may start in the afternoon
    (`start_part` pm) and the last end at noon (`end_part` am)."""
    out: list[Interval] = []
    for day in dates(start, end):
        if start == end:
            part = start_part
        elif day == start:
            part = PM if start_part == PM else FULL
        elif day == end:
            part = AM if end_part == AM else FULL
        else:
            part = FULL
        span = part_span(plans.get(day), part)
        if span is None:
            continue
        out.append(Interval(day, span[0], span[1], Decimal(1) if part == FULL else HALF))
    return out


def cover_hours(
    plans: Mapping[date, DayPlan], start_at: datetime, end_at: datetime
) -> list[Interval]:
    """The asked times cut to each date's scheduled span (an exemption per date); the
    amount is the scheduled minutes inside, in hours (rounded up to the half hour)."""
    out: list[Interval] = []
    for day in sorted(plans):
        segs = segments(plans[day])
        if not segs:
            continue
        lo, hi = max(start_at, segs[0][0]), min(end_at, segs[-1][1])
        if hi <= lo:
            continue
        minutes = sum(max(0, (min(hi, e) - max(lo, s)).total_seconds() // 60) for s, e in segs)
        if minutes <= 0:
            continue
        hours = (Decimal(int(minutes)) / 60 / HALF).to_integral_value(ROUND_CEILING) * HALF
        out.append(Interval(day, lo, hi, hours))
    return out


def total(intervals: Sequence[Interval]) -> Decimal:
    return sum((i.amount for i in intervals), Decimal(0))


def overlaps(
    a: Sequence[tuple[datetime, datetime]], b: Sequence[tuple[datetime, datetime]]
) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)
