"""Overtime (加班) of one employee-day, computed from its punches against the plan.

Pure, like the rest of the engine. The caller passes the plan, the punches that belong to
the date (``partition_punches``: each punch belongs to exactly one attendance date), the
group's :class:`OvertimePolicy` and the approved overtime spans of the date. Rules (also
in docs/overtime.md):

* **Work day, fixed shift**: time before the first segment's start, from the earliest
  punch of the date, and time after the last segment's end, up to the latest punch of the
  date. The breaks between segments are never overtime. Both need two punches (one punch
  proves no presence over a span).
* **Work day, flexible shift**: time after ``max(first punch, arrive_from) +
  required_minutes`` up to the latest punch.
* **Rest day and holiday**: the whole time from the earliest to the latest punch.
* Each such stretch is a *block*; a block is measured exactly (seconds count) and
  rounded down to whole minutes once, then dropped when shorter than
  ``min_block_minutes`` and otherwise rounded down to a multiple of ``unit_minutes``.
* Category by the plan (中国劳动法 art. 44): ``work`` (a make-up working day too) →
  ``weekday`` (1.5×); ``rest`` → ``rest`` (2×); a ``holiday`` that is ``statutory``
  (法定节假日) → ``holiday`` (3×); any other holiday (a rest day moved into the period,
  调休, or a 补假 day) → ``rest`` (2×). The category is the plan's alone: no punch of the
  date or of another date changes it.
* **Counted** minutes: all computed minutes when the policy says computed overtime needs
  no request; otherwise only the part of each block inside approved spans, with the same
  minimum and rounding per block.

Never negative (blocks are empty when the punches do not reach past the shift) and never
counted twice across consecutive dates: every block lies between the earliest and the
latest punch of its own date, and the dates' punch sets follow each other in time
(tests/engine/test_overtime.py checks both on random plans and punches).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from .inputs import DayKind, DayPlan, PunchIn, check_aware, check_minutes
from .layout import EPOCH, MIN_US, layout, to_us

OvertimeKind = Literal["weekday", "rest", "holiday"]
OVERTIME_KINDS: Final = ("weekday", "rest", "holiday")
# Pay rate of each category (中国劳动法 art. 44), for reports.
OVERTIME_RATES: Final = {"weekday": "1.5", "rest": "2", "holiday": "3"}
# (plan kind, statutory) → category: a holiday pays 3× only when statutory.
_KIND_OF_DAY: Final[dict[tuple[DayKind, bool], OvertimeKind]] = {
    ("work", False): "weekday",
    ("rest", False): "rest",
    ("holiday", False): "rest",
    ("holiday", True): "holiday",
}
_MICROSECOND: Final = timedelta(microseconds=1)

Span = tuple[datetime, datetime]  # aware; the blocks of a result are in UTC


@dataclass(frozen=True, slots=True)
class OvertimePolicy:
    """A group's overtime rules: minimum block, rounding unit, whether a request is needed."""

    min_block_minutes: int = 30
    unit_minutes: int = 30
    needs_request: bool = True

    def __post_init__(self) -> None:
        check_minutes("OvertimePolicy", "min_block_minutes", self.min_block_minutes)
        check_minutes("OvertimePolicy", "unit_minutes", self.unit_minutes)
        if not 1 <= self.unit_minutes <= 240:
            raise ValueError("OvertimePolicy.unit_minutes must be between 1 and 240")
        if self.min_block_minutes > 1440:
            raise ValueError("OvertimePolicy.min_block_minutes must be at most 1440")
        if not isinstance(self.needs_request, bool):
            raise ValueError("OvertimePolicy.needs_request must be a bool")

    def block_minutes(self, length: timedelta) -> int:
        """Whole minutes of one block after the minimum and the rounding (never negative)."""
        return self.block_minutes_us(length // _MICROSECOND)

    def block_minutes_us(self, length: int) -> int:
        """``block_minutes`` of a length in microseconds."""
        if length <= 0:
            return 0
        minutes = length // MIN_US
        if minutes < self.min_block_minutes or minutes <= 0:
            return 0
        return minutes - minutes % self.unit_minutes


DEFAULT_POLICY: Final = OvertimePolicy()


@dataclass(frozen=True, slots=True)
class Overtime:
    """The overtime of one date: computed minutes (from punches), counted minutes (what
    pays), the category and the blocks (UTC) they were measured on."""

    kind: OvertimeKind
    minutes: int
    counted_minutes: int
    blocks_us: tuple[tuple[int, int], ...] = ()  # microseconds since the epoch

    @property
    def blocks(self) -> tuple[Span, ...]:
        """The blocks as UTC datetimes."""
        return tuple((_moment(a), _moment(b)) for a, b in self.blocks_us)


def overtime_kind(plan: DayPlan) -> OvertimeKind:
    """The overtime category of the plan's date (see the module's rules)."""
    return _KIND_OF_DAY[(plan.kind, plan.statutory)]


def category_of(kind: DayKind, statutory: bool) -> OvertimeKind:
    """``overtime_kind`` from a plan's kind and statutory flag (e.g. of a ``DayResult``)."""
    return _KIND_OF_DAY[(kind, statutory)]


# The result of a day without overtime, shared (most days: the recompute asks for each).
_NONE: Final[dict[OvertimeKind, Overtime]] = {kind: Overtime(kind, 0, 0) for kind in OVERTIME_KINDS}


def _blocks(plan: DayPlan, first: int, last: int) -> list[tuple[int, int]]:
    """The stretches of presence outside the plan's scheduled time, in microseconds since
    the epoch (``layout.to_us``), from the date's first and last punch."""
    found = layout(plan)
    if found is None:  # rest day or holiday: all of it
        return [(first, last)]
    flexible = found.shift.flexible
    if flexible is not None and found.arrive_from is not None:
        due = max(first, to_us(found.arrive_from)) + flexible.required_minutes * MIN_US
        return [(due, last)] if last > due else []
    start, end = found.segments_us[0][0], found.segments_us[-1][1]
    blocks: list[tuple[int, int]] = []
    if first < start:
        blocks.append((first, min(start, last)))
    if last > end:
        blocks.append((max(end, first), last))
    return blocks


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _inside(block: tuple[int, int], approved: list[tuple[int, int]]) -> int:
    total = 0
    for a, b in approved:
        lo, hi = max(a, block[0]), min(b, block[1])
        if hi > lo:
            total += hi - lo
    return total


def _moment(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def compute_overtime(
    plan: DayPlan,
    punches: Sequence[PunchIn],
    policy: OvertimePolicy = DEFAULT_POLICY,
    approved: Iterable[Span] = (),
) -> Overtime:
    """The overtime of ``plan``'s date from the punches that belong to it (voided ones are
    ignored); ``approved``: the approved overtime spans (aware datetimes) of the date."""
    if not isinstance(plan, DayPlan):
        raise ValueError("compute_overtime: plan must be a DayPlan")
    if not isinstance(policy, OvertimePolicy):
        raise ValueError("compute_overtime: policy must be an OvertimePolicy")
    kind = _KIND_OF_DAY[(plan.kind, plan.statutory)]
    first: int | None = None
    last: int | None = None
    for punch in punches:
        if punch.voided:
            continue
        at = to_us(punch.at)
        if first is None or at < first:
            first = at
        if last is None or at > last:
            last = at
    if first is None or last is None or last <= first:
        return _NONE[kind]
    blocks = [(a, b) for a, b in _blocks(plan, first, last) if b > a]
    if not blocks:
        return _NONE[kind]
    block_minutes = policy.block_minutes_us
    minutes = 0
    for a, b in blocks:
        minutes += block_minutes(b - a)
    counted = minutes if not policy.needs_request else 0
    if policy.needs_request and approved:
        spans = []
        for start, end in approved:
            check_aware("approved span start", start)
            check_aware("approved span end", end)
            if end > start:
                spans.append((to_us(start), to_us(end)))
        merged = _merge(spans)
        for block in blocks:
            counted += block_minutes(_inside(block, merged))
    return Overtime(kind, minutes, min(counted, minutes), tuple(blocks))
