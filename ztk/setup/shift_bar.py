"""The 24-hour picture of a shift: its segments and punch windows on a time axis.

The windows are the engine's (``engine.slot_windows`` of a plan with this shift), so the
picture shows exactly where punches count, including the cut between two segments; this
module only turns minutes into positions. The axis covers 00:00–24:00 of the attendance
day and stretches into the day before or after when a window reaches there (a night
shift's check-out on the next morning), which is shaded and labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from ztk import engine
from ztk.scheduling.models import (
    DAY_MINUTES,
    SegmentSpec,
    Shift,
    clock_text,
    flexible_arrival_offsets,
    segment_offsets,
)
from ztk.scheduling.plans import engine_shift

STEP = 180  # the axis is cut at whole 3-hour marks
DAY = date(2001, 1, 1)  # any date: the picture is in wall-clock minutes, in UTC (no DST)
MIDNIGHT = datetime(2001, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Span:
    """Something drawn on the bar, from ``start`` to ``end`` minutes after 00:00."""

    kind: str  # in, out, segment, grace, arrive, other_day
    start: int
    end: int
    label: str
    left: float = 0.0  # percent of the bar
    width: float = 0.0

    @property
    def right(self) -> float:
        return round(self.left + self.width, 3)


@dataclass(frozen=True)
class Tick:
    at: int
    left: float
    label: str  # empty: a small tick only
    anchor: str = "middle"


@dataclass
class Bar:
    low: int
    high: int
    spans: list[Span] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    midnights: list[Tick] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the same in words (no-picture readers)
    night: bool = False

    def pct(self, minutes: int) -> float:
        return round((minutes - self.low) * 100 / (self.high - self.low), 3)

    def place(self, span: Span) -> Span:
        left, right = self.pct(span.start), self.pct(span.end)
        return Span(span.kind, span.start, span.end, span.label, left, round(right - left, 3))


def _minutes(moment: datetime) -> int:
    return int((moment - MIDNIGHT).total_seconds() // 60)


def _range(start: int, end: int) -> str:
    return f"{clock_text(start)}–{clock_text(end)}"


def shift_bar(
    *,
    kind: str,
    segments: Sequence[SegmentSpec],
    arrive_from: time | None = None,
    arrive_until: time | None = None,
    required_minutes: int | None = None,
) -> Bar | None:
    """The picture of a shift definition, or None when the engine refuses it (the form
    shows why beside the fields)."""
    try:
        shift = engine_shift(
            code="preview",
            name="",
            kind=kind,
            segments=segments,
            arrive_from=arrive_from,
            arrive_until=arrive_until,
            required_minutes=required_minutes,
        )
        plan = engine.DayPlan(day=DAY, tz=ZoneInfo("UTC"), kind="work", shift=shift)
        windows = engine.slot_windows(plan)
    except (ValueError, TypeError):
        return None
    offsets = segment_offsets(segments)
    spans: list[Span] = []
    lines: list[str] = []
    for window in windows:
        start, end = _minutes(window.start), _minutes(window.end)
        if window.kind == "in":
            label = _("Check-in %(range)s") % {"range": _range(start, end)}
        else:
            label = _("Check-out %(range)s") % {"range": _range(start, end)}
        spans.append(Span(window.kind, start, end, label))
    for number, (spec, (start, end)) in enumerate(zip(segments, offsets, strict=True), start=1):
        label = _("Segment %(n)d: %(range)s") % {"n": number, "range": _range(start, end)}
        spans.append(Span("segment", start, end, label))
        windows_of = [s.label for s in spans if s.kind in ("in", "out")][
            2 * number - 2 : 2 * number
        ]
        lines.append(f"{label} · {' · '.join(windows_of)}")
        if kind != Shift.Kind.FLEXIBLE:
            if spec.grace_in:
                spans.append(
                    Span(
                        "grace",
                        start,
                        start + spec.grace_in,
                        _("Late grace until %(at)s") % {"at": clock_text(start + spec.grace_in)},
                    )
                )
            if spec.grace_out:
                spans.append(
                    Span(
                        "grace",
                        end - spec.grace_out,
                        end,
                        _("Early-leave grace from %(at)s")
                        % {"at": clock_text(end - spec.grace_out)},
                    )
                )
    if kind == Shift.Kind.FLEXIBLE and arrive_from is not None and arrive_until is not None:
        begin, until = flexible_arrival_offsets(offsets[0][0], arrive_from, arrive_until)
        label = _("Arrive %(range)s, then work %(minutes)d minutes") % {
            "range": _range(begin, until),
            "minutes": required_minutes or 0,
        }
        spans.append(Span("arrive", begin, until, label))
        lines.append(label)
    earliest = min(s.start for s in spans)
    latest = max(s.end for s in spans)
    low = min(0, earliest // STEP * STEP)
    high = max(DAY_MINUTES, -(-latest // STEP) * STEP)
    bar = Bar(low=low, high=high, lines=lines, night=offsets[-1][1] > DAY_MINUTES)
    if low < 0:
        bar.spans.append(bar.place(Span("other_day", low, 0, _("the day before"))))
    if high > DAY_MINUTES:
        bar.spans.append(bar.place(Span("other_day", DAY_MINUTES, high, _("next day"))))
    bar.spans += [bar.place(s) for s in spans]
    label_every = 360  # legible at 375 px; the 3-hour ticks stay unlabelled
    for at in range(low, high + 1, STEP):
        text = clock_text(at).split(" ")[0] if at % label_every == 0 else ""
        anchor = "start" if at == low else "end" if at == high else "middle"
        bar.ticks.append(Tick(at, bar.pct(at), text, anchor))
    for at in (0, DAY_MINUTES):
        if low < at < high:
            bar.midnights.append(Tick(at, bar.pct(at), _("00:00 next day") if at else "00:00"))
    return bar
