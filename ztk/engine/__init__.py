"""Pure attendance engine: one employee-day in, one explained result (and stored row) out.

No Django, no ORM and no clock: the caller passes the day plan, the punches, the approved
exemptions and, for a day that is not final yet, the instant to evaluate at (``as_of``).
The semantics are those of ``shared/design/rules.md``; where that text is silent the
choice made here is stated in the docstring of the function that makes it:

* Minutes are whole minutes, rounded down: a check-in at 09:00:59 for 09:00 is on time and
  a check-out at 17:59:30 for 18:00 is not early (sub-minute differences are forgiven).
  Grace and thresholds are judged on those whole minutes (``judge.judge``).
* A slot judged "counted as missing" (late / early beyond the threshold) keeps its punch:
  the punch is matched to it, bounds the worked time and anchors a flexible check-out;
  only the slot's status (and so the day's status and pay) says missing.
* Worked time is summed exactly over the day's segments and rounded down once.
* A slot is covered by an exemption when the exemption contains its expected time
  (check-in: ``start <= t < end``; check-out: ``start < t <= end``).
* Worked minutes exclude time covered by exemptions; that time is reported per kind in
  ``exempt_minutes_by_kind``, so worked plus exempt time (each minute counted once)
  never exceeds the scheduled minutes.
* Duplicate punches (same instant, same source) count once, whatever their ids.
* Windows never overlap: between segments, and between the last segment of a date and the
  first of the next when their windows would overlap (``split_overlaps``), the gap is cut
  at its midpoint; a punch exactly there belongs to the later check-in.

Every explanation is a tuple of structured :class:`Note` objects; ``NOTE_TEXT_EN`` holds an
English template per code and the Django layer translates the codes.

Modules: ``inputs`` (plans, shifts, punches, exemptions), ``results``, ``layout`` (punch
windows and the cut between dates), ``partition`` (which date a punch belongs to),
``judge`` (every slot and day status rule, once), ``evaluate`` (the general path and the
fast paths), ``overtime`` (overtime from punches), ``rows`` (the stored row as text).
Import from ``ztk.engine``.
"""

from .evaluate import evaluate_day
from .inputs import (
    DAY_KINDS,
    EXEMPTION_KINDS,
    PUNCH_SOURCES,
    SOURCE_SLOT_STATUS,
    DayKind,
    DayPlan,
    DayStatus,
    Exemption,
    ExemptionKind,
    Flexible,
    PunchIn,
    PunchSource,
    Segment,
    Shift,
    SlotKind,
    SlotStatus,
    stored_punch,
)
from .layout import slot_key_for, slot_windows, split_overlaps, windows
from .overtime import (
    DEFAULT_POLICY,
    OVERTIME_KINDS,
    OVERTIME_RATES,
    Overtime,
    OvertimeKind,
    OvertimePolicy,
    compute_overtime,
    overtime_kind,
)
from .partition import affected_dates, attendance_date_for, partition_punches, punch_reach
from .results import (
    NOTE_CODES,
    NOTE_TEXT_EN,
    DayResult,
    Note,
    SlotResult,
    SlotWindow,
    explain_en,
)
from .rows import (
    ROW_COLUMNS,
    DayRow,
    day_row,
    jsonable,
    notes_json,
    result_row,
    slot_to_json,
    slots_json,
)

__all__ = [
    "DEFAULT_POLICY",
    "OVERTIME_KINDS",
    "OVERTIME_RATES",
    "Overtime",
    "OvertimeKind",
    "OvertimePolicy",
    "compute_overtime",
    "overtime_kind",
    "DAY_KINDS",
    "EXEMPTION_KINDS",
    "NOTE_CODES",
    "NOTE_TEXT_EN",
    "PUNCH_SOURCES",
    "ROW_COLUMNS",
    "SOURCE_SLOT_STATUS",
    "DayKind",
    "DayPlan",
    "DayResult",
    "DayRow",
    "DayStatus",
    "Exemption",
    "ExemptionKind",
    "Flexible",
    "Note",
    "PunchIn",
    "PunchSource",
    "Segment",
    "Shift",
    "SlotKind",
    "SlotResult",
    "SlotStatus",
    "SlotWindow",
    "affected_dates",
    "attendance_date_for",
    "day_row",
    "evaluate_day",
    "explain_en",
    "jsonable",
    "notes_json",
    "partition_punches",
    "punch_reach",
    "result_row",
    "slot_key_for",
    "slot_to_json",
    "slot_windows",
    "slots_json",
    "split_overlaps",
    "stored_punch",
    "windows",
]
