"""One employee-day evaluated: the general (reference) path and the fast paths.

``evaluate_general`` handles any plan, punches and exemptions. The days that are most of
a month take a fast path with the very same result: a fixed shift with no exemption and
no voided punch (``fixed_day`` + ``evaluate_fixed``), and a rest or holiday day
(``evaluate_off``). The fast paths work in integer microseconds since the epoch (exact,
so whole minutes are rounded down exactly as by the general path) on the layouts cached
per (shift, date, zone). Both paths judge slots and total the day with ``judge``;
tests/engine/test_fastpath.py requires equal results on random days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final, NamedTuple

from .inputs import (
    EXEMPTION_KINDS,
    DayPlan,
    Exemption,
    Flexible,
    PunchIn,
    SlotKind,
    check_aware,
)
from .judge import Totals, Verdict, day_totals, exempt, judge, unpunched
from .layout import MIN_US, Layout, Win, layout, to_us
from .results import DayResult, Note, SlotResult

_MINUTE: Final = timedelta(minutes=1)


def evaluate_day(
    plan: DayPlan,
    punches: Iterable[PunchIn],
    exemptions: Iterable[Exemption] = (),
    *,
    as_of: datetime | None = None,
) -> DayResult:
    """Evaluate one employee-day; pure and independent of the order of ``punches``.

    See ``evaluate_general`` for the rules. The common days take a fast path with the
    very same result: a fixed shift with no exemption and no voided punch
    (``evaluate_fixed``), and a rest or holiday day (``evaluate_off``).
    """
    if not isinstance(plan, DayPlan):
        raise ValueError("evaluate_day: plan must be a DayPlan")
    punches = punches if isinstance(punches, list | tuple) else list(punches)
    exemptions = exemptions if isinstance(exemptions, list | tuple) else list(exemptions)
    shift = plan.shift
    if shift is None:
        return evaluate_off(plan, punches, exemptions, as_of)
    if exemptions or not fixed_only(plan, punches):
        return evaluate_general(plan, punches, exemptions, as_of=as_of)
    return evaluate_fixed(plan, punches, as_of)


def fixed_only(plan: DayPlan, punches: Sequence[PunchIn]) -> bool:
    """A fixed shift and live punches only: the fast path's days (exemptions aside)."""
    shift = plan.shift
    if shift is None or shift.flexible is not None:
        return False
    for punch in punches:  # noqa: SIM110 - called for every day: cheaper than all()
        if punch.__class__ is not PunchIn or punch.voided:
            return False
    return True


# --------------------------------------------------------------------------- general


class _P(NamedTuple):
    id: int | str
    at: datetime  # UTC
    source: str


def _punch_key(punch: PunchIn) -> tuple[datetime, str]:
    return punch.at.astimezone(UTC), str(punch.id)


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


def _punch_params(punch_id: int | str, at: datetime, tz: tzinfo) -> dict[str, Any]:
    local = at.astimezone(tz)
    return {"punch_id": punch_id, "date": local.date().isoformat(), "time": f"{local:%H:%M}"}


def _assign(
    found: Layout, punches: list[_P], flexible: bool
) -> tuple[dict[str, _P], list[_P], list[_P]]:
    """Slot key -> punch, plus the in-window punches left unused and those outside.

    Fixed shift: a check-in slot takes the earliest punch of its window, a check-out slot
    the latest. Flexible: the earliest and latest punches of the whole day window; a lone
    punch is a check-in before the segment midpoint and a check-out from it on.
    """
    in_window: dict[str, list[_P]] = {w.key: [] for w in found.wins}
    outside: list[_P] = []
    for punch in punches:
        for w in found.wins:
            at = punch.at
            if w.start <= at <= w.end if w.end_inclusive else w.start <= at < w.end:
                in_window[w.key].append(punch)
                break
        else:
            outside.append(punch)
    assigned: dict[str, _P] = {}
    if flexible:
        day = [p for w in found.wins for p in in_window[w.key]]  # already in time order
        if len(day) == 1:
            assigned["in1" if in_window["in1"] else "out1"] = day[0]
        elif day:
            assigned["in1"], assigned["out1"] = day[0], day[-1]
        extra = day[1:-1]
    else:
        extra = []
        for w in found.wins:
            bucket = in_window[w.key]
            if bucket:
                chosen = bucket[0] if w.kind == "in" else bucket[-1]
                assigned[w.key] = chosen
                extra.extend(p for p in bucket if p is not chosen)
    return assigned, extra, outside


def _general_slot(
    w: Win,
    expected: datetime,
    punch: _P | None,
    exempt_kind: str | None,
    as_of_us: int | None,
    tz: tzinfo,
    flexible: Flexible | None,
) -> tuple[SlotResult, Verdict]:
    """A slot's result: exempt if an exemption covers it, else judged by its punch, else
    pending or missing (``judge``)."""
    if exempt_kind is not None:
        verdict = exempt(exempt_kind)
    elif punch is not None:
        local = punch.at.astimezone(tz)
        verdict = judge(w, to_us(punch.at), punch.source, local, to_us(expected), flexible)
    else:
        verdict = unpunched(w, as_of_us)
    result = SlotResult(
        key=w.key,
        kind=w.kind,
        segment=w.segment,
        expected=expected.astimezone(tz),
        window_start=w.start_local,
        window_end=w.end_local,
        punch_id=punch.id if punch else None,
        punch_at=punch.at.astimezone(tz) if punch else None,
        status=verdict.status,
        minutes=verdict.minutes,
        serious=verdict.serious,
        half_day_absent=verdict.half_day_absent,
        punch_source=punch.source if punch else None,
    )
    return result, verdict


def _presence_edge(slot: SlotResult, merged: list[tuple[datetime, datetime]]) -> datetime | None:
    """Where presence starts (check-in) or ends (check-out) for worked minutes.

    A punch matched to the slot gives its time, whatever the slot's status (rules.md: a
    check-in counted as missing because it was too late still bounds the time worked);
    an exempt slot without a punch gives the edge of the exemption covering it (a morning
    leave ends presence-free time at the leave's end). A slot without a punch and not
    exempt proves nothing: None.
    """
    if slot.punch_at is not None:
        return slot.punch_at.astimezone(UTC)
    if slot.status != "exempt":
        return None
    expected = slot.expected.astimezone(UTC)
    if slot.kind == "in":
        return next((b for a, b in merged if a <= expected < b), expected)
    return next((a for a, b in merged if a < expected <= b), expected)


def _notes(key: str | None, verdict: Verdict) -> list[Note]:
    return [Note(code, key, dict(params)) for code, params in verdict.notes]


def evaluate_general(
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

    Worked minutes: for each segment whose two slots have a punch (whatever their status,
    also "counted as missing"), or are exempt, the time between them within the segment,
    less the time exemptions cover; summed exactly over the day and rounded down to whole
    minutes once.

    Choices where rules.md is silent: a day whose non-exempt slots are all still pending is
    ``normal`` (and provisional); absence is one full day even when some slots are exempt
    (rules.md: "every non-exempt slot is missing"); each late slot beyond
    ``late_as_half_day_absent`` adds half a day, capped at one day; a correction or manual
    punch makes its slot corrected/manual whatever its time; a flexible check-out is due
    ``required_minutes`` after max(check-in, arrive_from), the check-in being the punch
    matched to the check-in slot whatever its status, or after arrive_from when that slot
    has no punch or is exempt.
    """
    if not isinstance(plan, DayPlan):
        raise ValueError("evaluate_day: plan must be a DayPlan")
    tz = plan.tz
    as_of_us, provisional = as_of_note(as_of, tz)
    live, voided = _prepare_punches(punches)
    exempts = _prepare_exemptions(exemptions)
    merged_all = _merge((x.start, x.end) for x in exempts)
    provisional_notes = [Note("provisional", None, {"as_of": provisional})] if provisional else []
    voided_notes = [Note("voided_ignored", None, _punch_params(p.id, p.at, tz)) for p in voided]

    found = layout(plan)
    shift = plan.shift
    if found is None or shift is None:
        outside_notes = [
            Note("outside_schedule", None, _punch_params(p.id, p.at, tz)) for p in live
        ]
        return off_result(
            plan,
            as_of_us is not None,
            tuple(p.id for p in live),
            (Note(plan.kind, None, {}), *provisional_notes, *outside_notes, *voided_notes),
        )

    flexible = shift.flexible
    assigned, extra, outside = _assign(found, live, flexible is not None)
    slots: list[SlotResult] = []
    verdicts: list[tuple[SlotKind, Verdict]] = []
    slot_notes: list[Note] = []
    schedule: list[tuple[datetime, datetime]] = []
    worked = timedelta()
    for index in range(len(shift.segments)):
        w_in, w_out = found.wins[2 * index], found.wins[2 * index + 1]
        seg_start, seg_end = found.segments[index]

        punch = assigned.get(w_in.key)
        exempt_kind = _covering(exempts, "in", w_in.expected)
        in_slot, verdict = _general_slot(
            w_in, w_in.expected, punch, exempt_kind, as_of_us, tz, flexible
        )
        slots.append(in_slot)
        verdicts.append(("in", verdict))
        slot_notes.extend(_notes(w_in.key, verdict))

        if flexible is not None:
            assert found.arrive_from is not None
            anchor = found.arrive_from
            if punch is not None and exempt_kind is None:
                anchor = max(punch.at, found.arrive_from)
            seg_start = anchor
            seg_end = anchor + timedelta(minutes=flexible.required_minutes)
        out_expected = seg_end

        punch = assigned.get(w_out.key)
        exempt_kind = _covering(exempts, "out", out_expected)
        out_slot, verdict = _general_slot(
            w_out, out_expected, punch, exempt_kind, as_of_us, tz, flexible
        )
        slots.append(out_slot)
        verdicts.append(("out", verdict))
        slot_notes.extend(_notes(w_out.key, verdict))

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

    totals = day_totals(verdicts)
    day_notes = [Note(totals.day_note, None, {})] if totals.day_note else []
    scheduled = sum(((b - a) for a, b in schedule), timedelta()) // _MINUTE
    outside_notes = [Note("outside_schedule", None, _punch_params(p.id, p.at, tz)) for p in outside]
    return _result(
        plan,
        totals,
        as_of_us is not None,
        tuple(slots),
        worked // _MINUTE,
        exempt_minutes,
        tuple(p.id for p in outside),
        (*day_notes, *provisional_notes, *slot_notes, *outside_notes, *voided_notes),
        scheduled,
        tuple(p.id for p in extra),
    )


def _result(
    plan: DayPlan,
    totals: Totals,
    provisional: bool,
    slots: tuple[SlotResult, ...],
    worked_minutes: int,
    exempt_minutes: dict[str, int],
    outside: tuple[int | str, ...],
    notes: tuple[Note, ...],
    scheduled_minutes: int,
    extra: tuple[int | str, ...],
) -> DayResult:
    assert plan.shift is not None
    return DayResult(
        plan.day,
        plan.kind,
        totals.status,
        provisional,
        slots,
        worked_minutes,
        totals.late_count,
        totals.late_minutes,
        totals.serious_late_count,
        totals.early_count,
        totals.early_minutes,
        totals.missing_in_count,
        totals.missing_out_count,
        totals.absent_days,
        totals.corrected_count,
        totals.manual_count,
        exempt_minutes,
        outside,
        notes,
        plan.shift.code,
        scheduled_minutes,
        totals.pending_count,
        extra,
    )


def off_result(
    plan: DayPlan, provisional: bool, outside: tuple[int | str, ...], notes: tuple[Note, ...]
) -> DayResult:
    """A rest or holiday day: no slot, every live punch outside the schedule."""
    return DayResult(
        day=plan.day,
        kind=plan.kind,
        status="holiday" if plan.kind == "holiday" else "rest",
        provisional=provisional,
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
        outside_punch_ids=outside,
        notes=notes,
        shift_code=None,
        scheduled_minutes=0,
        pending_count=0,
        extra_punch_ids=(),
        statutory=plan.statutory,
    )


# --------------------------------------------------------------------------- fast paths

_AS_OF_TEXT: dict[tuple[datetime, tzinfo], str] = {}


def as_of_note(as_of: datetime | None, tz: tzinfo) -> tuple[int | None, str | None]:
    """``as_of`` in microseconds and the text of its "provisional" note (memoised)."""
    if as_of is None:
        return None, None
    check_aware("as_of", as_of)
    key = (as_of, tz)
    text = _AS_OF_TEXT.get(key)
    if text is None:
        if len(_AS_OF_TEXT) > 256:
            _AS_OF_TEXT.clear()
        text = _AS_OF_TEXT[key] = as_of.astimezone(UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return to_us(as_of), text


def _sort_key(item: tuple[int, str, PunchIn]) -> tuple[int, str]:
    return item[0], item[1]


def prepared(punches: Sequence[PunchIn]) -> list[tuple[int, str, PunchIn]]:
    """(microseconds, str(id), punch), sorted and deduplicated as ``_prepare_punches``."""
    if not punches:
        return []
    items = []
    for punch in punches:
        if not isinstance(punch, PunchIn):
            raise ValueError(f"expected PunchIn, got {punch!r}")
        items.append((to_us(punch.at), str(punch.id), punch))
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


def punch_params(punch: PunchIn, tz: tzinfo) -> dict[str, Any]:
    """The parameters of an "outside_schedule" / "voided_ignored" note."""
    local = punch.at.astimezone(tz)
    return {"punch_id": punch.id, "date": local.date().isoformat(), "time": f"{local:%H:%M}"}


def evaluate_off(
    plan: DayPlan,
    punches: Sequence[PunchIn],
    exemptions: Sequence[Exemption],
    as_of: datetime | None,
) -> DayResult:
    """A rest or holiday day: every live punch is outside the schedule."""
    for exemption in exemptions:
        if not isinstance(exemption, Exemption):
            raise ValueError(f"expected Exemption, got {exemption!r}")
    tz = plan.tz
    as_of_us, provisional = as_of_note(as_of, tz)
    items = prepared(punches)
    live = [p for _us, _id, p in items if not p.voided]
    voided = [p for _us, _id, p in items if p.voided]
    return off_result(
        plan,
        as_of_us is not None,
        tuple(p.id for p in live),
        (
            Note(plan.kind, None, {}),
            *([Note("provisional", None, {"as_of": provisional})] if provisional else []),
            *(Note("outside_schedule", None, punch_params(p, tz)) for p in live),
            *(Note("voided_ignored", None, punch_params(p, tz)) for p in voided),
        ),
    )


# A judged slot of a fixed-shift day: (kind, verdict, window, punch, the punch's instant in
# the plan's zone); a plain tuple, as ``day_totals`` reads it (kind, verdict first).
FixedSlot = tuple[SlotKind, Verdict, Win, PunchIn | None, datetime | None]


class FixedDay(NamedTuple):
    """A fixed-shift day judged, before it is turned into a result or a stored row."""

    layout: Layout
    slots: list[FixedSlot]
    totals: Totals
    worked_us: int
    provisional: str | None  # the as_of text of the "provisional" note; None when final
    outside: list[PunchIn]
    extra: list[PunchIn]


def fixed_day(plan: DayPlan, punches: Sequence[PunchIn], as_of: datetime | None) -> FixedDay:
    """A fixed shift with no exemption and no voided punch (``fixed_only``), judged.

    Assignment as ``_assign`` for a fixed shift: the first window holding a punch; a
    check-in takes the earliest punch of its window, a check-out the latest. Worked time
    as ``evaluate_general``: per segment whose two slots have a punch, in microseconds.
    """
    found = layout(plan)
    assert found is not None
    tz = plan.tz
    wins = found.wins
    as_of_us, provisional = as_of_note(as_of, tz)
    buckets: list[list[tuple[int, str, PunchIn]]] = [[] for _w in wins]
    outside: list[PunchIn] = []
    bounds = found.bounds_us
    for item in prepared(punches):
        at = item[0]
        for index, (start, end, inclusive) in enumerate(bounds):
            if start <= at and (at < end or (inclusive and at == end)):
                buckets[index].append(item)
                break
        else:
            outside.append(item[2])
    slots: list[FixedSlot] = []
    extra: list[PunchIn] = []
    worked = 0
    begin = None
    for w, bucket in zip(wins, buckets, strict=True):
        kind = w.kind
        if not bucket:
            slots.append((kind, unpunched(w, as_of_us), w, None, None))
            if kind == "in":
                begin = None
            continue
        chosen = bucket[0] if kind == "in" else bucket[-1]
        if len(bucket) > 1:
            extra.extend(item[2] for item in bucket if item is not chosen)
        at, _sid, punch = chosen
        local = punch.at.astimezone(tz)
        slots.append((kind, judge(w, at, punch.source, local, w.expected_us), w, punch, local))
        if kind == "in":
            begin = at
        elif begin is not None:
            seg_start, seg_end = found.segments_us[w.segment - 1]
            lo = begin if begin > seg_start else seg_start
            hi = at if at < seg_end else seg_end
            if hi > lo:
                worked += hi - lo
    return FixedDay(found, slots, day_totals(slots), worked, provisional, outside, extra)


def evaluate_fixed(plan: DayPlan, punches: Sequence[PunchIn], as_of: datetime | None) -> DayResult:
    """``evaluate_general``'s result for a fixed-shift day from ``fixed_day``."""
    day = fixed_day(plan, punches, as_of)
    tz = plan.tz
    slots = []
    notes: list[Note] = []
    if day.totals.day_note:
        notes.append(Note(day.totals.day_note, None, {}))
    if day.provisional:
        notes.append(Note("provisional", None, {"as_of": day.provisional}))
    for _kind, verdict, w, punch, local in day.slots:
        slots.append(
            SlotResult(
                w.key,
                w.kind,
                w.segment,
                w.expected_local,
                w.start_local,
                w.end_local,
                punch.id if punch is not None else None,
                local,
                verdict.status,
                verdict.minutes,
                verdict.serious,
                verdict.half_day_absent,
                punch.source if punch is not None else None,
            )
        )
        for code, params in verdict.notes:
            notes.append(Note(code, w.key, dict(params)))
    for punch in day.outside:
        notes.append(Note("outside_schedule", None, punch_params(punch, tz)))
    return _result(
        plan,
        day.totals,
        day.provisional is not None,
        tuple(slots),
        day.worked_us // MIN_US,
        {},
        tuple(p.id for p in day.outside),
        tuple(notes),
        day.layout.scheduled_minutes,
        tuple(p.id for p in day.extra),
    )
