"""The slot judgement and the day's totals: every status rule of rules.md, written once.

Both evaluation paths (``evaluate``) and the stored-row builder (``rows``) call these, so
grace, the late/early thresholds, "counted as missing", serious lateness, half-day absence,
exemption, corrected/manual and pending/missing are decided here and nowhere else. A
verdict is a small tuple with its explanation as ``(code, params)`` pairs; each caller
turns those into ``Note`` objects or stored JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, NamedTuple

from .inputs import SOURCE_SLOT_STATUS, DayStatus, Flexible, SlotStatus
from .layout import MIN_US, Win

NoteSpec = tuple[str, dict[str, Any]]

_MAPPED: Final[dict[str, SlotStatus]] = dict(SOURCE_SLOT_STATUS)


class Verdict(NamedTuple):
    status: SlotStatus
    minutes: int
    serious: bool
    half_day_absent: bool
    notes: tuple[NoteSpec, ...]


NORMAL: Final = Verdict("normal", 0, False, False, ())


def judge(
    w: Win,
    at_us: int,
    source: str,
    local: datetime,
    expected_us: int,
    flexible: Flexible | None = None,
) -> Verdict:
    """The status of a slot filled by the punch at ``at_us`` (``local``: the same instant
    in the plan's zone), due at ``expected_us``.

    A correction or paper punch makes the slot ``corrected``, an HR punch ``manual``,
    whatever its time. Otherwise lateness (check-in) or earliness (check-out) is counted
    in whole minutes, rounded down (09:00:59 for 09:00 is 0 minutes late): up to the grace
    it is ``normal``; beyond ``as_missing`` (late_as_missing / early_as_missing) it is
    ``missing`` with the minutes kept; otherwise ``late`` / ``early``. A late slot beyond
    ``serious_late`` is serious, beyond ``late_as_half_day_absent`` half a day of absence.
    """
    mapped = _MAPPED.get(source)
    if mapped is not None:
        return Verdict(mapped, 0, False, False, ((mapped, {"time": f"{local:%H:%M}"}),))
    late = w.kind == "in"
    minutes = (at_us - expected_us if late else expected_us - at_us) // MIN_US
    if minutes <= w.grace:  # also when early (check-in) / late (check-out)
        return NORMAL
    if w.as_missing is not None and minutes > w.as_missing:
        code = "late_counted_missing" if w.kind == "in" else "early_counted_missing"
        params = {"minutes": minutes, "threshold": w.as_missing}
        return Verdict("missing", minutes, False, False, ((code, params),))
    if w.kind == "out":
        if flexible is not None:
            params = {"minutes": minutes, "required_minutes": flexible.required_minutes}
            return Verdict("early", minutes, False, False, (("flexible_early", params),))
        return Verdict("early", minutes, False, False, (("early", {"minutes": minutes}),))
    if flexible is not None:
        arrive_until = f"{w.expected_local:%H:%M}"
        notes: tuple[NoteSpec, ...] = (
            ("flexible_late", {"minutes": minutes, "arrive_until": arrive_until}),
        )
    else:
        notes = (("late", {"minutes": minutes}),)
    serious = minutes > w.serious_late
    if serious:
        notes += (("serious_late", {"minutes": minutes, "threshold": w.serious_late}),)
    half = w.half_day is not None and minutes > w.half_day
    if half:
        notes += (("half_day_absent", {"minutes": minutes, "threshold": w.half_day}),)
    return Verdict("late", minutes, serious, half, notes)


# The verdicts of a window's slot without a punch, by the window's identity (bounded); their
# note parameters are shared, so whoever builds Note objects from them copies them.
_UNPUNCHED: dict[int, tuple[Win, Verdict, Verdict]] = {}


def unpunched(w: Win, as_of_us: int | None) -> Verdict:
    """A slot without a punch: ``pending`` ("not yet punched") while its window is still
    open at ``as_of`` (a provisional day), else ``missing``."""
    found = _UNPUNCHED.get(id(w))
    if found is None or found[0] is not w:
        pending = Verdict("pending", 0, False, False, (("not_yet_punched", {"until": w.until}),))
        missing = Verdict("missing", 0, False, False, (("no_punch", {}),))
        if len(_UNPUNCHED) >= 8192:
            _UNPUNCHED.clear()
        found = _UNPUNCHED[id(w)] = (w, pending, missing)
    return found[1] if as_of_us is not None and as_of_us < w.end_us else found[2]


def exempt(kind: str) -> Verdict:
    """A slot covered by an approved exemption (leave, outing, business trip)."""
    return Verdict("exempt", 0, False, False, (("exempt", {"kind": kind}),))


class Totals(NamedTuple):
    status: DayStatus
    day_note: str | None  # "absent" / "all_exempt"
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
    pending_count: int


def day_totals(slots: Iterable[tuple[Any, ...]]) -> Totals:
    """The day's status and counts from its slots' verdicts (a day with a shift).

    ``leave`` when every slot is exempt; ``absent`` (one day) when every non-exempt slot
    is missing; ``abnormal`` when any is late, early or missing; else ``normal`` (also
    when the non-exempt slots are all still pending). Each late slot beyond
    ``late_as_half_day_absent`` adds half a day of absence, at most one day in all.
    ``slots``: tuples whose first two items are the slot's kind and verdict.
    """
    late = late_minutes = serious = early = early_minutes = 0
    missing_in = missing_out = corrected = manual = pending = exempt_count = half = 0
    count = 0
    for slot in slots:
        count += 1
        verdict = slot[1]
        status = verdict.status
        if status == "normal":
            continue
        if status == "missing":
            if slot[0] == "in":
                missing_in += 1
            else:
                missing_out += 1
        elif status == "late":
            late += 1
            late_minutes += verdict.minutes
            serious += verdict.serious
            half += verdict.half_day_absent
        elif status == "early":
            early += 1
            early_minutes += verdict.minutes
        elif status == "pending":
            pending += 1
        elif status == "exempt":
            exempt_count += 1
        elif status == "corrected":
            corrected += 1
        elif status == "manual":
            manual += 1
    status_: DayStatus
    note = None
    absent_days = min(1.0, 0.5 * half)
    if exempt_count == count:
        status_, note = "leave", "all_exempt"
    elif missing_in + missing_out + exempt_count == count:
        status_, note, absent_days = "absent", "absent", 1.0
    elif missing_in or missing_out or late or early:
        status_ = "abnormal"
    else:
        status_ = "normal"
    return Totals(
        status_,
        note,
        late,
        late_minutes,
        serious,
        early,
        early_minutes,
        missing_in,
        missing_out,
        absent_days,
        corrected,
        manual,
        pending,
    )
