"""The period arithmetic (ztk.engine.periods): examples by hand, then properties.

Every day lies in exactly one period; consecutive periods tile the calendar without gaps
or overlaps; a period starts on the start day (clamped only at the end of the date range)
and the period labelled by a month starts in that month; start days 29–31 are refused.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztk.engine.periods import (
    at_day,
    check_start_day,
    period_of,
    period_starting_in,
    previous_period,
    shift_month,
)

start_days = st.integers(1, 28)
days = st.dates(min_value=date(1, 2, 1), max_value=date(9999, 11, 30))


@pytest.mark.parametrize(
    ("day", "start_day", "expected"),
    [
        (date(2026, 11, 1), 1, (date(2026, 11, 1), date(2026, 11, 30))),
        (date(2026, 2, 14), 1, (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2024, 2, 29), 1, (date(2024, 2, 1), date(2024, 2, 29))),
        (date(2026, 11, 25), 26, (date(2026, 10, 26), date(2026, 11, 25))),
        (date(2026, 11, 26), 26, (date(2026, 11, 26), date(2026, 12, 25))),
        (date(2026, 12, 31), 26, (date(2026, 12, 26), date(2027, 1, 25))),
        (date(2026, 1, 10), 26, (date(2025, 12, 26), date(2026, 1, 25))),
        (date(2026, 3, 1), 28, (date(2026, 2, 28), date(2026, 3, 27))),
        (date(9999, 12, 31), 1, (date(9999, 12, 1), date(9999, 12, 31))),
        (date(1, 1, 1), 15, (date.min, date(1, 1, 14))),
    ],
)
def test_period_of(day, start_day, expected):
    assert period_of(day, start_day) == expected


@pytest.mark.parametrize(
    ("year", "month", "start_day", "expected"),
    [
        (2026, 10, 26, (date(2026, 10, 26), date(2026, 11, 25))),
        (2026, 12, 26, (date(2026, 12, 26), date(2027, 1, 25))),
        (2026, 2, 1, (date(2026, 2, 1), date(2026, 2, 28))),
        (2024, 2, 1, (date(2024, 2, 1), date(2024, 2, 29))),
        (2026, 1, 28, (date(2026, 1, 28), date(2026, 2, 27))),
        (2026, 2, 28, (date(2026, 2, 28), date(2026, 3, 27))),
        (2024, 1, 28, (date(2024, 1, 28), date(2024, 2, 27))),
        (9999, 12, 1, (date(9999, 12, 1), date(9999, 12, 31))),
    ],
)
def test_period_starting_in(year, month, start_day, expected):
    assert period_starting_in(year, month, start_day) == expected


@pytest.mark.parametrize("start_day", [0, 29, 30, 31, -1, True, 1.0, "1", None])
def test_a_start_day_outside_1_to_28_is_refused(start_day):
    with pytest.raises(ValueError):
        check_start_day(start_day)
    with pytest.raises(ValueError):
        period_of(date(2026, 3, 31), start_day)
    with pytest.raises(ValueError):
        period_starting_in(2026, 2, start_day)


@pytest.mark.parametrize(
    ("day", "expected"),
    [  # the last days of long and short months, start day 28
        (date(2026, 2, 27), (date(2026, 1, 28), date(2026, 2, 27))),
        (date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 27))),
        (date(2024, 2, 29), (date(2024, 2, 28), date(2024, 3, 27))),
        (date(2026, 1, 31), (date(2026, 1, 28), date(2026, 2, 27))),
        (date(2026, 3, 29), (date(2026, 3, 28), date(2026, 4, 27))),
        (date(2026, 4, 30), (date(2026, 4, 28), date(2026, 5, 27))),
        (date(2026, 12, 31), (date(2026, 12, 28), date(2027, 1, 27))),
    ],
)
def test_month_ends_with_start_day_28(day, expected):
    assert period_of(day, 28) == expected


def test_month_helpers():
    assert shift_month(2026, 12, 1) == (2027, 1)
    assert shift_month(2026, 1, -1) == (2025, 12)
    assert shift_month(9999, 12, 1) is None
    assert shift_month(1, 1, -1) is None
    assert at_day((2026, 2), 31) == date(2026, 2, 28)
    assert at_day((2024, 2), 30) == date(2024, 2, 29)
    assert at_day((2026, 4), 31) == date(2026, 4, 30)


@given(day=days, start_day=start_days)
def test_every_day_lies_in_exactly_one_period(day, start_day):
    start, end = period_of(day, start_day)
    assert start <= day <= end
    assert start.day == start_day  # away from the ends of the range, never clamped
    assert 28 <= (end - start).days + 1 <= 31
    # Exactly one: the periods just before and after do not contain the day.
    before = period_of(start - timedelta(days=1), start_day)
    after = period_of(end + timedelta(days=1), start_day)
    assert before[1] < day < after[0]
    # Every day of the period names the same period.
    assert period_of(start, start_day) == period_of(end, start_day) == (start, end)


@given(day=days, start_day=start_days)
def test_periods_tile_without_gaps(day, start_day):
    start, end = period_of(day, start_day)
    assert previous_period((start, end), start_day)[1] == start - timedelta(days=1)
    following = period_of(end + timedelta(days=1), start_day)
    assert following[0] == end + timedelta(days=1)
    assert previous_period(following, start_day) == (start, end)


@given(day=days, start_day=start_days)
def test_the_period_labelled_by_a_month_starts_in_it(day, start_day):
    start, end = period_of(day, start_day)
    assert period_starting_in(start.year, start.month, start_day) == (start, end)


@given(day=st.dates(), start_day=start_days)
def test_the_whole_date_range_is_covered(day, start_day):
    start, end = period_of(day, start_day)
    assert start <= day <= end


@given(
    year=st.integers(2, 9998),
    month=st.integers(1, 12),
    start_day=start_days,
    offset=st.integers(0, 30),
)
def test_days_28_to_31_and_february(year, month, start_day, offset):
    """Any day of any month (the ends of long months and of February included)."""
    first = date(year, month, 1)
    day = first + timedelta(days=offset)
    if day.month != month:
        return
    start, end = period_of(day, start_day)
    if day.day >= start_day:
        assert start == date(year, month, start_day)
    else:
        assert start.day == start_day and start < first
    assert end + timedelta(days=1) == period_of(end + timedelta(days=1), start_day)[0]
