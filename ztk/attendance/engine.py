"""Pure attendance engine: one employee-day in, one explained result out.

No Django, no ORM and no clock: the caller passes the day plan, the punches, the approved
exemptions and, for a day that is not final yet, the instant to evaluate at (``as_of``).
The semantics are those of ``shared/design/rules.md``; where that text is silent the
choice made here is stated in the docstring of the function that makes it:

* Minutes are whole minutes, rounded down: a check-in at 09:00:59 for 09:00 is on time and
  a check-out at 17:59:30 for 18:00 is not early (sub-minute differences are forgiven).
* A slot judged "counted as missing" (late / early beyond the threshold) keeps its punch
  in ``SlotResult`` but is treated as having no punch everywhere else (day status, worked
  minutes, the flexible anchor).
* A slot is covered by an exemption when the exemption contains its expected time
  (check-in: ``start <= t < end``; check-out: ``start < t <= end``).
* Worked minutes exclude time covered by exemptions; that time is reported per kind in
  ``exempt_minutes_by_kind``, so worked plus exempt time (each minute counted once)
  never exceeds the scheduled minutes.
* Duplicate punches (same instant, same source) count once, whatever their ids.

Every explanation is a tuple of structured :class:`Note` objects; ``NOTE_TEXT_EN`` holds an
English template per code and the Django layer translates the codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_KINDS",
    "EXEMPTION_KINDS",
    "NOTE_CODES",
    "NOTE_TEXT_EN",
    "PUNCH_SOURCES",
    "SOURCE_SLOT_STATUS",
    "DayPlan",
    "DayResult",
    "Exemption",
    "Flexible",
    "Note",
    "PunchIn",
    "Segment",
    "Shift",
    "SlotResult",
    "SlotWindow",
    "affected_dates",
    "attendance_date_for",
    "evaluate_day",
    "explain_en",
    "partition_punches",
    "slot_key_for",
    "slot_windows",
    "windows",
]

DayKind = Literal["work", "rest", "holiday"]
SlotKind = Literal["in", "out"]
SlotStatus = Literal[
    "normal", "late", "early", "missing", "corrected", "manual", "exempt", "pending"
]
DayStatus = Literal["normal", "abnormal", "absent", "rest", "holiday", "leave"]
ExemptionKind = Literal["leave", "outing", "trip"]
PunchSource = Literal["device", "web", "mobile", "manual", "correction", "import", "paper"]

DAY_KINDS: Final = frozenset({"work", "rest", "holiday"})
EXEMPTION_KINDS: Final = frozenset({"leave", "outing", "trip"})
PUNCH_SOURCES: Final = frozenset(
    {"device", "web", "mobile", "manual", "correction", "import", "paper"}
)
# Sources whose punch fills a slot as an approved fix, whatever its time. A paper form is
# an approved correction entered by HR; "import" may be raw terminal data, so it is judged
# by its time like any device punch.
SOURCE_SLOT_STATUS: Final[Mapping[str, SlotStatus]] = MappingProxyType(
    {"correction": "corrected", "paper": "corrected", "manual": "manual"}
)

_MINUTE: Final = timedelta(minutes=1)
_DAY_MINUTES: Final = 24 * 60
# Slot statuses in which the slot's punch counts as presence.
_FILLED: Final = frozenset({"normal", "late", "early", "corrected", "manual"})


# --------------------------------------------------------------------------- validation


def _check_minutes(owner: str, name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{owner}.{name} must be a non-negative whole number of minutes")


def _check_time(owner: str, name: str, value: object) -> None:
    if not isinstance(value, time):
        raise ValueError(f"{owner}.{name} must be a datetime.time")
    if value.tzinfo is not None:
        raise ValueError(f"{owner}.{name} must be a naive local time (the plan has the zone)")
    if value.second or value.microsecond:
        raise ValueError(f"{owner}.{name} must be a whole minute, got {value.isoformat()}")


def _check_aware(what: str, value: object) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")


def _clock(value: time) -> int:
    return value.hour * 60 + value.minute


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Segment:
    """One work segment; ``end <= start`` means it ends on the next calendar day."""

    start: time
    end: time
    in_earliest: int = 120
    out_latest: int = 240
    grace_in: int = 0
    grace_out: int = 0
    late_as_missing: int | None = 120
    early_as_missing: int | None = 120
    serious_late: int = 30
    late_as_half_day_absent: int | None = None

    def __post_init__(self) -> None:
        _check_time("Segment", "start", self.start)
        _check_time("Segment", "end", self.end)
        for name in ("in_earliest", "out_latest", "grace_in", "grace_out", "serious_late"):
            _check_minutes("Segment", name, getattr(self, name))
        for name in ("late_as_missing", "early_as_missing", "late_as_half_day_absent"):
            _check_minutes("Segment", name, getattr(self, name), optional=True)
        # Windows reach at most one day either side, so a punch only ever concerns the
        # previous, the same or the next attendance date (see affected_dates).
        if self.in_earliest > _DAY_MINUTES or self.out_latest > _DAY_MINUTES:
            raise ValueError("Segment.in_earliest and out_latest must be at most 1440 minutes")
        if self.late_as_missing is not None and self.grace_in > self.late_as_missing:
            raise ValueError("Segment.grace_in must not exceed late_as_missing")
        if self.early_as_missing is not None and self.grace_out > self.early_as_missing:
            raise ValueError("Segment.grace_out must not exceed early_as_missing")

    @property
    def duration_minutes(self) -> int:
        """Length on the wall clock; equal start and end means a 24-hour segment."""
        return (_clock(self.end) - _clock(self.start)) % _DAY_MINUTES or _DAY_MINUTES


@dataclass(frozen=True, slots=True)
class Flexible:
    """Flexible hours (弹性): arrive between two times, then work ``required_minutes``."""

    arrive_from: time
    arrive_until: time
    required_minutes: int

    def __post_init__(self) -> None:
        _check_time("Flexible", "arrive_from", self.arrive_from)
        _check_time("Flexible", "arrive_until", self.arrive_until)
        _check_minutes("Flexible", "required_minutes", self.required_minutes)
        if not 0 < self.required_minutes <= _DAY_MINUTES:
            raise ValueError("Flexible.required_minutes must be between 1 and 1440")

    @property
    def arrive_span_minutes(self) -> int:
        return (_clock(self.arrive_until) - _clock(self.arrive_from)) % _DAY_MINUTES


def _segment_offsets(segments: Sequence[Segment]) -> tuple[tuple[int, int], ...]:
    """Start/end of each segment in wall-clock minutes from 00:00 of the attendance date.

    Each later segment starts at the first occurrence of its start time at or after the
    previous segment's end, so segments are chronological by construction.
    """
    offsets: list[tuple[int, int]] = []
    previous_end: int | None = None
    for segment in segments:
        start = _clock(segment.start)
        if previous_end is not None:
            start = previous_end + (start - previous_end) % _DAY_MINUTES
        end = start + segment.duration_minutes
        offsets.append((start, end))
        previous_end = end
    return tuple(offsets)


@dataclass(frozen=True, slots=True)
class Shift:
    """A shift (班次) of 1–3 segments, or a flexible shift whose one segment is the day."""

    code: str
    name: str
    segments: tuple[Segment, ...]
    flexible: Flexible | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError("Shift.code must be a non-empty string")
        if not isinstance(self.segments, tuple):
            object.__setattr__(self, "segments", tuple(self.segments))
        if not 1 <= len(self.segments) <= 3:
            raise ValueError(f"Shift {self.code}: a shift has 1 to 3 segments")
        if not all(isinstance(s, Segment) for s in self.segments):
            raise ValueError(f"Shift {self.code}: segments must be Segment objects")
        offsets = _segment_offsets(self.segments)
        if offsets[-1][1] - offsets[0][0] > _DAY_MINUTES:
            raise ValueError(
                f"Shift {self.code}: segments must be in chronological order and span "
                "at most 24 hours from the first start to the last end"
            )
        if offsets[-1][1] + self.segments[-1].out_latest > 2 * _DAY_MINUTES:
            raise ValueError(
                f"Shift {self.code}: the last check-out window must end by 24:00 of the "
                "day after the attendance date"
            )
        if self.flexible is not None:
            if not isinstance(self.flexible, Flexible):
                raise ValueError(f"Shift {self.code}: flexible must be a Flexible")
            if len(self.segments) != 1:
                raise ValueError(
                    f"Shift {self.code}: a flexible shift has exactly one segment "
                    "(the day's punch window)"
                )
            if self.flexible.arrive_span_minutes > self.segments[0].duration_minutes:
                raise ValueError(
                    f"Shift {self.code}: the arrival window is longer than the segment"
                )

    @property
    def scheduled_minutes(self) -> int:
        """Nominal minutes of work (wall clock); the required minutes when flexible."""
        if self.flexible is not None:
            return self.flexible.required_minutes
        return sum(s.duration_minutes for s in self.segments)


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What employee E should do on attendance date ``day``; rest/holiday have no shift."""

    day: date
    tz: ZoneInfo
    kind: DayKind
    shift: Shift | None
    day_boundary_hour: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise ValueError("DayPlan.day must be a datetime.date")
        if not isinstance(self.tz, tzinfo):
            raise ValueError("DayPlan.tz must be a time zone (zoneinfo.ZoneInfo)")
        if self.kind not in DAY_KINDS:
            raise ValueError(f"DayPlan.kind must be one of {sorted(DAY_KINDS)}")
        if self.kind == "work" and self.shift is None:
            raise ValueError("DayPlan: a work day needs a shift")
        if self.kind != "work" and self.shift is not None:
            raise ValueError(f"DayPlan: a {self.kind} day has no shift")
        if self.shift is not None and not isinstance(self.shift, Shift):
            raise ValueError("DayPlan.shift must be a Shift")
        hour = self.day_boundary_hour
        if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
            raise ValueError("DayPlan.day_boundary_hour must be an hour from 0 to 23")


@dataclass(frozen=True, slots=True)
class PunchIn:
    """A raw punch as stored; voided punches are kept but ignored."""

    id: int | str
    at: datetime
    source: PunchSource
    voided: bool = False

    def __post_init__(self) -> None:
        _check_aware("PunchIn.at", self.at)
        if self.source not in PUNCH_SOURCES:
            raise ValueError(f"PunchIn.source must be one of {sorted(PUNCH_SOURCES)}")


@dataclass(frozen=True, slots=True)
class Exemption:
    """Approved leave, outing (外出) or business trip (出差) covering [start, end)."""

    start: datetime
    end: datetime
    kind: ExemptionKind

    def __post_init__(self) -> None:
        _check_aware("Exemption.start", self.start)
        _check_aware("Exemption.end", self.end)
        if self.end <= self.start:
            raise ValueError("Exemption.end must be after Exemption.start")
        if self.kind not in EXEMPTION_KINDS:
            raise ValueError(f"Exemption.kind must be one of {sorted(EXEMPTION_KINDS)}")


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Note:
    """One structured explanation item; ``NOTE_TEXT_EN[code]`` formats it."""

    code: str
    slot: str | None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SlotWindow:
    """Where a slot's punch may lie: [start, end] if ``end_inclusive`` else [start, end)."""

    key: str
    kind: SlotKind
    segment: int
    expected: datetime
    start: datetime
    end: datetime
    end_inclusive: bool

    def contains(self, at: datetime) -> bool:
        _check_aware("at", at)
        return _contains(
            self.start.astimezone(UTC),
            self.end.astimezone(UTC),
            self.end_inclusive,
            at.astimezone(UTC),
        )


@dataclass(frozen=True, slots=True)
class SlotResult:
    key: str
    kind: SlotKind
    segment: int
    expected: datetime
    window_start: datetime
    window_end: datetime
    punch_id: int | str | None
    punch_at: datetime | None
    status: SlotStatus
    minutes: int
    serious: bool
    half_day_absent: bool
    punch_source: str | None = None


@dataclass(frozen=True, slots=True)
class DayResult:
    day: date
    kind: DayKind
    status: DayStatus
    provisional: bool
    slots: tuple[SlotResult, ...]
    worked_minutes: int
    late_count: int
    late_minutes: int
    serious_late_count: int
    early_count: int
    early_minutes: int
    missing_in_count: int
    missing_out_count: int
    absent_days: float
    corrected_count: int
    manual_count: int
    exempt_minutes_by_kind: dict[str, int]
    outside_punch_ids: tuple[int | str, ...]
    notes: tuple[Note, ...]
    shift_code: str | None = None
    scheduled_minutes: int = 0
    pending_count: int = 0
    extra_punch_ids: tuple[int | str, ...] = ()


NOTE_TEXT_EN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "rest": "Rest day: no shift scheduled.",
        "holiday": "Public holiday: no shift scheduled.",
        "all_exempt": "Every slot is covered by approved leave, outing or business trip.",
        "absent": "Absent (one day): no valid punch in any slot that needed one.",
        "provisional": "Provisional result as of {as_of}; the day is not final yet.",
        "late": "{slot}: late by {minutes} min.",
        "flexible_late": "{slot}: arrived {minutes} min after the latest arrival time "
        "{arrive_until}.",
        "serious_late": "{slot}: seriously late (more than {threshold} min).",
        "half_day_absent": "{slot}: late by more than {threshold} min, counted as half a day "
        "of absence.",
        "late_counted_missing": "{slot}: late by {minutes} min, counted as missing (more than "
        "{threshold} min).",
        "early": "{slot}: left {minutes} min early.",
        "flexible_early": "{slot}: left {minutes} min before completing {required_minutes} "
        "min of work.",
        "early_counted_missing": "{slot}: left {minutes} min early, counted as missing (more "
        "than {threshold} min).",
        "no_punch": "{slot}: no punch (missing).",
        "not_yet_punched": "{slot}: not yet punched (window open until {until}).",
        "exempt": "{slot}: covered by approved {kind}.",
        "corrected": "{slot}: filled by an approved correction punch at {time}.",
        "manual": "{slot}: filled by an HR manual punch at {time}.",
        "outside_schedule": "Punch {punch_id} at {date} {time} is outside every punch window.",
        "voided_ignored": "Punch {punch_id} at {date} {time} was voided and is ignored.",
    }
)
NOTE_CODES: Final = frozenset(NOTE_TEXT_EN)


def explain_en(result: DayResult) -> list[str]:
    """English sentences for a result's notes (the web layer uses its own translations)."""
    return [
        NOTE_TEXT_EN[note.code].format(slot=note.slot or "", **note.params) for note in result.notes
    ]


# --------------------------------------------------------------------------- layout


class _Win(NamedTuple):
    key: str
    kind: SlotKind
    segment: int  # 1-based
    expected: datetime  # UTC
    start: datetime  # UTC, inclusive
    end: datetime  # UTC
    end_inclusive: bool


class _Layout(NamedTuple):
    segments: tuple[tuple[datetime, datetime], ...]  # UTC start/end of each segment
    wins: tuple[_Win, ...]  # in1, out1, in2, out2, ... in time order
    arrive_from: datetime | None  # UTC, flexible only
    arrive_until: datetime | None


def _contains(start: datetime, end: datetime, inclusive: bool, at: datetime) -> bool:
    return start <= at <= end if inclusive else start <= at < end


def _wall(plan: DayPlan, minutes: int) -> datetime:
    """The instant at ``minutes`` of wall-clock time after 00:00 of the plan's date."""
    naive = datetime.combine(plan.day, time()) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=plan.tz).astimezone(UTC)


# Layouts by (id(shift), day, zone): hashing a DayPlan hashes its whole shift, which costs
# more than the lookup saves, so the cache is keyed by the shift's identity and each entry
# keeps its shift (an id reused by a new object is detected with ``is``). Plans of one
# group and day are shared objects (scheduling.plans), so one entry serves them all.
_LAYOUTS: dict[tuple[int, date, tzinfo], tuple[Shift, _Layout]] = {}
_LAYOUTS_MAX: Final = 8192


def _layout(plan: DayPlan) -> _Layout | None:
    """The cached ``_compute_layout`` of a plan (None for a day without a shift)."""
    shift = plan.shift
    if shift is None:
        return None
    key = (id(shift), plan.day, plan.tz)
    entry = _LAYOUTS.get(key)
    if entry is not None and entry[0] is shift:
        return entry[1]
    layout = _compute_layout(plan)
    if len(_LAYOUTS) >= _LAYOUTS_MAX:
        _LAYOUTS.clear()
        _FIXED.clear()
    _LAYOUTS[key] = (shift, layout)
    return layout


def _compute_layout(plan: DayPlan) -> _Layout:
    """Segments and non-overlapping punch windows of a plan, all in UTC.

    Check-in [start - in_earliest, midpoint), check-out [midpoint, end + out_latest]; the
    gap between two segments is split at its midpoint (the earlier check-out window then
    ends there, exclusive, and the later check-in window starts there).
    """
    shift = plan.shift
    assert shift is not None
    segments = tuple(
        (_wall(plan, start), _wall(plan, end)) for start, end in _segment_offsets(shift.segments)
    )
    gaps = [
        segments[i][1] + (segments[i + 1][0] - segments[i][1]) / 2 for i in range(len(segments) - 1)
    ]
    wins: list[_Win] = []
    for i, (segment, (start, end)) in enumerate(zip(shift.segments, segments, strict=True)):
        middle = start + (end - start) / 2
        in_start = start - timedelta(minutes=segment.in_earliest)
        if i > 0:
            in_start = max(in_start, gaps[i - 1])
        out_end = end + timedelta(minutes=segment.out_latest)
        out_inclusive = True
        if i < len(gaps) and out_end >= gaps[i]:
            out_end, out_inclusive = gaps[i], False
        wins.append(_Win(f"in{i + 1}", "in", i + 1, start, in_start, middle, False))
        wins.append(_Win(f"out{i + 1}", "out", i + 1, end, middle, out_end, out_inclusive))
    arrive_from = arrive_until = None
    if shift.flexible is not None:
        flexible = shift.flexible
        first_start = _segment_offsets(shift.segments)[0][0]
        # The occurrence of arrive_from nearest to the segment start (within 12 hours), so
        # a flexible night shift may have its arrival window after midnight.
        offset = first_start + (_clock(flexible.arrive_from) - first_start + 720) % 1440 - 720
        arrive_from = _wall(plan, offset)
        arrive_until = _wall(plan, offset + flexible.arrive_span_minutes)
        required = timedelta(minutes=flexible.required_minutes)
        wins[1] = wins[1]._replace(expected=arrive_from + required)
        wins[0] = wins[0]._replace(expected=arrive_until)
    return _Layout(segments, tuple(wins), arrive_from, arrive_until)


def slot_windows(plan: DayPlan) -> tuple[SlotWindow, ...]:
    """Each slot's punch window in local time, with whether its end is inclusive.

    For a flexible shift the check-in window is the day window before the segment midpoint
    and the check-out window the rest; with two or more punches the earliest and the latest
    punch of the whole day window are used regardless (rules.md, "Flexible shifts").
    """
    layout = _layout(plan)
    if layout is None:
        return ()
    return tuple(
        SlotWindow(
            key=w.key,
            kind=w.kind,
            segment=w.segment,
            expected=w.expected.astimezone(plan.tz),
            start=w.start.astimezone(plan.tz),
            end=w.end.astimezone(plan.tz),
            end_inclusive=w.end_inclusive,
        )
        for w in layout.wins
    )


def windows(plan: DayPlan) -> list[tuple[str, datetime, datetime]]:
    """(slot key, start inclusive, end) per slot; see ``slot_windows`` for end inclusivity.

    Check-out windows include their end unless clipped at a gap midpoint; check-in windows
    never include their end.
    """
    return [(w.key, w.start, w.end) for w in slot_windows(plan)]


def slot_key_for(plan: DayPlan, at: datetime) -> str | None:
    """The slot whose window contains ``at``, or None when it is outside every window."""
    _check_aware("at", at)
    layout = _layout(plan)
    if layout is None:
        return None
    moment = at.astimezone(UTC)
    for w in layout.wins:
        if _contains(w.start, w.end, w.end_inclusive, moment):
            return w.key
    return None


# --------------------------------------------------------------------------- partitioning


def affected_dates(punch_at: datetime, tz: ZoneInfo, day_boundary_hour: int) -> set[date]:
    """Attendance dates whose result a punch may change: local date L and L - 1, L + 1.

    L - 1 covers night shifts and the day boundary hour; L + 1 covers a shift starting just
    after midnight whose check-in window opens the evening before (e.g. 00:00-08:00 with a
    120-minute early window takes a 23:00 punch). Shift validation keeps every window within
    one day either side, so no other date can be touched. ``day_boundary_hour`` is accepted
    for symmetry with the plan; it only ever selects L or L - 1, both already included.
    """
    _check_aware("punch_at", punch_at)
    if not 0 <= day_boundary_hour <= 23:
        raise ValueError("day_boundary_hour must be an hour from 0 to 23")
    local = punch_at.astimezone(tz).date()
    return {local - timedelta(days=1), local, local + timedelta(days=1)}


_REACH_MARGIN: Final = timedelta(hours=2)


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
        layout = _layout(plan)
        if layout is not None and layout.wins:
            first = min(first, layout.wins[0].start)
            last = max(last, max(w.end for w in layout.wins))
        lo = first if lo is None else min(lo, first)
        hi = last if hi is None else max(hi, last)
    if lo is None or hi is None:
        return None
    return lo - _REACH_MARGIN, hi + _REACH_MARGIN


def _boundary_date(at: datetime, tz: tzinfo, hour: int) -> date:
    local = at.astimezone(tz)
    return local.date() - timedelta(days=1) if local.hour < hour else local.date()


def attendance_date_for(punch_at: datetime, plans_by_date: Mapping[date, DayPlan]) -> date:
    """The one attendance date a punch belongs to.

    1. The date whose plan has a punch window containing it (a 02:00 punch belongs to the
       previous day's night shift); when the windows of two dates both contain it, the
       earlier date wins.
    2. Otherwise the day boundary hour decides: local time before the boundary hour belongs
       to the previous date. The zone and hour are those of the plan for the punch's local
       date (else the previous date's plan, else any plan; with no plans at all, the
       punch's own zone and hour 0). The date returned may have no plan in the mapping.
    """
    _check_aware("punch_at", punch_at)
    reference = next(iter(plans_by_date.values()), None)
    if reference is not None and all(_own_date(p, reference.tz) for p in plans_by_date.values()):
        return punch_at.astimezone(reference.tz).date()  # as partition_punches: day shifts
    return _date_for(punch_at.astimezone(UTC), punch_at, plans_by_date, {}, reference)


_OFFSETS: Final = tuple(timedelta(days=offset) for offset in range(-2, 3))
_ONE_DAY: Final = timedelta(days=1)


def _date_for(
    moment: datetime,
    punch_at: datetime,
    plans_by_date: Mapping[date, DayPlan],
    wins_by_date: dict[date, tuple[tuple[int, int, bool], ...]],
    reference: DayPlan | None,
    at_us: int | None = None,
) -> date:
    """``attendance_date_for`` with ``moment`` in UTC and the windows in microseconds."""
    if at_us is None:
        at_us = _us(moment)
    local = moment.astimezone(reference.tz).date() if reference else punch_at.date()
    # Two days either side also covers plans in other zones than the reference one.
    for offset in _OFFSETS:
        candidate = local + offset
        plan = plans_by_date.get(candidate)
        if plan is None:
            continue
        wins = wins_by_date.get(candidate)
        if wins is None:
            wins = wins_by_date[candidate] = _wins_us(plan)
        for start, end, inclusive in wins:
            if start <= at_us and (at_us < end or (inclusive and at_us == end)):
                return candidate
    plan = plans_by_date.get(local) or plans_by_date.get(local - _ONE_DAY) or reference
    if plan is None:
        return _boundary_date(moment, punch_at.tzinfo or UTC, 0)
    return _boundary_date(moment, plan.tz, plan.day_boundary_hour)


_OWN_DATE: dict[int, tuple[DayPlan, tzinfo, bool]] = {}


def _own_date(plan: DayPlan, tz: tzinfo) -> bool:
    """The plan is in zone ``tz``, its boundary hour is 0 and every window of it lies
    within its own local date [D 00:00, D + 1 00:00) (cached by the plan's identity)."""
    entry = _OWN_DATE.get(id(plan))
    if entry is not None and entry[0] is plan and entry[1] is tz:
        return entry[2]
    own = plan.tz is tz and plan.day_boundary_hour == 0
    layout = _layout(plan) if own else None
    if layout is not None and layout.wins:
        midnight = datetime.combine(plan.day, time()).replace(tzinfo=tz).astimezone(UTC)
        following = plan.day + _ONE_DAY
        next_midnight = datetime.combine(following, time()).replace(tzinfo=tz).astimezone(UTC)
        last = max(layout.wins, key=lambda w: (w.end, w.end_inclusive))
        own = layout.wins[0].start >= midnight and (
            last.end < next_midnight or (last.end == next_midnight and not last.end_inclusive)
        )
    if len(_OWN_DATE) >= _LAYOUTS_MAX:
        _OWN_DATE.clear()
    _OWN_DATE[id(plan)] = (plan, tz, own)
    return own


def _punch_key(punch: PunchIn) -> tuple[datetime, str]:
    return punch.at.astimezone(UTC), str(punch.id)


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
    wins_by_date: dict[date, tuple[tuple[int, int, bool], ...]] = {}
    keyed = []
    for punch in punches:
        at = punch.at
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            _check_aware("punch_at", at)
        keyed.append((_us(at), str(punch.id), punch))
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
        day = _date_for(punch.at, punch.at, by_date, wins_by_date, reference, at_us)
        bucket = result.get(day)
        if bucket is None:
            bucket = result[day] = []
            extra = True
        bucket.append(punch)
    return dict(sorted(result.items())) if extra else result


# --------------------------------------------------------------------------- evaluation


class _P(NamedTuple):
    id: int | str
    at: datetime  # UTC
    source: str


def _prepare_punches(punches: Iterable[PunchIn]) -> tuple[list[_P], list[_P]]:
    """Live and voided punches, sorted by (instant, str(id)), each deduplicated.

    A resend (same instant, same source) counts once; the copy with the smallest str(id)
    stands for it, so neither the arrival order nor a resend changes the result.
    """
    live: list[_P] = []
    voided: list[_P] = []
    seen: set[tuple[bool, datetime, str]] = set()
    for punch in sorted(punches, key=_punch_key):
        if not isinstance(punch, PunchIn):
            raise ValueError(f"expected PunchIn, got {punch!r}")
        moment = punch.at.astimezone(UTC)
        key = (punch.voided, moment, punch.source)
        if key in seen:
            continue
        seen.add(key)
        (voided if punch.voided else live).append(_P(punch.id, moment, punch.source))
    return live, voided


class _X(NamedTuple):
    start: datetime  # UTC
    end: datetime
    kind: str


def _prepare_exemptions(exemptions: Iterable[Exemption]) -> list[_X]:
    items = []
    for exemption in exemptions:
        if not isinstance(exemption, Exemption):
            raise ValueError(f"expected Exemption, got {exemption!r}")
        items.append(
            _X(exemption.start.astimezone(UTC), exemption.end.astimezone(UTC), exemption.kind)
        )
    return sorted(set(items))


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlap(start: datetime, end: datetime, merged: list[tuple[datetime, datetime]]) -> timedelta:
    total = timedelta()
    for a, b in merged:
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += hi - lo
    return total


def _covering(exemptions: list[_X], kind: SlotKind, expected: datetime) -> str | None:
    """Kind of the first exemption covering a slot's expected time, if any."""
    for x in exemptions:
        if (x.start <= expected < x.end) if kind == "in" else (x.start < expected <= x.end):
            return x.kind
    return None


def _hhmm(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def _punch_params(punch: _P, tz: tzinfo) -> dict[str, Any]:
    local = punch.at.astimezone(tz)
    return {
        "punch_id": punch.id,
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
    }


class _Judged(NamedTuple):
    status: SlotStatus
    minutes: int
    serious: bool
    half_day_absent: bool
    notes: list[Note]


def _judge_in(
    key: str, punch: _P, expected: datetime, segment: Segment, tz: tzinfo, flexible: bool
) -> _Judged:
    mapped = SOURCE_SLOT_STATUS.get(punch.source)
    if mapped is not None:
        return _Judged(mapped, 0, False, False, [Note(mapped, key, {"time": _hhmm(punch.at, tz)})])
    late = max(0, (punch.at - expected) // _MINUTE)
    if late <= segment.grace_in:
        return _Judged("normal", 0, False, False, [])
    if segment.late_as_missing is not None and late > segment.late_as_missing:
        params = {"minutes": late, "threshold": segment.late_as_missing}
        return _Judged("missing", late, False, False, [Note("late_counted_missing", key, params)])
    if flexible:
        notes = [Note("flexible_late", key, {"minutes": late, "arrive_until": _hhmm(expected, tz)})]
    else:
        notes = [Note("late", key, {"minutes": late})]
    serious = late > segment.serious_late
    if serious:
        notes.append(
            Note("serious_late", key, {"minutes": late, "threshold": segment.serious_late})
        )
    half_threshold = segment.late_as_half_day_absent
    half = half_threshold is not None and late > half_threshold
    if half:
        notes.append(Note("half_day_absent", key, {"minutes": late, "threshold": half_threshold}))
    return _Judged("late", late, serious, half, notes)


def _judge_out(
    key: str, punch: _P, expected: datetime, segment: Segment, tz: tzinfo, required: int | None
) -> _Judged:
    mapped = SOURCE_SLOT_STATUS.get(punch.source)
    if mapped is not None:
        return _Judged(mapped, 0, False, False, [Note(mapped, key, {"time": _hhmm(punch.at, tz)})])
    early = max(0, (expected - punch.at) // _MINUTE)
    if early <= segment.grace_out:
        return _Judged("normal", 0, False, False, [])
    if segment.early_as_missing is not None and early > segment.early_as_missing:
        params = {"minutes": early, "threshold": segment.early_as_missing}
        return _Judged("missing", early, False, False, [Note("early_counted_missing", key, params)])
    if required is not None:
        note = Note("flexible_early", key, {"minutes": early, "required_minutes": required})
    else:
        note = Note("early", key, {"minutes": early})
    return _Judged("early", early, False, False, [note])


def _assign(
    layout: _Layout, punches: list[_P], flexible: bool
) -> tuple[dict[str, _P], list[_P], list[_P]]:
    """Slot key -> punch, plus the in-window punches left unused and those outside.

    Fixed shift: a check-in slot takes the earliest punch of its window, a check-out slot
    the latest. Flexible: the earliest and latest punches of the whole day window; a lone
    punch is a check-in before the segment midpoint and a check-out from it on.
    """
    in_window: dict[str, list[_P]] = {w.key: [] for w in layout.wins}
    outside: list[_P] = []
    for punch in punches:
        for w in layout.wins:
            if _contains(w.start, w.end, w.end_inclusive, punch.at):
                in_window[w.key].append(punch)
                break
        else:
            outside.append(punch)
    assigned: dict[str, _P] = {}
    if flexible:
        day = [p for w in layout.wins for p in in_window[w.key]]  # already in time order
        if len(day) == 1:
            assigned["in1" if in_window["in1"] else "out1"] = day[0]
        elif day:
            assigned["in1"], assigned["out1"] = day[0], day[-1]
        extra = day[1:-1]
    else:
        extra = []
        for w in layout.wins:
            found = in_window[w.key]
            if found:
                chosen = found[0] if w.kind == "in" else found[-1]
                assigned[w.key] = chosen
                extra.extend(p for p in found if p is not chosen)
    return assigned, extra, outside


def _slot(
    w: _Win,
    *,
    expected: datetime,
    punch: _P | None,
    judged: _Judged | None,
    exempt_kind: str | None,
    as_of: datetime | None,
    tz: tzinfo,
) -> tuple[SlotResult, list[Note]]:
    if exempt_kind is not None:
        status: SlotStatus = "exempt"
        minutes, serious, half = 0, False, False
        notes = [Note("exempt", w.key, {"kind": exempt_kind})]
    elif judged is not None:
        status, minutes, serious, half, notes = judged
    elif as_of is not None and as_of < w.end:
        status, minutes, serious, half = "pending", 0, False, False
        notes = [Note("not_yet_punched", w.key, {"until": _hhmm(w.end, tz)})]
    else:
        status, minutes, serious, half = "missing", 0, False, False
        notes = [Note("no_punch", w.key, {})]
    result = SlotResult(
        key=w.key,
        kind=w.kind,
        segment=w.segment,
        expected=expected.astimezone(tz),
        window_start=w.start.astimezone(tz),
        window_end=w.end.astimezone(tz),
        punch_id=punch.id if punch else None,
        punch_at=punch.at.astimezone(tz) if punch else None,
        status=status,
        minutes=minutes,
        serious=serious,
        half_day_absent=half,
        punch_source=punch.source if punch else None,
    )
    return result, notes


def _presence_edge(slot: SlotResult, merged: list[tuple[datetime, datetime]]) -> datetime | None:
    """Where presence starts (check-in) or ends (check-out) for worked minutes.

    A punch that counts gives its time, also on an exempt slot; an exempt slot without a
    punch gives the edge of the exemption covering it (a morning leave ends presence-free
    time at the leave's end). A missing or pending slot proves nothing: None.
    """
    if slot.punch_at is not None and (slot.status in _FILLED or slot.status == "exempt"):
        return slot.punch_at.astimezone(UTC)
    if slot.status != "exempt":
        return None
    expected = slot.expected.astimezone(UTC)
    if slot.kind == "in":
        return next((b for a, b in merged if a <= expected < b), expected)
    return next((a for a, b in merged if a < expected <= b), expected)


def evaluate_day(
    plan: DayPlan,
    punches: Iterable[PunchIn],
    exemptions: Iterable[Exemption] = (),
    *,
    as_of: datetime | None = None,
) -> DayResult:
    """Evaluate one employee-day; pure and independent of the order of ``punches``.

    See ``_evaluate_general`` for the rules. The common days take a fast path with the
    very same result: a fixed shift with no exemption and no voided punch
    (``_evaluate_fixed``), and a rest or holiday day (``_evaluate_off``).
    """
    if not isinstance(plan, DayPlan):
        raise ValueError("evaluate_day: plan must be a DayPlan")
    punches = punches if isinstance(punches, list | tuple) else list(punches)
    exemptions = exemptions if isinstance(exemptions, list | tuple) else list(exemptions)
    shift = plan.shift
    if shift is None:
        return _evaluate_off(plan, punches, exemptions, as_of)
    if exemptions or shift.flexible is not None:
        return _evaluate_general(plan, punches, exemptions, as_of=as_of)
    for punch in punches:
        if punch.__class__ is not PunchIn or punch.voided:
            return _evaluate_general(plan, punches, exemptions, as_of=as_of)
    return _evaluate_fixed(plan, punches, as_of)


def _evaluate_general(
    plan: DayPlan,
    punches: Iterable[PunchIn],
    exemptions: Iterable[Exemption] = (),
    *,
    as_of: datetime | None = None,
) -> DayResult:
    """Evaluate one employee-day (any plan, punches and exemptions): the reference path.

    ``as_of`` None means the day is final. Otherwise the result is provisional: a slot
    without a punch whose window is still open at ``as_of`` is ``pending`` ("not yet
    punched", not counted as missing), one whose window has closed is ``missing``. Punches
    after ``as_of`` are not filtered out: ``as_of`` only separates pending from missing.
    Voided punches change nothing but the explanation (a ``voided_ignored`` note each).

    Choices where rules.md is silent: a day whose non-exempt slots are all still pending is
    ``normal`` (and provisional); absence is one full day even when some slots are exempt
    (rules.md: "every non-exempt slot is missing"); each late slot beyond
    ``late_as_half_day_absent`` adds half a day, capped at one day; a correction or manual
    punch makes its slot corrected/manual whatever its time; a flexible check-out is due
    ``required_minutes`` after max(check-in, arrive_from), or after arrive_from when the
    check-in slot is missing, pending or exempt.
    """
    if not isinstance(plan, DayPlan):
        raise ValueError("evaluate_day: plan must be a DayPlan")
    as_of_utc = None
    if as_of is not None:
        _check_aware("as_of", as_of)
        as_of_utc = as_of.astimezone(UTC)
    tz = plan.tz
    live, voided = _prepare_punches(punches)
    exempts = _prepare_exemptions(exemptions)
    merged_all = _merge((x.start, x.end) for x in exempts)
    day_notes: list[Note] = []
    provisional_notes: list[Note] = []
    if as_of_utc is not None:
        as_of_text = as_of_utc.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        provisional_notes.append(Note("provisional", None, {"as_of": as_of_text}))
    voided_notes = [Note("voided_ignored", None, _punch_params(p, tz)) for p in voided]

    layout = _layout(plan)
    if layout is None or plan.shift is None:
        day_notes.append(Note(plan.kind, None, {}))
        day_notes.extend(provisional_notes)
        outside_notes = [Note("outside_schedule", None, _punch_params(p, tz)) for p in live]
        return DayResult(
            day=plan.day,
            kind=plan.kind,
            status="holiday" if plan.kind == "holiday" else "rest",
            provisional=as_of_utc is not None,
            slots=(),
            worked_minutes=0,
            late_count=0,
            late_minutes=0,
            serious_late_count=0,
            early_count=0,
            early_minutes=0,
            missing_in_count=0,
            missing_out_count=0,
            absent_days=0.0,
            corrected_count=0,
            manual_count=0,
            exempt_minutes_by_kind={},
            outside_punch_ids=tuple(p.id for p in live),
            notes=tuple(day_notes + outside_notes + voided_notes),
            shift_code=None,
            scheduled_minutes=0,
            pending_count=0,
            extra_punch_ids=(),
        )

    shift = plan.shift
    flexible = shift.flexible
    assigned, extra, outside = _assign(layout, live, flexible is not None)
    slots: list[SlotResult] = []
    slot_notes: list[Note] = []
    schedule: list[tuple[datetime, datetime]] = []
    worked = timedelta()
    for index, segment in enumerate(shift.segments):
        w_in, w_out = layout.wins[2 * index], layout.wins[2 * index + 1]
        seg_start, seg_end = layout.segments[index]

        punch = assigned.get(w_in.key)
        exempt_kind = _covering(exempts, "in", w_in.expected)
        judged = None
        if punch is not None and exempt_kind is None:
            judged = _judge_in(w_in.key, punch, w_in.expected, segment, tz, flexible is not None)
        in_slot, notes = _slot(
            w_in,
            expected=w_in.expected,
            punch=punch,
            judged=judged,
            exempt_kind=exempt_kind,
            as_of=as_of_utc,
            tz=tz,
        )
        slots.append(in_slot)
        slot_notes.extend(notes)

        if flexible is not None:
            assert layout.arrive_from is not None
            anchor = layout.arrive_from
            if in_slot.status in _FILLED and punch is not None:
                anchor = max(punch.at, layout.arrive_from)
            seg_start = anchor
            seg_end = anchor + timedelta(minutes=flexible.required_minutes)
        out_expected = seg_end

        punch = assigned.get(w_out.key)
        exempt_kind = _covering(exempts, "out", out_expected)
        judged = None
        if punch is not None and exempt_kind is None:
            required = flexible.required_minutes if flexible is not None else None
            judged = _judge_out(w_out.key, punch, out_expected, segment, tz, required)
        out_slot, notes = _slot(
            w_out,
            expected=out_expected,
            punch=punch,
            judged=judged,
            exempt_kind=exempt_kind,
            as_of=as_of_utc,
            tz=tz,
        )
        slots.append(out_slot)
        slot_notes.extend(notes)

        schedule.append((seg_start, seg_end))
        begin, finish = _presence_edge(in_slot, merged_all), _presence_edge(out_slot, merged_all)
        if begin is not None and finish is not None:
            lo, hi = max(begin, seg_start), min(finish, seg_end)
            if hi > lo:
                worked += (hi - lo) - _overlap(lo, hi, merged_all)

    exempt_minutes: dict[str, int] = {}
    for kind in sorted(EXEMPTION_KINDS):
        merged_kind = _merge((x.start, x.end) for x in exempts if x.kind == kind)
        covered = sum((_overlap(a, b, merged_kind) for a, b in schedule), timedelta())
        if covered >= _MINUTE:
            exempt_minutes[kind] = covered // _MINUTE

    statuses = [s.status for s in slots]
    non_exempt = [s for s in statuses if s != "exempt"]
    status: DayStatus
    if not non_exempt:
        status = "leave"
        day_notes.append(Note("all_exempt", None, {}))
    elif all(s == "missing" for s in non_exempt):
        status = "absent"
        day_notes.append(Note("absent", None, {}))
    elif any(s in ("late", "early", "missing") for s in non_exempt):
        status = "abnormal"
    else:
        status = "normal"
    day_notes.extend(provisional_notes)
    half_days = sum(1 for s in slots if s.half_day_absent)
    absent_days = 1.0 if status == "absent" else min(1.0, 0.5 * half_days)
    scheduled = sum(((b - a) for a, b in schedule), timedelta()) // _MINUTE
    outside_notes = [Note("outside_schedule", None, _punch_params(p, tz)) for p in outside]

    return DayResult(
        day=plan.day,
        kind=plan.kind,
        status=status,
        provisional=as_of_utc is not None,
        slots=tuple(slots),
        worked_minutes=worked // _MINUTE,
        late_count=statuses.count("late"),
        late_minutes=sum(s.minutes for s in slots if s.status == "late"),
        serious_late_count=sum(1 for s in slots if s.serious),
        early_count=statuses.count("early"),
        early_minutes=sum(s.minutes for s in slots if s.status == "early"),
        missing_in_count=sum(1 for s in slots if s.kind == "in" and s.status == "missing"),
        missing_out_count=sum(1 for s in slots if s.kind == "out" and s.status == "missing"),
        absent_days=absent_days,
        corrected_count=statuses.count("corrected"),
        manual_count=statuses.count("manual"),
        exempt_minutes_by_kind=exempt_minutes,
        outside_punch_ids=tuple(p.id for p in outside),
        notes=tuple(day_notes + slot_notes + outside_notes + voided_notes),
        shift_code=shift.code,
        scheduled_minutes=scheduled,
        pending_count=statuses.count("pending"),
        extra_punch_ids=tuple(p.id for p in extra),
    )


# --------------------------------------------------------------------------- fast paths
#
# The same rules as ``_evaluate_general`` for the days that are most of a month: instants
# are whole microseconds since the epoch (exact, so minute flooring is unchanged), a
# shift's windows for a date and zone are laid out once (``_FixedWin``), and the local
# times a result reports for them are built once and shared between results (datetimes
# are immutable). tests/attendance/test_engine_fastpath.py checks the equality.

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_US: Final = 60_000_000


def _us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, unlike ``timestamp()``)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class _FixedWin(NamedTuple):
    key: str
    kind: SlotKind
    segment: int
    expected: int  # microseconds since the epoch
    start: int
    end: int
    end_inclusive: bool
    expected_local: datetime  # as reported in SlotResult
    start_local: datetime
    end_local: datetime
    until: str  # HH:MM of the window end, for "not_yet_punched"
    grace: int  # grace_in / grace_out
    as_missing: int | None  # late_as_missing / early_as_missing
    serious_late: int
    half_day: int | None


class _Fixed(NamedTuple):
    shift: Shift
    wins: tuple[_FixedWin, ...]
    segments: tuple[tuple[int, int], ...]  # microseconds since the epoch
    scheduled_minutes: int


# Fixed layouts by (id(shift), day, zone), kept and bounded like _LAYOUTS.
_FIXED: dict[tuple[int, date, tzinfo], _Fixed] = {}
_WINS_US: dict[tuple[int, date, tzinfo], tuple[Shift, tuple[tuple[int, int, bool], ...]]] = {}


def _wins_us(plan: DayPlan) -> tuple[tuple[int, int, bool], ...]:
    """(start, end, end inclusive) of each punch window in microseconds; () without shift."""
    shift = plan.shift
    if shift is None:
        return ()
    key = (id(shift), plan.day, plan.tz)
    entry = _WINS_US.get(key)
    if entry is not None and entry[0] is shift:
        return entry[1]
    layout = _layout(plan)
    assert layout is not None
    wins = tuple((_us(w.start), _us(w.end), w.end_inclusive) for w in layout.wins)
    if len(_WINS_US) >= _LAYOUTS_MAX:
        _WINS_US.clear()
    _WINS_US[key] = (shift, wins)
    return wins


def _trusted_punch(punch_id: int | str, at: datetime, source: str, voided: bool) -> PunchIn:
    """A PunchIn from stored rows (aware time, known source) without re-validating it."""
    punch = object.__new__(PunchIn)
    setattr_ = object.__setattr__
    setattr_(punch, "id", punch_id)
    setattr_(punch, "at", at)
    setattr_(punch, "source", source)
    setattr_(punch, "voided", voided)
    return punch


def _fixed(plan: DayPlan, shift: Shift) -> _Fixed:
    key = (id(shift), plan.day, plan.tz)
    found = _FIXED.get(key)
    if found is not None and found.shift is shift:
        return found
    layout = _layout(plan)
    assert layout is not None
    tz = plan.tz
    wins = []
    for w in layout.wins:
        segment = shift.segments[w.segment - 1]
        end_local = w.end.astimezone(tz)
        wins.append(
            _FixedWin(
                w.key,
                w.kind,
                w.segment,
                _us(w.expected),
                _us(w.start),
                _us(w.end),
                w.end_inclusive,
                w.expected.astimezone(tz),
                w.start.astimezone(tz),
                end_local,
                end_local.strftime("%H:%M"),
                segment.grace_in if w.kind == "in" else segment.grace_out,
                segment.late_as_missing if w.kind == "in" else segment.early_as_missing,
                segment.serious_late,
                segment.late_as_half_day_absent,
            )
        )
    segments = tuple((_us(a), _us(b)) for a, b in layout.segments)
    scheduled = sum(b - a for a, b in segments) // _MIN_US
    found = _Fixed(shift, tuple(wins), segments, scheduled)
    if len(_FIXED) >= _LAYOUTS_MAX:
        _FIXED.clear()
    _FIXED[key] = found
    return found


_AS_OF_TEXT: dict[tuple[datetime, tzinfo], str] = {}


def _as_of(as_of: datetime | None, tz: tzinfo) -> tuple[int | None, list[Note]]:
    """``as_of`` in microseconds and the provisional note (text memoised per zone)."""
    if as_of is None:
        return None, []
    _check_aware("as_of", as_of)
    key = (as_of, tz)
    text = _AS_OF_TEXT.get(key)
    if text is None:
        if len(_AS_OF_TEXT) > 256:
            _AS_OF_TEXT.clear()
        text = _AS_OF_TEXT[key] = as_of.astimezone(UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return _us(as_of), [Note("provisional", None, {"as_of": text})]


def _sort_key(item: tuple[int, str, PunchIn]) -> tuple[int, str]:
    return item[0], item[1]


def _prepared(punches: Sequence[PunchIn]) -> list[tuple[int, str, PunchIn]]:
    """(microseconds, str(id), punch), sorted and deduplicated as ``_prepare_punches``."""
    if not punches:
        return []
    items = []
    for punch in punches:
        if not isinstance(punch, PunchIn):
            raise ValueError(f"expected PunchIn, got {punch!r}")
        items.append((_us(punch.at), str(punch.id), punch))
    if len(items) == 1:
        return items
    items.sort(key=_sort_key)
    seen: set[tuple[bool, int, str]] = set()
    kept = []
    for item in items:
        punch = item[2]
        key = (punch.voided, item[0], punch.source)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _local_params(punch: PunchIn, tz: tzinfo) -> dict[str, Any]:
    local = punch.at.astimezone(tz)
    return {"punch_id": punch.id, "date": local.date().isoformat(), "time": f"{local:%H:%M}"}


def _evaluate_off(
    plan: DayPlan, punches: Sequence[PunchIn], exemptions: Sequence[Exemption], as_of
) -> DayResult:
    """A rest or holiday day: every live punch is outside the schedule."""
    for exemption in exemptions:
        if not isinstance(exemption, Exemption):
            raise ValueError(f"expected Exemption, got {exemption!r}")
    tz = plan.tz
    as_of_us, notes = _as_of(as_of, tz)
    items = _prepared(punches)
    live = [p for _us_, _id, p in items if not p.voided]
    voided = [p for _us_, _id, p in items if p.voided]
    return DayResult(
        day=plan.day,
        kind=plan.kind,
        status="holiday" if plan.kind == "holiday" else "rest",
        provisional=as_of_us is not None,
        slots=(),
        worked_minutes=0,
        late_count=0,
        late_minutes=0,
        serious_late_count=0,
        early_count=0,
        early_minutes=0,
        missing_in_count=0,
        missing_out_count=0,
        absent_days=0.0,
        corrected_count=0,
        manual_count=0,
        exempt_minutes_by_kind={},
        outside_punch_ids=tuple(p.id for p in live),
        notes=(
            Note(plan.kind, None, {}),
            *notes,
            *(Note("outside_schedule", None, _local_params(p, tz)) for p in live),
            *(Note("voided_ignored", None, _local_params(p, tz)) for p in voided),
        ),
        shift_code=None,
        scheduled_minutes=0,
        pending_count=0,
        extra_punch_ids=(),
    )


def _evaluate_fixed(plan: DayPlan, punches: Sequence[PunchIn], as_of: datetime | None) -> DayResult:
    """A fixed shift with no exemption and no voided punch (checked by the caller)."""
    shift = plan.shift
    assert shift is not None
    tz = plan.tz
    fixed = _fixed(plan, shift)
    wins = fixed.wins
    as_of_us, provisional_notes = _as_of(as_of, tz)

    # Assignment (_assign, fixed shift): the first window holding a punch; a check-in
    # takes the earliest punch of its window, a check-out the latest.
    found: list[list[tuple[int, str, PunchIn]]] = [[] for _w in wins]
    outside: list[PunchIn] = []
    for item in _prepared(punches):
        at = item[0]
        for index, w in enumerate(wins):
            if w.start <= at and (at < w.end or (w.end_inclusive and at == w.end)):
                found[index].append(item)
                break
        else:
            outside.append(item[2])

    slots: list[SlotResult] = []
    slot_notes: list[Note] = []
    extra: list[PunchIn] = []
    worked = 0
    late_minutes = early_minutes = serious_count = half_days = 0
    counts = {"late": 0, "early": 0, "corrected": 0, "manual": 0, "pending": 0}
    missing_in = missing_out = 0
    begin = 0
    begin_ok = False
    for index, w in enumerate(wins):
        bucket = found[index]
        chosen = None
        if bucket:
            chosen = bucket[0] if w.kind == "in" else bucket[-1]
            if len(bucket) > 1:
                extra.extend(item[2] for item in bucket if item is not chosen)
        minutes = 0
        serious = half = False
        if chosen is not None:
            at, _sid, punch = chosen
            local = punch.at.astimezone(tz)
            mapped = SOURCE_SLOT_STATUS.get(punch.source)
            if mapped is not None:
                status: SlotStatus = mapped
                slot_notes.append(Note(mapped, w.key, {"time": f"{local:%H:%M}"}))
            else:
                if w.kind == "in":
                    late = (at - w.expected) // _MIN_US
                else:
                    late = (w.expected - at) // _MIN_US
                if late <= w.grace:  # also when early / late is negative
                    status = "normal"
                elif w.as_missing is not None and late > w.as_missing:
                    status, minutes = "missing", late
                    code = "late_counted_missing" if w.kind == "in" else "early_counted_missing"
                    params = {"minutes": late, "threshold": w.as_missing}
                    slot_notes.append(Note(code, w.key, params))
                elif w.kind == "in":
                    status, minutes = "late", late
                    slot_notes.append(Note("late", w.key, {"minutes": late}))
                    serious = late > w.serious_late
                    if serious:
                        params = {"minutes": late, "threshold": w.serious_late}
                        slot_notes.append(Note("serious_late", w.key, params))
                    half = w.half_day is not None and late > w.half_day
                    if half:
                        params = {"minutes": late, "threshold": w.half_day}
                        slot_notes.append(Note("half_day_absent", w.key, params))
                else:
                    status, minutes = "early", late
                    slot_notes.append(Note("early", w.key, {"minutes": late}))
            slot = SlotResult(
                w.key,
                w.kind,
                w.segment,
                w.expected_local,
                w.start_local,
                w.end_local,
                punch.id,
                local,
                status,
                minutes,
                serious,
                half,
                punch.source,
            )
        else:
            at = 0
            if as_of_us is not None and as_of_us < w.end:
                status = "pending"
                slot_notes.append(Note("not_yet_punched", w.key, {"until": w.until}))
            else:
                status = "missing"
                slot_notes.append(Note("no_punch", w.key, {}))
            slot = SlotResult(
                w.key,
                w.kind,
                w.segment,
                w.expected_local,
                w.start_local,
                w.end_local,
                None,
                None,
                status,
                0,
                False,
                False,
                None,
            )
        slots.append(slot)
        if status == "missing":
            if w.kind == "in":
                missing_in += 1
            else:
                missing_out += 1
        elif status == "late":
            counts["late"] += 1
            late_minutes += minutes
        elif status == "early":
            counts["early"] += 1
            early_minutes += minutes
        elif status != "normal":
            counts[status] += 1
        if serious:
            serious_count += 1
        if half:
            half_days += 1
        filled = chosen is not None and status in _FILLED
        if w.kind == "in":
            begin, begin_ok = at, filled
        elif begin_ok and filled:
            seg_start, seg_end = fixed.segments[w.segment - 1]
            lo = begin if begin > seg_start else seg_start
            hi = at if at < seg_end else seg_end
            if hi > lo:
                worked += hi - lo

    day_notes: list[Note] = []
    day_status: DayStatus
    missing = missing_in + missing_out
    if missing == len(slots):
        day_status = "absent"
        day_notes.append(Note("absent", None, {}))
        absent_days = 1.0
    else:
        abnormal = missing or counts["late"] or counts["early"]
        day_status = "abnormal" if abnormal else "normal"
        absent_days = min(1.0, 0.5 * half_days)
    day_notes.extend(provisional_notes)
    day_notes.extend(slot_notes)
    for punch in outside:
        day_notes.append(Note("outside_schedule", None, _local_params(punch, tz)))

    return DayResult(
        plan.day,
        plan.kind,
        day_status,
        as_of_us is not None,
        tuple(slots),
        worked // _MIN_US,
        counts["late"],
        late_minutes,
        serious_count,
        counts["early"],
        early_minutes,
        missing_in,
        missing_out,
        absent_days,
        counts["corrected"],
        counts["manual"],
        {},
        tuple(p.id for p in outside),
        tuple(day_notes),
        shift.code,
        fixed.scheduled_minutes,
        counts["pending"],
        tuple(p.id for p in extra),
    )
