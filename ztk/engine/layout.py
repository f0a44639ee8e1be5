"""Punch windows: where each slot's punch may lie, laid out once per (shift, date, zone).

Check-in [start - in_earliest, midpoint), check-out [midpoint, end + out_latest]. Windows
never overlap: the gap between two segments is cut at its midpoint (the earlier check-out
window then ends there, exclusive, and the later check-in window starts there, so a punch
exactly at the midpoint of a gap is a check-in, as a segment's own midpoint is a
check-out).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Final, NamedTuple

from .inputs import DayPlan, Shift, SlotKind, check_aware, clock, segment_offsets, wall
from .results import SlotWindow

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MIN_US: Final = 60_000_000
CACHE_MAX: Final = 8192


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, unlike ``timestamp()``)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Win(NamedTuple):
    """One slot's window, in every form a path needs, with the rules that judge its punch."""

    key: str
    kind: SlotKind
    segment: int  # 1-based
    expected: datetime  # UTC
    start: datetime  # UTC, inclusive
    end: datetime  # UTC
    end_inclusive: bool
    expected_us: int  # microseconds since the epoch
    start_us: int
    end_us: int
    expected_local: datetime  # as reported in SlotResult
    start_local: datetime
    end_local: datetime
    until: str  # HH:MM of the window end, for "not_yet_punched"
    grace: int  # grace_in / grace_out
    as_missing: int | None  # late_as_missing / early_as_missing
    serious_late: int
    half_day: int | None  # late_as_half_day_absent


class Layout(NamedTuple):
    shift: Shift
    segments: tuple[tuple[datetime, datetime], ...]  # UTC start/end of each segment
    segments_us: tuple[tuple[int, int], ...]
    wins: tuple[Win, ...]  # in1, out1, in2, out2, ... in time order
    bounds_us: tuple[tuple[int, int, bool], ...]  # (start, end, end inclusive) per window
    arrive_from: datetime | None  # UTC, flexible only
    arrive_until: datetime | None
    scheduled_minutes: int  # real minutes of the segments (fixed shifts)


# Layouts by (id(shift), day, zone): hashing a DayPlan hashes its whole shift,
# which costs more than the lookup saves, so the cache is keyed by the shift's identity
# and each entry keeps its shift (an id reused by a new object is detected with ``is``).
# Plans of one group and day are shared objects (scheduling.plans), so one entry serves
# them all.
_LAYOUTS: dict[tuple[int, date, tzinfo], Layout] = {}


def layout(plan: DayPlan) -> Layout | None:
    """The cached window layout of a plan (None for a day without a shift)."""
    shift = plan.shift
    if shift is None:
        return None
    key = (id(shift), plan.day, plan.tz)
    found = _LAYOUTS.get(key)
    if found is not None and found.shift is shift:
        return found
    found = _compute_layout(plan, shift)
    if len(_LAYOUTS) >= CACHE_MAX:
        _LAYOUTS.clear()
    _LAYOUTS[key] = found
    return found


def _compute_layout(plan: DayPlan, shift: Shift) -> Layout:
    tz = plan.tz
    offsets = segment_offsets(shift.segments)
    segments = tuple((wall(plan.day, tz, a), wall(plan.day, tz, b)) for a, b in offsets)
    # Where windows are cut: in the middle of each gap between segments.
    cuts: list[datetime | None] = [None]
    cuts += [end + (following - end) / 2 for (_s, end), (following, _e) in _pairs(segments)]
    cuts.append(None)
    spans: list[tuple[str, SlotKind, int, datetime, datetime, datetime, bool]] = []
    for i, (segment, (start, end)) in enumerate(zip(shift.segments, segments, strict=True)):
        middle = start + (end - start) / 2
        in_start = start - timedelta(minutes=segment.in_earliest)
        before = cuts[i]
        if before is not None and before > in_start:
            in_start = before
        out_end = end + timedelta(minutes=segment.out_latest)
        out_inclusive = True
        after = cuts[i + 1]
        if after is not None and out_end >= after:
            out_end, out_inclusive = after, False
        spans.append((f"in{i + 1}", "in", i + 1, start, in_start, middle, False))
        spans.append((f"out{i + 1}", "out", i + 1, end, middle, out_end, out_inclusive))
    arrive_from = arrive_until = None
    if shift.flexible is not None:
        flexible = shift.flexible
        first_start = offsets[0][0]
        # The occurrence of arrive_from nearest to the segment start (within 12 hours), so
        # a flexible night shift may have its arrival window after midnight.
        offset = first_start + (clock(flexible.arrive_from) - first_start + 720) % 1440 - 720
        arrive_from = wall(plan.day, tz, offset)
        arrive_until = wall(plan.day, tz, offset + flexible.arrive_span_minutes)
        required = timedelta(minutes=flexible.required_minutes)
        spans[0] = (*spans[0][:3], arrive_until, *spans[0][4:])
        spans[1] = (*spans[1][:3], arrive_from + required, *spans[1][4:])
    wins = []
    for key, kind, number, expected, start, end, inclusive in spans:
        segment = shift.segments[number - 1]
        end_local = end.astimezone(tz)
        wins.append(
            Win(
                key,
                kind,
                number,
                expected,
                start,
                end,
                inclusive,
                to_us(expected),
                to_us(start),
                to_us(end),
                expected.astimezone(tz),
                start.astimezone(tz),
                end_local,
                end_local.strftime("%H:%M"),
                segment.grace_in if kind == "in" else segment.grace_out,
                segment.late_as_missing if kind == "in" else segment.early_as_missing,
                segment.serious_late,
                segment.late_as_half_day_absent,
            )
        )
    segments_us = tuple((to_us(a), to_us(b)) for a, b in segments)
    return Layout(
        shift,
        segments,
        segments_us,
        tuple(wins),
        tuple((w.start_us, w.end_us, w.end_inclusive) for w in wins),
        arrive_from,
        arrive_until,
        sum(b - a for a, b in segments_us) // MIN_US,
    )


def _pairs(items: Sequence[tuple[datetime, datetime]]) -> Iterable[tuple[tuple, tuple]]:
    return zip(items, items[1:], strict=False)


def slot_windows(plan: DayPlan) -> tuple[SlotWindow, ...]:
    """Each slot's punch window in local time, with whether its end is inclusive.

    For a flexible shift the check-in window is the day window before the segment midpoint
    and the check-out window the rest; with two or more punches the earliest and the latest
    punch of the whole day window are used regardless (rules.md, "Flexible shifts").
    """
    found = layout(plan)
    if found is None:
        return ()
    return tuple(
        SlotWindow(
            key=w.key,
            kind=w.kind,
            segment=w.segment,
            expected=w.expected_local,
            start=w.start_local,
            end=w.end_local,
            end_inclusive=w.end_inclusive,
        )
        for w in found.wins
    )


def windows(plan: DayPlan) -> list[tuple[str, datetime, datetime]]:
    """(slot key, start inclusive, end) per slot; see ``slot_windows`` for end inclusivity.

    Check-out windows include their end unless cut at a gap midpoint; check-in windows
    never include their end.
    """
    return [(w.key, w.start, w.end) for w in slot_windows(plan)]


def slot_key_for(plan: DayPlan, at: datetime) -> str | None:
    """The slot whose window contains ``at``, or None when it is outside every window."""
    check_aware("at", at)
    found = layout(plan)
    if found is None:
        return None
    moment = to_us(at)
    for w in found.wins:
        if w.start_us <= moment and (moment < w.end_us or (w.end_inclusive and moment == w.end_us)):
            return w.key
    return None
