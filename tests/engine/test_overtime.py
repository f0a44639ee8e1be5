"""Overtime from punches (engine.overtime): hand-written examples and properties."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztk.engine import (
    DayPlan,
    Flexible,
    OvertimePolicy,
    PunchIn,
    Segment,
    Shift,
    compute_overtime,
    overtime_kind,
    partition_punches,
    split_overlaps,
)

SH = ZoneInfo("Asia/Shanghai")
D = date(2026, 12, 4)  # a Friday
STANDARD = Shift("STD", "09:00-18:00", (Segment(time(9), time(18)),))
SPLIT = Shift("SPLIT", "09-12 13-18", (Segment(time(9), time(12)), Segment(time(13), time(18))))
NIGHT = Shift("NIGHT", "22:00-06:00", (Segment(time(22), time(6)),))
EARLY = Shift("EARLY", "06:00-14:00", (Segment(time(6), time(14)),))
FLEX = Shift("FLEX", "flexible", (Segment(time(8), time(19)),), Flexible(time(8), time(10), 540))
EXACT = OvertimePolicy(min_block_minutes=0, unit_minutes=1, needs_request=False)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=SH)


def punches(*moments: datetime) -> list[PunchIn]:
    return [PunchIn(n, m, "device") for n, m in enumerate(moments, start=1)]


def work(shift: Shift = STANDARD, day: date = D) -> DayPlan:
    return DayPlan(day, SH, "work", shift)


# --------------------------------------------------------------------------- examples


def test_after_the_shift_end_is_weekday_overtime():
    result = compute_overtime(work(), punches(at(D, 9, 0), at(D, 20, 10)), EXACT)
    assert (result.kind, result.minutes, result.counted_minutes) == ("weekday", 130, 130)


def test_before_the_start_and_after_the_end_are_two_blocks():
    result = compute_overtime(work(), punches(at(D, 7, 0), at(D, 19, 0)), EXACT)
    assert result.minutes == 120 + 60
    assert len(result.blocks) == 2


def test_minimum_block_and_rounding_apply_per_block():
    policy = OvertimePolicy(min_block_minutes=30, unit_minutes=30, needs_request=False)
    # 20 min before the start (below the minimum), 1 h 50 min after the end (→ 1 h 30).
    result = compute_overtime(work(), punches(at(D, 8, 40), at(D, 19, 50)), policy)
    assert result.minutes == 90


def test_seconds_count_and_are_rounded_down_once():
    policy = OvertimePolicy(min_block_minutes=60, unit_minutes=1, needs_request=False)
    assert compute_overtime(work(), punches(at(D, 9), at(D, 18, 59, 59)), policy).minutes == 0
    assert compute_overtime(work(), punches(at(D, 9), at(D, 19, 0, 0)), policy).minutes == 60


def test_rest_day_counts_all_worked_time_at_the_rest_rate():
    saturday = D + timedelta(days=1)
    plan = DayPlan(saturday, SH, "rest", None)
    result = compute_overtime(plan, punches(at(saturday, 9), at(saturday, 17, 45)), EXACT)
    assert (result.kind, result.minutes) == ("rest", 525)


def test_a_statutory_holiday_is_its_own_category():
    plan = DayPlan(D, SH, "holiday", None, statutory=True)
    assert compute_overtime(plan, punches(at(D, 10), at(D, 12)), EXACT).kind == "holiday"


def test_a_holiday_that_is_not_statutory_pays_as_a_rest_day():
    plan = DayPlan(D, SH, "holiday", None)
    result = compute_overtime(plan, punches(at(D, 10), at(D, 12)), EXACT)
    assert (result.kind, result.minutes) == ("rest", 120)


def test_only_a_holiday_can_be_statutory():
    with pytest.raises(ValueError, match="only a holiday"):
        DayPlan(D, SH, "rest", None, statutory=True)
    with pytest.raises(ValueError, match="only a holiday"):
        DayPlan(D, SH, "work", STANDARD, statutory=True)


def test_one_punch_or_none_is_no_overtime():
    plan = DayPlan(D, SH, "rest", None)
    assert compute_overtime(plan, punches(at(D, 10)), EXACT).minutes == 0
    assert compute_overtime(work(), punches(at(D, 20)), EXACT).minutes == 0
    assert compute_overtime(work(), [], EXACT).minutes == 0


def test_leaving_early_is_not_negative_overtime():
    assert compute_overtime(work(), punches(at(D, 9, 30), at(D, 17)), EXACT).minutes == 0


def test_lunch_break_of_a_split_shift_is_not_overtime():
    result = compute_overtime(work(SPLIT), punches(at(D, 9), at(D, 12), at(D, 13), at(D, 18)))
    assert result.minutes == 0


def test_night_shift_overtime_after_the_morning_end_belongs_to_the_night():
    plans = split_overlaps([work(NIGHT, D), work(NIGHT, D + timedelta(days=1))])
    items = punches(at(D, 22, 0), at(D + timedelta(days=1), 8, 0))
    parts = partition_punches(plans, items)
    assert compute_overtime(plans[0], parts[D], EXACT).minutes == 120
    assert compute_overtime(plans[1], parts.get(D + timedelta(days=1), []), EXACT).minutes == 0


def test_flexible_shift_overtime_starts_after_the_required_time():
    # In at 09:10, required 540 min → due 18:10; out 19:10 → 60 min.
    result = compute_overtime(work(FLEX), punches(at(D, 9, 10), at(D, 19, 10)), EXACT)
    assert result.minutes == 60


def test_voided_punches_are_ignored():
    items = [PunchIn(1, at(D, 9), "device"), PunchIn(2, at(D, 21), "device", voided=True)]
    items.append(PunchIn(3, at(D, 18), "device"))
    assert compute_overtime(work(), items, EXACT).minutes == 0


def test_with_a_request_needed_only_the_approved_span_counts():
    policy = OvertimePolicy(min_block_minutes=30, unit_minutes=30, needs_request=True)
    items = punches(at(D, 9), at(D, 21))
    assert compute_overtime(work(), items, policy).counted_minutes == 0
    approved = [(at(D, 18), at(D, 20))]
    result = compute_overtime(work(), items, policy, approved)
    assert (result.minutes, result.counted_minutes) == (180, 120)
    # Approved longer than worked: the punches bound it.
    result = compute_overtime(work(), items, policy, [(at(D, 18), at(D, 23))])
    assert result.counted_minutes == 180


def test_no_request_needed_counts_everything_computed():
    policy = OvertimePolicy(min_block_minutes=30, unit_minutes=30, needs_request=False)
    result = compute_overtime(work(), punches(at(D, 9), at(D, 21)), policy)
    assert result.counted_minutes == result.minutes == 180


# 国务院办公厅关于2026年部分节假日安排的通知: 国庆节 10月1日（周四）至7日（周三）放假调休，
# 共7天。9月20日（周日）、10月10日（周六）上班。By 《全国年节及纪念日放假办法》 only Oct 1–3
# are festival days (法定节假日); Oct 4 (Sunday) is a weekend day, Oct 5 the day off for
# the festival Saturday Oct 3 (补假), Oct 6–7 are in lieu of the two worked weekend days.
NATIONAL_DAY_2026 = {
    date(2026, 9, 20): ("work", False, "weekday"),  # Sunday worked: make-up working day
    date(2026, 10, 1): ("holiday", True, "holiday"),
    date(2026, 10, 2): ("holiday", True, "holiday"),
    date(2026, 10, 3): ("holiday", True, "holiday"),  # a Saturday, statutory all the same
    date(2026, 10, 4): ("holiday", False, "rest"),
    date(2026, 10, 5): ("holiday", False, "rest"),
    date(2026, 10, 6): ("holiday", False, "rest"),
    date(2026, 10, 7): ("holiday", False, "rest"),
    date(2026, 10, 8): ("work", False, "weekday"),  # an ordinary Thursday
    date(2026, 10, 10): ("work", False, "weekday"),  # Saturday worked: make-up working day
    date(2026, 10, 11): ("rest", False, "rest"),  # an ordinary Sunday
}


@pytest.mark.parametrize("day", sorted(NATIONAL_DAY_2026))
def test_national_day_2026_pays_3x_only_on_the_festival_days(day):
    kind, statutory, category = NATIONAL_DAY_2026[day]
    plan = DayPlan(day, SH, kind, STANDARD if kind == "work" else None, statutory=statutory)
    # In at 08:00, out at 20:00: 12 h on a day off, 1 + 2 h around a 09–18 shift.
    result = compute_overtime(plan, punches(at(day, 8), at(day, 20)), EXACT)
    assert (result.kind, result.minutes) == (category, 720 if kind != "work" else 180)


def test_bad_policy_is_refused():
    with pytest.raises(ValueError):
        OvertimePolicy(unit_minutes=0)
    with pytest.raises(ValueError):
        OvertimePolicy(min_block_minutes=-1)


# --------------------------------------------------------------------------- properties

PROPERTY = settings(max_examples=300, deadline=None)
SHIFTS = [STANDARD, SPLIT, NIGHT, EARLY, FLEX]


@st.composite
def runs(draw):
    length = draw(st.integers(min_value=2, max_value=6))
    boundary = draw(st.sampled_from([0, 0, 4]))
    kinds = draw(
        st.lists(
            st.sampled_from([*SHIFTS, NIGHT, "rest", "holiday", "statutory"]),
            min_size=length,
            max_size=length,
        )
    )
    plans = []
    for offset, kind in enumerate(kinds):
        day = D + timedelta(days=offset)
        if isinstance(kind, Shift):
            plans.append(DayPlan(day, SH, "work", kind, boundary))
        elif kind == "statutory":
            plans.append(DayPlan(day, SH, "holiday", None, boundary, statutory=True))
        else:
            plans.append(DayPlan(day, SH, kind, None, boundary))
    # As build_plans gives them: cut where neighbouring dates' windows would overlap.
    return split_overlaps(plans)


policies = st.builds(
    OvertimePolicy,
    min_block_minutes=st.integers(min_value=0, max_value=120),
    unit_minutes=st.integers(min_value=1, max_value=60),
    needs_request=st.booleans(),
)


@PROPERTY
@given(runs(), policies, st.data())
def test_overtime_is_never_negative_nor_counted_twice_across_days(plans, policy, data):
    start = datetime.combine(plans[0].day, time(), tzinfo=SH)
    span = (len(plans) + 1) * 86400
    seconds = st.integers(min_value=-43200, max_value=span)
    items = [
        PunchIn(n, start + timedelta(seconds=s), "device")
        for n, s in enumerate(data.draw(st.lists(seconds, max_size=20)), start=1)
    ]
    approved_starts = data.draw(st.lists(seconds, max_size=4))
    approved = [
        (start + timedelta(seconds=s), start + timedelta(seconds=s + 3 * 3600))
        for s in approved_starts
    ]
    parts = partition_punches(plans, items)
    blocks: list[tuple[datetime, datetime]] = []
    for plan in plans:
        result = compute_overtime(plan, parts.get(plan.day, []), policy, approved)
        assert 0 <= result.counted_minutes <= result.minutes
        exact = sum(((b - a) for a, b in result.blocks), timedelta())
        assert result.minutes <= exact // timedelta(minutes=1)
        for a, b in result.blocks:
            assert b > a
        blocks.extend(result.blocks)
    # No instant is overtime of two dates.
    blocks.sort()
    for (_a, end), (start_next, _b) in zip(blocks, blocks[1:], strict=False):
        assert start_next >= end


@PROPERTY
@given(st.sampled_from(SHIFTS), policies, st.lists(st.integers(0, 36 * 60), max_size=8))
def test_more_approval_never_counts_less(shift, policy, minutes):
    plan = DayPlan(D, SH, "work", shift)
    midnight = datetime.combine(D, time(), tzinfo=SH)
    items = punches(*(midnight + timedelta(minutes=m) for m in minutes))
    none = compute_overtime(plan, items, policy, [])
    some = compute_overtime(plan, items, policy, [(midnight, midnight + timedelta(hours=20))])
    everything = [(midnight - timedelta(days=1), midnight + timedelta(days=3))]
    full = compute_overtime(plan, items, policy, everything)
    assert none.counted_minutes <= some.counted_minutes <= full.counted_minutes
    assert full.counted_minutes == full.minutes
    assert all(r.blocks == none.blocks for r in (some, full))
    assert none.kind == "weekday"


EXPECTED_CATEGORY = {
    ("work", False): "weekday",
    ("rest", False): "rest",
    ("holiday", False): "rest",
    ("holiday", True): "holiday",
}


@PROPERTY
@given(runs(), st.data())
def test_a_days_category_is_its_plans_alone(plans, data):
    """Whatever the punches of the date or of any other date, the category is the plan's
    (work 1.5×, rest or a holiday that is not statutory 2×, a statutory holiday 3×); a
    statutory plan is always a holiday."""
    start = datetime.combine(plans[0].day, time(), tzinfo=SH)
    seconds = st.integers(min_value=-43200, max_value=(len(plans) + 1) * 86400)

    def draw_punches():
        moments = data.draw(st.lists(seconds, max_size=12))
        return [PunchIn(n, start + timedelta(seconds=s), "device") for n, s in enumerate(moments)]

    first = partition_punches(plans, draw_punches())
    other = partition_punches(plans, draw_punches())
    for plan in plans:
        assert not plan.statutory or plan.kind == "holiday"
        expected = EXPECTED_CATEGORY[(plan.kind, plan.statutory)]
        assert overtime_kind(plan) == expected
        for parts in (first, other):
            result = compute_overtime(plan, parts.get(plan.day, []), EXACT)
            assert result.kind == expected
        # This date's punches with another draw's punches on every other date.
        mixed = {**other, plan.day: first.get(plan.day, [])}
        for neighbour in plans:
            result = compute_overtime(neighbour, mixed.get(neighbour.day, []), EXACT)
            assert result.kind == EXPECTED_CATEGORY[(neighbour.kind, neighbour.statutory)]
