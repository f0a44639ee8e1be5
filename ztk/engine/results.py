"""What the engine gives back: slot and day results with structured explanations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from .inputs import DayKind, DayStatus, SlotKind, SlotStatus, check_aware


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
    grace: int = 0  # grace_in / grace_out, minutes (rules.md "Slot status")

    def contains(self, at: datetime) -> bool:
        check_aware("at", at)
        moment = at.astimezone(UTC)
        start, end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        return start <= moment <= end if self.end_inclusive else start <= moment < end

    def on_time_until(self) -> datetime:
        """The first instant at which a punch in this window is no longer on time (the
        bound is exclusive). A check-in is on time up to ``expected`` + the grace, judged
        in whole minutes as ``judge.judge`` does (grace 0: 09:00:59 is still on time), and
        never past the window's end; a check-out is on time anywhere in its window from
        ``expected`` on, so its bound is the window's end (one microsecond past an
        inclusive end)."""
        if self.kind == "in":
            return min(self.expected + timedelta(minutes=self.grace + 1), self.end)
        return self.end + timedelta(microseconds=1) if self.end_inclusive else self.end

    def end_exclusive(self) -> datetime:
        """The window's end as an exclusive bound."""
        return self.end + timedelta(microseconds=1) if self.end_inclusive else self.end


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
    statutory: bool = False  # the plan's: a statutory holiday (法定节假日)


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
