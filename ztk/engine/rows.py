"""The stored row of an employee-day (one ``AttendanceDay``), built as text.

A row is a ``DayRow`` whose fields are the table's columns; ``slots``, ``notes``,
``exempt_minutes`` and ``outside_punch_ids`` are JSON text, byte for byte what
``json.dumps(..., ensure_ascii=False)`` writes for ``slot_to_json`` and the note dicts
(tests/engine/test_rows.py checks it), built from fragments because a month's recompute
writes hundreds of thousands of rows. ``day_row`` is the one way to a row: the fixed-shift
days most of a month is made of go from ``evaluate.fixed_day`` straight to text, without
the result objects (half the cost of a range recompute was building and reading them);
every other day goes through ``evaluate_day`` and ``result_row``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final, NamedTuple

from .evaluate import evaluate_day, fixed_day, fixed_only, punch_params
from .inputs import DayPlan, Exemption, PunchIn
from .judge import Verdict
from .layout import MIN_US, Win
from .overtime import category_of, overtime_kind
from .results import DayResult, Note, SlotResult


class DayRow(NamedTuple):
    """One AttendanceDay row, field for column (``ROW_COLUMNS``)."""

    employee_id: int
    day: date
    kind: str
    shift_code: str
    status: str
    provisional: bool
    finalised: bool
    worked_minutes: int
    late_count: int
    late_minutes: int
    serious_late_count: int
    early_count: int
    early_minutes: int
    missing_in_count: int
    missing_out_count: int
    absent_days: Decimal
    corrected_count: int
    manual_count: int
    exempt_minutes: str  # JSON
    slots: str  # JSON
    notes: str  # JSON
    outside_punch_ids: str  # JSON
    computed_at: datetime
    # Overtime (``overtime.compute_overtime``): set by the recompute, which knows the
    # group's policy and the approved requests; 0 on a row built by ``day_row`` alone.
    overtime_minutes: int = 0
    overtime_counted_minutes: int = 0
    # The date's overtime category (``overtime.overtime_kind`` of the plan: weekday 1.5×,
    # rest 2×, holiday 3×), set on every row so that reports sum by it.
    overtime_kind: str = "weekday"


ROW_COLUMNS: Final = DayRow._fields


def jsonable(value: Any) -> Any:
    """A value as JSON holds it: dates and times as ISO text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def slot_to_json(slot: SlotResult) -> dict[str, Any]:
    """A slot as stored in ``AttendanceDay.slots`` (and shown by the API)."""
    return {
        "key": slot.key,
        "kind": slot.kind,
        "segment": slot.segment,
        "expected": _iso(slot.expected),
        "window_start": _iso(slot.window_start),
        "window_end": _iso(slot.window_end),
        "punch_id": slot.punch_id,
        "punch_at": _iso(slot.punch_at),
        "punch_source": slot.punch_source,
        "status": slot.status,
        "minutes": slot.minutes,
        "serious": slot.serious,
        "half_day_absent": slot.half_day_absent,
    }


# Encoders built once (json.dumps builds a new one per call when given options); the
# ``default`` turns dates and times into ISO text as ``jsonable`` does.
_dumps = json.JSONEncoder().encode
_dumps_u = json.JSONEncoder(ensure_ascii=False, default=jsonable).encode

# Fragments, memoised and bounded: text of short strings; the head of a slot (the part
# that depends on its window), by the identity of the engine's shared datetimes; the head
# of a note by (code, slot).
_FRAGMENTS_MAX: Final = 4096
_TEXT: dict[str, str] = {}
_SLOT_HEADS: dict[int, tuple[datetime, datetime, datetime, str, str, int, str]] = {}
_NOTE_HEADS: dict[tuple[str, str | None], str] = {}
_DECIMALS: dict[float, Decimal] = {}


def _text(value: str) -> str:
    """A string as JSON (memoised: codes, keys, statuses, sources, clock times)."""
    found = _TEXT.get(value)
    if found is None:
        found = _dumps_u(value)
        if len(_TEXT) < _FRAGMENTS_MAX and len(value) <= 32:
            _TEXT[value] = found
    return found


def _head(
    key: str, kind: str, segment: int, expected: datetime, start: datetime, end: datetime
) -> str:
    entry = _SLOT_HEADS.get(id(expected))
    if (
        entry is not None
        and entry[0] is expected
        and entry[1] is start
        and entry[2] is end
        and entry[3] == key
        and entry[4] == kind
        and entry[5] == segment
    ):
        return entry[6]
    head = (
        f'{{"key": {_text(key)}, "kind": {_text(kind)}, '
        f'"segment": {_dumps(segment)}, "expected": {_dumps(_iso(expected))}, '
        f'"window_start": {_dumps(_iso(start))}, "window_end": {_dumps(_iso(end))}, '
    )
    if len(_SLOT_HEADS) >= _FRAGMENTS_MAX:
        _SLOT_HEADS.clear()
    _SLOT_HEADS[id(expected)] = (expected, start, end, key, kind, segment, head)
    return head


_NO_PUNCH: Final = '"punch_id": null, "punch_at": null, "punch_source": null, '


def _slot_text(
    head: str,
    punch_id: int | str | None,
    punch_at: datetime | None,
    source: str | None,
    status: str,
    minutes: int,
    serious: bool,
    half: bool,
) -> str:
    if punch_id is None:
        punch = _NO_PUNCH
    else:
        pid = str(punch_id) if punch_id.__class__ is int else _dumps_u(punch_id)
        at = _dumps(_iso(punch_at))
        src = "null" if source is None else _text(source)
        punch = f'"punch_id": {pid}, "punch_at": {at}, "punch_source": {src}, '
    return (
        f'{head}{punch}"status": {_text(status)}, '
        f'"minutes": {minutes if minutes.__class__ is int else _dumps(minutes)}, '
        f'"serious": {"true" if serious else "false"}, '
        f'"half_day_absent": {"true" if half else "false"}}}'
    )


def _slot_json(slot: SlotResult) -> str:
    head = _head(
        slot.key, slot.kind, slot.segment, slot.expected, slot.window_start, slot.window_end
    )
    return _slot_text(
        head,
        slot.punch_id,
        slot.punch_at,
        slot.punch_source,
        slot.status,
        slot.minutes,
        slot.serious,
        slot.half_day_absent,
    )


def _note_text(code: str, slot: str | None, params: Mapping[str, Any]) -> str:
    key = (code, slot)
    head = _NOTE_HEADS.get(key)
    if head is None:
        head = f'{{"code": {_text(code)}, "slot": {"null" if slot is None else _text(slot)}, '
        head += '"params": '
        if len(_NOTE_HEADS) < _FRAGMENTS_MAX:
            _NOTE_HEADS[key] = head
    if not params:
        return f"{head}{{}}}}"
    parts = []
    for name, value in params.items():
        cls = value.__class__
        if name.__class__ is str and cls is int:
            parts.append(f"{_text(name)}: {value}")
        elif name.__class__ is str and cls is str:
            parts.append(f"{_text(name)}: {_text(value)}")
        else:  # anything else (None, dates, nested values): the encoder
            return f"{head}{_dumps_u(params)}}}"
    return f"{head}{{{', '.join(parts)}}}}}"


def slots_json(slots: Iterable[SlotResult]) -> str:
    """``json.dumps([slot_to_json(s) ...], ensure_ascii=False)``, built from fragments."""
    return f"[{', '.join(_slot_json(s) for s in slots)}]"


def notes_json(notes: Iterable[Note]) -> str:
    """``json.dumps([{"code", "slot", "params"} ...], ensure_ascii=False)``."""
    return f"[{', '.join(_note_text(n.code, n.slot, n.params) for n in notes)}]"


def _decimal(value: float) -> Decimal:
    found = _DECIMALS.get(value)
    if found is None:
        found = Decimal(str(value))
        if len(_DECIMALS) < 64:
            _DECIMALS[value] = found
    return found


def result_row(
    employee_id: int, result: DayResult, *, finalised: bool, computed_at: datetime
) -> DayRow:
    """The stored row of an engine result."""
    return DayRow(
        employee_id,
        result.day,
        result.kind,
        result.shift_code or "",
        result.status,
        result.provisional,
        finalised,
        result.worked_minutes,
        result.late_count,
        result.late_minutes,
        result.serious_late_count,
        result.early_count,
        result.early_minutes,
        result.missing_in_count,
        result.missing_out_count,
        _decimal(result.absent_days),
        result.corrected_count,
        result.manual_count,
        _dumps(dict(result.exempt_minutes_by_kind)) if result.exempt_minutes_by_kind else "{}",
        slots_json(result.slots),
        notes_json(result.notes),
        _dumps(list(result.outside_punch_ids)) if result.outside_punch_ids else "[]",
        computed_at,
        overtime_kind=category_of(result.kind, result.statutory),
    )


# Texts that depend only on a window and a status (a slot without a punch) or only on
# the as_of text (the "provisional" note): built once, bounded.
_EMPTY: dict[tuple[int, str], tuple[Win, str, str]] = {}
_PROVISIONAL: dict[str, str] = {}


def _empty_slot(w: Win, verdict: Verdict) -> tuple[str, str]:
    """The slot text and its notes' text of a slot without a punch."""
    key = (id(w), verdict.status)
    found = _EMPTY.get(key)
    if found is None or found[0] is not w:
        head = _head(w.key, w.kind, w.segment, w.expected_local, w.start_local, w.end_local)
        slot = _slot_text(head, None, None, None, verdict.status, 0, False, False)
        notes = ", ".join(_note_text(code, w.key, params) for code, params in verdict.notes)
        if len(_EMPTY) >= _FRAGMENTS_MAX:
            _EMPTY.clear()
        found = _EMPTY[key] = (w, slot, notes)
    return found[1], found[2]


def _provisional(text: str) -> str:
    found = _PROVISIONAL.get(text)
    if found is None:
        found = _note_text("provisional", None, {"as_of": text})
        if len(_PROVISIONAL) >= 256:
            _PROVISIONAL.clear()
        _PROVISIONAL[text] = found
    return found


def day_row(
    employee_id: int,
    plan: DayPlan,
    punches: Sequence[PunchIn],
    exemptions: Sequence[Exemption] = (),
    *,
    as_of: datetime | None,
    finalised: bool,
    computed_at: datetime,
) -> DayRow:
    """``result_row(employee_id, evaluate_day(plan, punches, exemptions, as_of=as_of))``.

    A fixed-shift day without exemptions or voided punches is written from
    ``evaluate.fixed_day`` without result objects; tests/engine/test_rows.py requires the
    same row, byte for byte, on random days.
    """
    if exemptions or not fixed_only(plan, punches):
        result = evaluate_day(plan, punches, exemptions, as_of=as_of)
        return result_row(employee_id, result, finalised=finalised, computed_at=computed_at)
    day = fixed_day(plan, punches, as_of)
    totals = day.totals
    slots: list[str] = []
    notes: list[str] = []
    if totals.day_note:
        notes.append(_note_text(totals.day_note, None, {}))
    if day.provisional:
        notes.append(_provisional(day.provisional))
    for _kind, verdict, w, punch, local in day.slots:
        if punch is None or local is None:
            slot, text = _empty_slot(w, verdict)
            slots.append(slot)
            notes.append(text)
            continue
        head = _head(w.key, w.kind, w.segment, w.expected_local, w.start_local, w.end_local)
        pid = punch.id
        slots.append(
            f'{head}"punch_id": {pid if pid.__class__ is int else _dumps_u(pid)}, '
            f'"punch_at": "{local.isoformat()}", "punch_source": {_text(punch.source)}, '
            f'"status": "{verdict.status}", "minutes": {verdict.minutes}, '
            f'"serious": {"true" if verdict.serious else "false"}, '
            f'"half_day_absent": {"true" if verdict.half_day_absent else "false"}}}'
        )
        for code, params in verdict.notes:
            notes.append(_note_text(code, w.key, params))
    tz = plan.tz
    for punch in day.outside:
        notes.append(_note_text("outside_schedule", None, punch_params(punch, tz)))
    assert plan.shift is not None
    return DayRow(
        employee_id,
        plan.day,
        plan.kind,
        plan.shift.code or "",
        totals.status,
        day.provisional is not None,
        finalised,
        day.worked_us // MIN_US,
        totals.late_count,
        totals.late_minutes,
        totals.serious_late_count,
        totals.early_count,
        totals.early_minutes,
        totals.missing_in_count,
        totals.missing_out_count,
        _decimal(totals.absent_days),
        totals.corrected_count,
        totals.manual_count,
        "{}",
        f"[{', '.join(slots)}]",
        f"[{', '.join(notes)}]",
        _dumps([p.id for p in day.outside]) if day.outside else "[]",
        computed_at,
        overtime_kind=overtime_kind(plan),
    )
