"""Properties of the pure attendance engine that must hold for any input.

Shifts are the realistic ones of tests/engine/test_rules.py; punches, exemptions and
as_of are random.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ztk.engine import (
    NOTE_TEXT_EN,
    DayPlan,
    DayResult,
    Exemption,
    Flexible,
    PunchIn,
    Segment,
    Shift,
    affected_dates,
    evaluate_day,
    explain_en,
    partition_punches,
    slot_key_for,
    slot_windows,
)

SH = ZoneInfo("Asia/Shanghai")
D = date(2024, 3, 4)
MIDNIGHT = datetime(2024, 3, 4, tzinfo=SH)

STANDARD = Shift("STD", "09:00-18:00", (Segment(time(9), time(18)),))
SPLIT = Shift("SPLIT", "09-12 13-18", (Segment(time(9), time(12)), Segment(time(13), time(18))))
NIGHT = Shift("NIGHT", "22:00-06:00", (Segment(time(22), time(6)),))
FLEX = Shift("FLEX", "flexible", (Segment(time(8), time(19)),), Flexible(time(8), time(10), 540))
ZERO = Shift("ZERO", "00:00-08:00", (Segment(time(0), time(8)),))
STRICT = Shift(
    "STRICT",
    "grace and half-day rules",
    (Segment(time(8, 30), time(17, 30), grace_in=5, grace_out=5, late_as_half_day_absent=60),),
)
# Scheduled minutes by hand, not from the engine.
SCHEDULED = {"STD": 540, "SPLIT": 480, "NIGHT": 480, "FLEX": 540, "ZERO": 480, "STRICT": 540}
WORK_SHIFTS = [STANDARD, SPLIT, NIGHT, FLEX, ZERO, STRICT]
SOURCES = ["device", "device", "device", "web", "mobile", "manual", "correction", "import"]

FAST = settings(max_examples=200, deadline=None)

# Punch offsets in seconds from 00:00 of D: the evening before to the morning after next.
offsets = st.integers(min_value=-6 * 3600, max_value=36 * 3600).map(lambda s: s - s % 30)


@st.composite
def punch_lists(draw, *, min_size: int = 0, max_size: int = 10, voided: bool = True):
    items = draw(
        st.lists(
            st.tuples(
                offsets, st.sampled_from(SOURCES), st.booleans() if voided else st.just(False)
            ),
            min_size=min_size,
            max_size=max_size,
        )
    )
    return [
        PunchIn(number, MIDNIGHT + timedelta(seconds=offset), source, voided=void)
        for number, (offset, source, void) in enumerate(items, start=1)
    ]


@st.composite
def exemption_lists(draw):
    items = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=30 * 60),
                st.integers(min_value=30, max_value=10 * 60),
                st.sampled_from(["leave", "outing", "trip"]),
            ),
            max_size=2,
        )
    )
    return [
        Exemption(
            MIDNIGHT + timedelta(minutes=start),
            MIDNIGHT + timedelta(minutes=start + length),
            kind,
        )
        for start, length, kind in items
    ]


plans = st.one_of(
    st.sampled_from(WORK_SHIFTS).map(lambda shift: DayPlan(D, SH, "work", shift)),
    st.sampled_from(["rest", "holiday"]).map(lambda kind: DayPlan(D, SH, kind, None)),
)
work_plans = st.sampled_from(WORK_SHIFTS).map(lambda shift: DayPlan(D, SH, "work", shift))
as_ofs = st.one_of(st.none(), offsets.map(lambda s: MIDNIGHT + timedelta(seconds=s)))


def without_voided_notes(result: DayResult) -> DayResult:
    notes = tuple(n for n in result.notes if n.code != "voided_ignored")
    return dataclasses.replace(result, notes=notes)


def ids_as_times(result: DayResult, times: dict[int | str, datetime]) -> DayResult:
    """Replace punch ids by punch times: copies of one punch are then indistinguishable."""

    def swap(value):
        return times[value] if value is not None else None

    slots = tuple(dataclasses.replace(s, punch_id=swap(s.punch_id)) for s in result.slots)
    notes = tuple(
        dataclasses.replace(n, params={**n.params, "punch_id": None})
        if "punch_id" in n.params
        else n
        for n in result.notes
    )
    return dataclasses.replace(
        result,
        slots=slots,
        notes=notes,
        outside_punch_ids=tuple(swap(i) for i in result.outside_punch_ids),
        extra_punch_ids=tuple(swap(i) for i in result.extra_punch_ids),
    )


# --------------------------------------------------------------------------- (a) order


@FAST
@given(plans, exemption_lists(), as_ofs, st.data())
def test_punch_order_never_changes_the_result(plan, exemptions, as_of, data):
    items = data.draw(punch_lists())
    shuffled = data.draw(st.permutations(items))
    assert evaluate_day(plan, shuffled, exemptions, as_of=as_of) == evaluate_day(
        plan, items, exemptions, as_of=as_of
    )
    assert evaluate_day(plan, items, list(reversed(exemptions)), as_of=as_of) == evaluate_day(
        plan, items, exemptions, as_of=as_of
    )


# --------------------------------------------------------------------------- (b) resends


@FAST
@given(plans, exemption_lists(), as_ofs, st.data())
def test_resending_punches_changes_nothing(plan, exemptions, as_of, data):
    items = data.draw(punch_lists())
    chosen = data.draw(st.lists(st.sampled_from(items), max_size=4) if items else st.just([]))
    expected = evaluate_day(plan, items, exemptions, as_of=as_of)

    # The very same record sent again.
    assert evaluate_day(plan, [*items, *chosen], exemptions, as_of=as_of) == expected

    # A resend stored under a new id: the same punch, whichever copy stands for it.
    copies = [dataclasses.replace(p, id=f"resend-{n}") for n, p in enumerate(chosen)]
    times = {p.id: p.at for p in [*items, *copies]}
    again = evaluate_day(plan, [*copies, *items], exemptions, as_of=as_of)
    assert ids_as_times(again, times) == ids_as_times(expected, times)


# --------------------------------------------------------------------------- (c) filled


def _competes(plan: DayPlan, key: str, punch: PunchIn, other: PunchIn) -> bool:
    """Whether ``other`` could take the slot instead of ``punch`` under the matching rule."""
    if other.voided:
        return False
    is_in = key.startswith("in")
    if plan.shift is not None and plan.shift.flexible is not None:
        inside = slot_key_for(plan, other.at) is not None  # the whole day window
    else:
        inside = slot_key_for(plan, other.at) == key
    return inside and (other.at <= punch.at if is_in else other.at >= punch.at)


@FAST
@given(work_plans, exemption_lists(), as_ofs, st.data())
def test_punch_in_a_window_fills_that_slot(plan, exemptions, as_of, data):
    window = data.draw(st.sampled_from(slot_windows(plan)))
    length = int((window.end - window.start).total_seconds())
    last = length if window.end_inclusive else length - 1
    second = data.draw(st.integers(min_value=0, max_value=last))
    source = data.draw(st.sampled_from(SOURCES))
    punch = PunchIn("p", window.start + timedelta(seconds=second), source)
    others = [o for o in data.draw(punch_lists()) if not _competes(plan, window.key, punch, o)]

    result = evaluate_day(plan, [*others, punch], exemptions, as_of=as_of)

    filled = next(s for s in result.slots if s.key == window.key)
    assert filled.punch_id == "p"
    assert filled.status != "pending"
    if filled.status == "missing":  # only when the rule says "counted as missing"
        codes = {n.code for n in result.notes if n.slot == window.key}
        assert codes & {"late_counted_missing", "early_counted_missing"}


# --------------------------------------------------------------------------- (d) partition


@st.composite
def plan_runs(draw):
    length = draw(st.integers(min_value=2, max_value=8))
    boundary = draw(st.sampled_from([0, 0, 4, 6]))
    kinds = draw(
        st.lists(
            st.sampled_from([NIGHT, NIGHT, NIGHT, STANDARD, SPLIT, FLEX, ZERO, "rest", "holiday"]),
            min_size=length,
            max_size=length,
        )
    )
    run = []
    for offset, kind in enumerate(kinds):
        day = D + timedelta(days=offset)
        if isinstance(kind, Shift):
            run.append(DayPlan(day, SH, "work", kind, boundary))
        else:
            run.append(DayPlan(day, SH, kind, None, boundary))
    return run


@FAST
@given(plan_runs(), st.data())
def test_partition_places_every_punch_in_exactly_one_date(run, data):
    span = len(run) * 86400
    moments = st.integers(min_value=-86400, max_value=span + 86400).map(lambda s: s - s % 60)
    items = [
        PunchIn(n, MIDNIGHT + timedelta(seconds=s), "device")
        for n, s in enumerate(data.draw(st.lists(moments, max_size=25)), start=1)
    ]

    parts = partition_punches(run, items)

    placed = [p.id for ps in parts.values() for p in ps]
    assert sorted(placed) == [p.id for p in items]  # none lost, none twice
    assert set(parts) >= {plan.day for plan in run}
    by_day = {plan.day: plan for plan in run}
    for day, ps in parts.items():
        for punch in ps:
            owners = [d for d, plan in by_day.items() if slot_key_for(plan, punch.at)]
            if owners:
                assert day == min(owners)  # the earlier day wins
            else:
                local = punch.at.astimezone(SH)
                assert day == local.date() - timedelta(days=local.hour < run[0].day_boundary_hour)
            assert day in affected_dates(punch.at, SH, run[0].day_boundary_hour)

    # Evaluated per date, no punch fills a slot on two dates.
    used = [
        s.punch_id
        for plan in run
        for s in evaluate_day(plan, parts[plan.day]).slots
        if s.punch_id is not None
    ]
    assert len(used) == len(set(used))


# --------------------------------------------------------------------------- (e) voided


@FAST
@given(plans, exemption_lists(), as_ofs, st.data())
def test_voided_punches_never_affect_the_result(plan, exemptions, as_of, data):
    items = data.draw(punch_lists(voided=False))
    extra = [
        dataclasses.replace(p, id=f"void-{p.id}", voided=True) for p in data.draw(punch_lists())
    ]
    expected = evaluate_day(plan, items, exemptions, as_of=as_of)
    assert (
        without_voided_notes(evaluate_day(plan, [*items, *extra], exemptions, as_of=as_of))
        == expected
    )

    # Voiding a punch is the same as never having it.
    if items:
        index = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
        voided = [dataclasses.replace(p, voided=(i == index)) for i, p in enumerate(items)]
        removed = items[:index] + items[index + 1 :]
        assert without_voided_notes(
            evaluate_day(plan, voided, exemptions, as_of=as_of)
        ) == evaluate_day(plan, removed, exemptions, as_of=as_of)


# --------------------------------------------------------------------------- (f) worked


@st.composite
def plan_and_punches(draw):
    """A plan with random punches plus, for most slots, one punch inside its window."""
    plan = draw(plans)
    items = draw(punch_lists())
    for window in slot_windows(plan):
        if draw(st.integers(min_value=0, max_value=4)):
            length = int((window.end - window.start).total_seconds()) - 1
            second = draw(st.integers(min_value=0, max_value=length))
            source = draw(st.sampled_from(SOURCES))
            items.append(PunchIn(window.key, window.start + timedelta(seconds=second), source))
    return plan, items


@FAST
@given(plan_and_punches(), exemption_lists(), as_ofs)
def test_worked_minutes_within_zero_and_scheduled(plan_items, exemptions, as_of):
    plan, items = plan_items
    result = evaluate_day(plan, items, exemptions, as_of=as_of)
    scheduled = SCHEDULED[plan.shift.code] if plan.shift else 0
    assert 0 <= result.worked_minutes <= scheduled
    # Worked time excludes exempt time: together they never exceed the schedule.
    exempt = result.exempt_minutes_by_kind.values()
    covered = sum(exempt) if len(exemptions) <= 1 else max(exempt, default=0)
    assert result.worked_minutes + covered <= scheduled
    assert all(0 < m <= scheduled for m in exempt)


@FAST
@given(plan_and_punches(), as_ofs)
def test_worked_time_is_the_exact_overlap_of_matched_punches_rounded_down_once(plan_items, as_of):
    """rules.md: per segment with both slots filled (a punch matched, whatever its status),
    min(out, end) - max(in, start), never negative, summed exactly, rounded down once."""
    plan, items = plan_items
    if plan.shift is None or plan.shift.flexible is not None:
        return
    result = evaluate_day(plan, items, as_of=as_of)
    total = timedelta()
    for check_in, check_out in zip(result.slots[::2], result.slots[1::2], strict=True):
        if check_in.punch_at is not None and check_out.punch_at is not None:
            start, end = check_in.expected, check_out.expected  # the segment, fixed shift
            span = min(check_out.punch_at, end) - max(check_in.punch_at, start)
            total += max(span, timedelta())
    assert result.worked_minutes == total // timedelta(minutes=1)


@FAST
@given(
    st.sampled_from([STANDARD, STRICT]),
    st.integers(min_value=-100, max_value=200),
    st.integers(min_value=0, max_value=59_999_999),
    st.sampled_from(["in1", "out1"]),
)
def test_grace_and_thresholds_are_judged_on_whole_minutes(shift, minutes, microseconds, key):
    """rules.md: a punch m minutes and a few seconds late (check-in) or early (check-out)
    is judged exactly as one m whole minutes late or early (09:00:59 is 0 minutes late)."""
    plan = DayPlan(D, SH, "work", shift)
    windows = {w.key: w for w in slot_windows(plan)}
    due = windows[key].expected
    sign = 1 if key == "in1" else -1
    other = windows["out1" if key == "in1" else "in1"].expected

    def judged(offset: timedelta):
        moment = due + sign * offset
        if not windows[key].contains(moment):
            return None
        result = evaluate_day(plan, [PunchIn(1, moment, "device"), PunchIn(2, other, "device")])
        found = next(s for s in result.slots if s.key == key)
        return found.status, found.minutes, found.serious, found.half_day_absent

    whole = judged(timedelta(minutes=minutes))
    within = judged(timedelta(minutes=minutes, microseconds=microseconds))
    if whole is not None and within is not None:
        assert within == whole


# --------------------------------------------------------------------------- consistency


@FAST
@given(plans, exemption_lists(), as_ofs, punch_lists())
def test_counts_statuses_and_explanations_agree(plan, exemptions, as_of, items):
    result = evaluate_day(plan, items, exemptions, as_of=as_of)
    statuses = [s.status for s in result.slots]
    assert result.provisional is (as_of is not None)
    assert result.missing_in_count + result.missing_out_count == statuses.count("missing")
    assert result.late_count == statuses.count("late")
    assert result.early_count == statuses.count("early")
    assert result.pending_count == statuses.count("pending")
    if as_of is None:
        assert "pending" not in statuses
    assert result.absent_days in (0.0, 0.5, 1.0)
    if result.status == "absent":
        assert result.absent_days == 1.0
    if result.status in ("rest", "holiday", "leave"):
        assert result.absent_days == 0.0
    if result.status == "normal":
        assert set(statuses) <= {"normal", "corrected", "manual", "exempt", "pending"}
    # Every live punch is accounted for exactly once: in a slot, extra, or outside.
    # Every live punch is accounted for exactly once: in a slot, extra, or outside; of
    # copies with the same instant and source only the smallest id counts.
    first: dict[tuple[datetime, str], int | str] = {}
    for p in sorted(items, key=lambda p: (p.at, str(p.id))):
        if not p.voided:
            first.setdefault((p.at, p.source), p.id)
    in_slots = [s.punch_id for s in result.slots if s.punch_id is not None]
    accounted = in_slots + list(result.extra_punch_ids) + list(result.outside_punch_ids)
    assert sorted(accounted, key=str) == sorted(first.values(), key=str)
    assert all(n.code in NOTE_TEXT_EN for n in result.notes)
    assert len(explain_en(result)) == len(result.notes)
