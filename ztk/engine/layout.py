"""Punch windows: where each slot's punch may lie, laid out once per (shift, date, zone).

Check-in [start - in_earliest, midpoint), check-out [midpoint, end + out_latest]. Windows
never overlap: the gap between two segments is cut at its midpoint (the earlier check-out
window then ends there, exclusive, and the later check-in window starts there, so a punch
exactly at the midpoint of a gap is a check-in, as a segment's own midpoint is a
check-out). The windows of consecutive dates that would overlap (a night shift followed
by an early shift) are cut the same way at the midpoint of the gap between the two shifts
(``split_overlaps``, carried by the plans as ``previous_split`` / ``next_split``).
"""

from __future__ import annotations

import dataclasses
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


# Layouts by (id(shift), day, zone, splits): hashing a DayPlan hashes its whole shift,
# which costs more than the lookup saves, so the cache is keyed by the shift's identity
# and each entry keeps its shift (an id reused by a new object is detected with ``is``).
# Plans of one group and day are shared objects (scheduling.plans), so one entry serves
# them all.
_LAYOUTS: dict[tuple[int, date, tzinfo, datetime | None, datetime | None], Layout] = {}


def layout(plan: DayPlan) -> Layout | None:
    """The cached window layout of a plan (None for a day without a shift)."""
    shift = plan.shift
    if shift is None:
        return None
    key = (id(shift), plan.day, plan.tz, plan.previous_split, plan.next_split)
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
    # Where windows are cut: before the first segment (the previous date's split), in
    # the middle of each gap between segments, after the last (the next date's split).
    cuts: list[datetime | None] = [_utc(plan.previous_split)]
    cuts += [end + (following - end) / 2 for (_s, end), (following, _e) in _pairs(segments)]
    cuts.append(_utc(plan.next_split))
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


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


Span = tuple[datetime, datetime]


def _pairs(items: Sequence[Span]) -> Iterable[tuple[Span, Span]]:
    return zip(items, items[1:], strict=False)


def slot_windows(plan: DayPlan) -> tuple[SlotWindow, ...]:
    """Each slot's punch window in local time, with whether its end is inclusive.

    These are the windows the engine matches punches with, cut where they meet the
    neighbouring dates' (``split_overlaps``), so a check of "the requested time lies in
    the slot's window" (corrections) uses exactly them.

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
            grace=w.grace,
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


# --------------------------------------------------------------------------- splits

# (first segment start, first check-in window start, last segment end, last check-out
# window end) of a shift on a date, before any split; by (id(shift), day, zone).
_EDGES: dict[tuple[int, date, tzinfo], tuple[Shift, datetime, datetime, datetime, datetime]] = {}
_SPLIT: dict[tuple[int, datetime | None, datetime | None], tuple[DayPlan, DayPlan]] = {}


def _edges(plan: DayPlan, shift: Shift) -> tuple[Shift, datetime, datetime, datetime, datetime]:
    key = (id(shift), plan.day, plan.tz)
    found = _EDGES.get(key)
    if found is not None and found[0] is shift:
        return found
    offsets = segment_offsets(shift.segments)
    first, last = shift.segments[0], shift.segments[-1]
    start = wall(plan.day, plan.tz, offsets[0][0])
    end = wall(plan.day, plan.tz, offsets[-1][1])
    found = (
        shift,
        start,
        start - timedelta(minutes=first.in_earliest),
        end,
        end + timedelta(minutes=last.out_latest),
    )
    if len(_EDGES) >= CACHE_MAX:
        _EDGES.clear()
    _EDGES[key] = found
    return found


def split_between(earlier: DayPlan | None, later: DayPlan | None) -> datetime | None:
    """Where the windows of two consecutive dates are cut (UTC), or None when they do not
    overlap.

    They overlap when the later date's first check-in window opens before the earlier
    date's last check-out window closes; they are then cut, as between two segments, at
    the midpoint of the gap between the earlier shift's end and the later shift's start.
    Shifts that overlap themselves (a roster mistake) have no gap to cut: the earlier date
    keeps precedence (``attendance_date_for``).
    """
    if earlier is None or later is None or earlier.shift is None or later.shift is None:
        return None
    if later.day - earlier.day != timedelta(days=1):
        return None
    _shift, _start, _opens, end, closes = _edges(earlier, earlier.shift)
    _shift, start, opens, _end, _closes = _edges(later, later.shift)
    if end > start or opens > closes:
        return None
    return end + (start - end) / 2


def split_overlaps(plans: Iterable[DayPlan]) -> list[DayPlan]:
    """The plans (of one employee) with the windows of consecutive dates cut where they
    would overlap (``split_between``); a plan whose neighbours are not given is cut on
    that side by nothing. Plans that need no cut are returned as they are; cut ones are
    kept between calls, so equal inputs give the same objects (the engine caches layouts
    by identity).
    """
    items = list(plans)
    by_day = {plan.day: plan for plan in items}
    if len(by_day) != len(items):
        raise ValueError("split_overlaps: two plans for one date")
    one_day = timedelta(days=1)
    out = []
    for plan in items:
        if plan.shift is None:
            out.append(plan)
            continue
        previous = split_between(by_day.get(plan.day - one_day), plan)
        following = split_between(plan, by_day.get(plan.day + one_day))
        if previous == plan.previous_split and following == plan.next_split:
            out.append(plan)
            continue
        key = (id(plan), previous, following)
        entry = _SPLIT.get(key)
        if entry is None or entry[0] is not plan:
            cut = dataclasses.replace(plan, previous_split=previous, next_split=following)
            if len(_SPLIT) >= CACHE_MAX:
                _SPLIT.clear()
            entry = _SPLIT[key] = (plan, cut)
        out.append(entry[1])
    return out
