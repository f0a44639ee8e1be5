"""What the engine is given: shifts and their segments, the day plan, punches, exemptions.

Every input is validated when built, so the evaluation never meets a malformed value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Final, Literal
from zoneinfo import ZoneInfo

DayKind = Literal["work", "rest", "holiday"]
SlotKind = Literal["in", "out"]
SlotStatus = Literal[
    "normal", "late", "early", "missing", "corrected", "manual", "exempt", "pending"
]
DayStatus = Literal["normal", "abnormal", "absent", "rest", "holiday", "leave"]
ExemptionKind = Literal["leave", "outing", "trip"]
PunchSource = Literal[
    "device", "web", "mobile", "manual", "correction", "import", "paper", "history"
]

DAY_KINDS: Final = frozenset({"work", "rest", "holiday"})
EXEMPTION_KINDS: Final = frozenset({"leave", "outing", "trip"})
PUNCH_SOURCES: Final = frozenset(
    {"device", "web", "mobile", "manual", "correction", "import", "paper", "history"}
)
# Sources whose punch fills a slot as an approved fix, whatever its time. A paper form is
# an approved correction entered by HR, "history" a historical correction HR imported
# (hrdesk.bulk_import); "import" is raw terminal data (a USB attendance log), so it is
# judged by its time like any device punch.
SOURCE_SLOT_STATUS: Final[Mapping[str, SlotStatus]] = MappingProxyType(
    {"correction": "corrected", "paper": "corrected", "history": "corrected", "manual": "manual"}
)

DAY_MINUTES: Final = 24 * 60


# --------------------------------------------------------------------------- validation


def check_minutes(owner: str, name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{owner}.{name} must be a non-negative whole number of minutes")


def check_time(owner: str, name: str, value: object) -> None:
    if not isinstance(value, time):
        raise ValueError(f"{owner}.{name} must be a datetime.time")
    if value.tzinfo is not None:
        raise ValueError(f"{owner}.{name} must be a naive local time (the plan has the zone)")
    if value.second or value.microsecond:
        raise ValueError(f"{owner}.{name} must be a whole minute, got {value.isoformat()}")


def check_aware(what: str, value: object) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")


def clock(value: time) -> int:
    """Minutes after 00:00 of a wall-clock time."""
    return value.hour * 60 + value.minute


def wall(day: date, tz: tzinfo, minutes: int) -> datetime:
    """The instant (UTC) at ``minutes`` of wall-clock time after 00:00 of ``day``."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=tz).astimezone(UTC)


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
        check_time("Segment", "start", self.start)
        check_time("Segment", "end", self.end)
        for name in ("in_earliest", "out_latest", "grace_in", "grace_out", "serious_late"):
            check_minutes("Segment", name, getattr(self, name))
        for name in ("late_as_missing", "early_as_missing", "late_as_half_day_absent"):
            check_minutes("Segment", name, getattr(self, name), optional=True)
        # Windows reach at most one day either side, so a punch only ever concerns the
        # previous, the same or the next attendance date (see affected_dates).
        if self.in_earliest > DAY_MINUTES or self.out_latest > DAY_MINUTES:
            raise ValueError("Segment.in_earliest and out_latest must be at most 1440 minutes")
        if self.late_as_missing is not None and self.grace_in > self.late_as_missing:
            raise ValueError("Segment.grace_in must not exceed late_as_missing")
        if self.early_as_missing is not None and self.grace_out > self.early_as_missing:
            raise ValueError("Segment.grace_out must not exceed early_as_missing")

    @property
    def duration_minutes(self) -> int:
        """Length on the wall clock; equal start and end means a 24-hour segment."""
        return (clock(self.end) - clock(self.start)) % DAY_MINUTES or DAY_MINUTES


@dataclass(frozen=True, slots=True)
class Flexible:
    """Flexible hours (弹性): arrive between two times, then work ``required_minutes``."""

    arrive_from: time
    arrive_until: time
    required_minutes: int

    def __post_init__(self) -> None:
        check_time("Flexible", "arrive_from", self.arrive_from)
        check_time("Flexible", "arrive_until", self.arrive_until)
        check_minutes("Flexible", "required_minutes", self.required_minutes)
        if not 0 < self.required_minutes <= DAY_MINUTES:
            raise ValueError("Flexible.required_minutes must be between 1 and 1440")

    @property
    def arrive_span_minutes(self) -> int:
        return (clock(self.arrive_until) - clock(self.arrive_from)) % DAY_MINUTES


def segment_offsets(segments: Sequence[Segment]) -> tuple[tuple[int, int], ...]:
    """Start/end of each segment in wall-clock minutes from 00:00 of the attendance date.

    Each later segment starts at the first occurrence of its start time at or after the
    previous segment's end, so segments are chronological by construction.
    """
    offsets: list[tuple[int, int]] = []
    previous_end: int | None = None
    for segment in segments:
        start = clock(segment.start)
        if previous_end is not None:
            start = previous_end + (start - previous_end) % DAY_MINUTES
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
        offsets = segment_offsets(self.segments)
        if offsets[-1][1] - offsets[0][0] > DAY_MINUTES:
            raise ValueError(
                f"Shift {self.code}: segments must be in chronological order and span "
                "at most 24 hours from the first start to the last end"
            )
        if offsets[-1][1] + self.segments[-1].out_latest > 2 * DAY_MINUTES:
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
    """What employee E should do on attendance date ``day``; rest/holiday have no shift.

    ``previous_split`` / ``next_split``: where the punch windows of this date meet those of
    the day before / after when they would overlap (a night shift followed by an early
    shift), set by ``split_overlaps``: this date's windows start no earlier than
    ``previous_split``, and its last check-out window ends at ``next_split``, exclusive.

    ``statutory``: a holiday that is a festival day of the law (法定节假日; overtime 3×),
    not a rest day moved into a holiday period (调休) or given for a festival on a weekend
    (补假; 2×). Only a holiday can be statutory.
    """

    day: date
    tz: ZoneInfo
    kind: DayKind
    shift: Shift | None
    day_boundary_hour: int = 0
    previous_split: datetime | None = None
    next_split: datetime | None = None
    statutory: bool = False

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
        if not isinstance(self.statutory, bool):
            raise ValueError("DayPlan.statutory must be a bool")
        if self.statutory and self.kind != "holiday":
            raise ValueError("DayPlan: only a holiday can be statutory")
        hour = self.day_boundary_hour
        if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
            raise ValueError("DayPlan.day_boundary_hour must be an hour from 0 to 23")
        if self.previous_split is not None or self.next_split is not None:
            self._check_splits()

    def _check_splits(self) -> None:
        if self.shift is None:
            raise ValueError(f"DayPlan: a {self.kind} day has no windows to split")
        offsets = segment_offsets(self.shift.segments)
        if self.previous_split is not None:
            check_aware("DayPlan.previous_split", self.previous_split)
            if self.previous_split > wall(self.day, self.tz, offsets[0][0]):
                raise ValueError("DayPlan.previous_split must not be after the shift starts")
        if self.next_split is not None:
            check_aware("DayPlan.next_split", self.next_split)
            if self.next_split < wall(self.day, self.tz, offsets[-1][1]):
                raise ValueError("DayPlan.next_split must not be before the shift ends")


@dataclass(frozen=True, slots=True)
class PunchIn:
    """A raw punch as stored; voided punches are kept but ignored."""

    id: int | str
    at: datetime
    source: PunchSource
    voided: bool = False

    def __post_init__(self) -> None:
        check_aware("PunchIn.at", self.at)
        if self.source not in PUNCH_SOURCES:
            raise ValueError(f"PunchIn.source must be one of {sorted(PUNCH_SOURCES)}")


def stored_punch(punch_id: int | str, at: datetime, source: str, voided: bool) -> PunchIn:
    """A PunchIn from stored rows (aware time, known source) without validating it again:
    the database already holds only valid punches, and recompute builds millions."""
    punch = object.__new__(PunchIn)
    setattr_ = object.__setattr__
    setattr_(punch, "id", punch_id)
    setattr_(punch, "at", at)
    setattr_(punch, "source", source)
    setattr_(punch, "voided", voided)
    return punch


@dataclass(frozen=True, slots=True)
class Exemption:
    """Approved leave, outing (外出) or business trip (出差) covering [start, end)."""

    start: datetime
    end: datetime
    kind: ExemptionKind

    def __post_init__(self) -> None:
        check_aware("Exemption.start", self.start)
        check_aware("Exemption.end", self.end)
        if self.end <= self.start:
            raise ValueError("Exemption.end must be after Exemption.start")
        if self.kind not in EXEMPTION_KINDS:
            raise ValueError(f"Exemption.kind must be one of {sorted(EXEMPTION_KINDS)}")
