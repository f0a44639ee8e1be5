"""The shared, range-checked parsers (ztk/core/parse.py): they never raise on any input,
and whatever they return is a value the application can compute with."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztk.core.errors import DomainError
from ztk.core.parse import (
    FIRST_DAY,
    FIRST_MOMENT,
    LAST_DAY,
    LAST_MOMENT,
    MAX_ID,
    check_day,
    check_moment,
    moment_in_range,
    parse_clock,
    parse_day,
    parse_ids,
    parse_int,
    parse_local_url,
    parse_moment,
    parse_month,
)

# Every fixed UTC offset Python allows (strictly inside ±24 h), to the minute.
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@pytest.mark.parametrize(
    "text", ["2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "1999-12-31", "2026-1-1", ""]
)
def test_impossible_or_out_of_range_days_are_none(text):
    assert parse_day(text) is None


@given(st.dates(min_value=FIRST_DAY, max_value=LAST_DAY))
def test_every_day_of_the_calendar_round_trips(day):
    assert parse_day(f" {day.isoformat()} ") == day


@given(st.text())
def test_parsers_never_raise_and_stay_in_range(text):
    day = parse_day(text)
    assert day is None or FIRST_DAY <= day <= LAST_DAY
    month = parse_month(text)
    assert month is None or (FIRST_DAY.year <= month[0] <= LAST_DAY.year and 1 <= month[1] <= 12)
    assert parse_clock(text) is None or isinstance(parse_clock(text), time)
    number = parse_int(text)
    assert number is None or 0 <= number <= MAX_ID
    moment = parse_moment(text)
    assert moment is None or FIRST_MOMENT <= moment.astimezone(UTC) < LAST_MOMENT


def test_months_clocks_and_integers():
    assert parse_month("2026-11") == (2026, 11)
    assert parse_month("2026-13") is None
    assert parse_month("0000-01") is None
    assert parse_clock("9:05") == time(9, 5)
    assert parse_clock("23:59:59") == time(23, 59, 59)
    assert parse_clock("24:00") is None
    assert parse_int("9223372036854775807") == MAX_ID
    assert parse_int("99999999999999999999999") is None  # beyond 64 bits
    assert parse_int("-1") is None
    assert parse_int("-1", minimum=-5) == -1
    assert parse_int("9" * 5000) is None
    assert parse_ids(["3", "x", "1", "3", "0", "-2", "99999999999999999999", " 2 "]) == [3, 1, 2]
    assert parse_ids(["1", "2", "3"], limit=2) == [1, 2]


@given(st.datetimes(timezones=st.none() | offsets))
def test_no_datetime_makes_the_range_check_overflow(value):
    """Year 9999 at -14:00 or year 1 at +14:00 parse, but overflow in UTC: never here."""
    inside = moment_in_range(value)
    if inside and value.tzinfo is not None:
        assert FIRST_MOMENT <= value.astimezone(UTC) < LAST_MOMENT
    if inside and value.tzinfo is None:
        assert FIRST_DAY <= value.date() <= LAST_DAY


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_the_issues_instants_are_refused(text):
    assert parse_moment(text) is None
    with pytest.raises(DomainError) as refused:
        check_moment(datetime.fromisoformat(text))
    assert refused.value.code == "out_of_range"


def test_naive_times_only_when_asked_for():
    assert parse_moment("2026-11-23T09:00") is None
    assert parse_moment("2026-11-23T09:00", naive=True) == datetime(2026, 11, 23, 9)
    assert parse_moment("2026-11-23T09:00+08:00") is not None


def test_check_day_names_the_range():
    assert check_day(date(2026, 1, 1)) == date(2026, 1, 1)
    with pytest.raises(DomainError) as refused:
        check_day(date(1, 1, 1), field="from")
    assert (refused.value.code, refused.value.details) == ("out_of_range", {"field": "from"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/attendance/?month=2026-11", "/attendance/?month=2026-11"),
        ("99999999999999999999999", None),  # redirect() would try it as a view name
        ("attendance:home", None),
        ("//evil.example/x", None),
        ("/\\evil.example/x", None),
        ("https://evil.example/", None),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_local_urls_only(value, expected):
    assert parse_local_url(value) == expected
