"""The engine's fast paths give exactly the results of its general (reference) path.

``evaluate_day`` sends a fixed shift without exemptions or voided punches, and every rest
or holiday day, through ``evaluate_fixed`` / ``evaluate_off``, which work in integer
microseconds on layouts cached per (shift, date, zone). ``evaluate_general`` is the
reference kept for every other day; here both are run on random shifts, zones (with DST
and non-hour offsets), punches, exemptions and ``as_of`` and must agree field for field.
``partition_punches`` is checked against the rule as first written (``slot_key_for`` per
date).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.engine.strategies import PROPERTY, days, moments, plans, punch_lists, shifts
from ztk.engine import (
    DayPlan,
    PunchIn,
    Segment,
    Shift,
    attendance_date_for,
    evaluate_day,
    partition_punches,
    punch_reach,
    slot_key_for,
    slot_windows,
    split_overlaps,
)
from ztk.engine.evaluate import evaluate_general
from ztk.engine.partition import boundary_date


@PROPERTY
@given(days())
def test_fast_paths_equal_the_general_path(case):
    plan, punches, exemptions, as_of = case
    # Both orders (the second run also takes the cached layouts): ids here may repeat
    # with another instant or source, where the order decides which copy stands.
    for ordered in (punches, list(reversed(punches))):
        expected = evaluate_general(plan, ordered, exemptions, as_of=as_of)
        assert evaluate_day(plan, ordered, exemptions, as_of=as_of) == expected


@PROPERTY
@given(days())
def test_fast_paths_raise_like_the_general_path(case):
    plan, punches, _exemptions, as_of = case
    for bad in (["not a punch"], [*punches, object()]):
        try:
            evaluate_general(plan, bad, (), as_of=as_of)
        except (ValueError, AttributeError, TypeError) as error:
            general = type(error)
        else:  # pragma: no cover - the general path always refuses them
            raise AssertionError("the general path accepted a non-punch")
        try:
            evaluate_day(plan, bad, (), as_of=as_of)
        except (ValueError, AttributeError, TypeError) as error:
            assert type(error) is general or isinstance(error, ValueError)
        else:
            raise AssertionError("the fast path accepted a non-punch")


def _partition_reference(plans_: list[DayPlan], punches: list[PunchIn]):
    """partition_punches as first written: slot_key_for for each candidate date."""
    by_date = {p.day: p for p in plans_}
    reference = next(iter(by_date.values()), None)

    def date_for(at: datetime) -> date:
        moment = at.astimezone(UTC)
        local = moment.astimezone(reference.tz).date() if reference else at.date()
        for offset in range(-2, 3):
            candidate = local + timedelta(days=offset)
            plan = by_date.get(candidate)
            if plan is not None and slot_key_for(plan, moment) is not None:
                return candidate
        plan = by_date.get(local) or by_date.get(local - timedelta(days=1)) or reference
        if plan is None:
            return boundary_date(moment, at.tzinfo or UTC, 0)
        return boundary_date(moment, plan.tz, plan.day_boundary_hour)

    result: dict[date, list[PunchIn]] = {day: [] for day in sorted(by_date)}
    for punch in sorted(punches, key=lambda p: (p.at.astimezone(UTC), str(p.id))):
        result.setdefault(date_for(punch.at), []).append(punch)
    return dict(sorted(result.items()))


@PROPERTY
@given(st.data())
def test_partition_equals_the_rule_as_first_written(data):
    first = data.draw(plans())
    tz, hour = first.tz, first.day_boundary_hour
    window = []
    for offset in (-1, 0, 1):
        if data.draw(st.integers(min_value=0, max_value=4)) == 0:
            continue  # a gap in the plans
        kind = data.draw(st.sampled_from(["work", "work", "rest"]))
        shift = data.draw(shifts()) if kind == "work" else None
        window.append(DayPlan(first.day + timedelta(days=offset), tz, kind, shift, hour))
    if data.draw(st.booleans()):
        window = split_overlaps(window)
    punches = data.draw(punch_lists(first, voided=True))
    assert partition_punches(window, punches) == _partition_reference(window, punches)


@PROPERTY
@given(st.data())
def test_cut_windows_of_consecutive_dates_never_overlap(data):
    """After split_overlaps no instant lies in the windows of two consecutive dates whose
    shifts leave a gap between them; where they overlapped, the cut is the midpoint of
    that gap, and each date keeps its windows on its own side of it."""
    first = data.draw(plans())
    tz, hour = first.tz, first.day_boundary_hour
    earlier = DayPlan(first.day, tz, "work", data.draw(shifts()), hour)
    later = DayPlan(first.day + timedelta(days=1), tz, "work", data.draw(shifts()), hour)
    cut_earlier, cut_later = split_overlaps([earlier, later])
    for moment in data.draw(st.lists(moments(earlier), min_size=1, max_size=10)):
        inside = [
            plan.day for plan in (cut_earlier, cut_later) if slot_key_for(plan, moment) is not None
        ]
        if cut_earlier.next_split is not None:
            assert len(inside) <= 1
            assert cut_later.previous_split == cut_earlier.next_split
        # Cutting only ever takes instants away from a window, never adds one.
        for plan, cut in ((earlier, cut_earlier), (later, cut_later)):
            if slot_key_for(cut, moment) is not None:
                assert slot_key_for(plan, moment) == slot_key_for(cut, moment)
    fixed = earlier.shift.flexible is None and later.shift.flexible is None
    if cut_earlier.next_split is not None and fixed:
        end = slot_windows(earlier)[-1].expected  # the last segment's end
        start = slot_windows(later)[0].expected  # the first segment's start
        assert end <= cut_earlier.next_split <= start
        assert cut_earlier.next_split == end + (start - end) / 2


@PROPERTY
@given(st.data())
def test_every_punch_of_a_date_lies_within_its_reach(data):
    """Recompute reads only the punches within ``punch_reach`` of the dates it computes:
    every punch partitioned to a date lies there, and partitioning only those gives the
    date the same punches."""
    first = data.draw(plans())
    tz, hour = first.tz, first.day_boundary_hour
    window = []
    for offset in (-1, 0, 1):
        if data.draw(st.integers(min_value=0, max_value=4)) == 0:
            continue  # a gap in the plans
        kind = data.draw(st.sampled_from(["work", "work", "rest"]))
        shift = data.draw(shifts()) if kind == "work" else None
        window.append(DayPlan(first.day + timedelta(days=offset), tz, kind, shift, hour))
    assume(window)
    if data.draw(st.booleans()):
        window = split_overlaps(window)
    punches = data.draw(punch_lists(first, voided=True))
    whole = partition_punches(window, punches)
    for plan in window:
        lo, hi = punch_reach([plan])
        for punch in whole[plan.day]:
            assert lo <= punch.at <= hi
        within = [p for p in punches if lo <= p.at <= hi]
        assert partition_punches(window, within)[plan.day] == whole[plan.day]
    assert punch_reach([]) is None


@PROPERTY
@given(st.data())
def test_partition_of_day_shifts_equals_the_rule_as_first_written(data):
    """Day shifts whose windows stay within their date (the quick path: local dates)."""
    first = data.draw(plans())
    tz = first.tz
    window = []
    for offset in (-1, 0, 1, 2):
        if data.draw(st.integers(min_value=0, max_value=5)) == 0:
            continue  # a gap in the plans
        if data.draw(st.booleans()):
            start = data.draw(st.integers(min_value=5 * 60, max_value=11 * 60))
            end = data.draw(st.integers(min_value=start + 30, max_value=20 * 60))
            segment = Segment(
                time(start // 60, start % 60),
                time(end // 60, end % 60),
                in_earliest=data.draw(st.integers(min_value=0, max_value=start)),
                out_latest=data.draw(st.integers(min_value=0, max_value=24 * 60 - end - 1)),
            )
            shift = Shift("D", "day", (segment,))
            window.append(DayPlan(first.day + timedelta(days=offset), tz, "work", shift, 0))
        else:
            window.append(DayPlan(first.day + timedelta(days=offset), tz, "rest", None, 0))
    punches = data.draw(punch_lists(first, voided=True))
    partitioned = partition_punches(window, punches)
    assert partitioned == _partition_reference(window, punches)
    by_date = {plan.day: plan for plan in window}
    for day, bucket in partitioned.items():
        for punch in bucket:
            assert attendance_date_for(punch.at, by_date) == day
