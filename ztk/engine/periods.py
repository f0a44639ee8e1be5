"""Attendance periods as arithmetic: the one owner of "which period holds this day".

Pure: no Django, no ORM, no clock. The start day is an argument; the configured one is
read by ``ztk.org.selectors.period_start_day`` (one reader). The correction policy check,
the month close (``ztk.closing``) and the monthly reports all compute periods here.

A period runs from the start day of a month to the day before the start day of the next
month, so with start day 26 the "November" period is 26 October – 25 November (it is
labelled by the month it starts in: 2026-10). The start day is limited to 1–28 so that
every month has one; 29–31 are refused. At the ends of the supported date range a period
is clamped to ``date.min`` / ``date.max``.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

__all__ = [
    "MAX_START_DAY",
    "MIN_START_DAY",
    "at_day",
    "check_start_day",
    "period_of",
    "period_starting_in",
    "previous_period",
    "shift_month",
]

MIN_START_DAY = 1
MAX_START_DAY = 28


def check_start_day(start_day: object) -> int:
    """The start day itself when it is an int in 1–28; ValueError otherwise."""
    if (
        not isinstance(start_day, int)
        or isinstance(start_day, bool)
        or not MIN_START_DAY <= start_day <= MAX_START_DAY
    ):
        raise ValueError(
            f"period_start_day must be between {MIN_START_DAY} and {MAX_START_DAY}, "
            f"got {start_day!r}"
        )
    return start_day


def shift_month(year: int, month: int, by: int) -> tuple[int, int] | None:
    """(year, month) moved by ``by`` months, or None outside the supported date range."""
    index = year * 12 + (month - 1) + by
    shifted_year, shifted_month = divmod(index, 12)
    if not 1 <= shifted_year <= 9999:
        return None
    return shifted_year, shifted_month + 1


def at_day(year_month: tuple[int, int], day: int) -> date:
    """Day ``day`` of the month, clamped to the month's length (31 → 28/29/30)."""
    year, month = year_month
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def period_of(day: date, start_day: int = 1) -> tuple[date, date]:
    """First and last day of the period containing ``day``."""
    check_start_day(start_day)
    this_month = (day.year, day.month)
    if day.day >= start_day:
        start = date(day.year, day.month, start_day)
        following = shift_month(*this_month, 1)
    else:
        previous = shift_month(*this_month, -1)
        start = date.min if previous is None else date(*previous, start_day)
        following = this_month
    end = date.max if following is None else date(*following, start_day) - timedelta(1)
    return start, end


def period_starting_in(year: int, month: int, start_day: int = 1) -> tuple[date, date]:
    """The period that starts in ``month`` of ``year`` (the month that labels it)."""
    check_start_day(start_day)
    return period_of(date(year, month, start_day), start_day)


def previous_period(period: tuple[date, date], start_day: int = 1) -> tuple[date, date]:
    """The period just before ``period`` (refused at the start of the date range)."""
    start, _end = period
    if start == date.min:
        raise ValueError("no period before the first supported day")
    return period_of(start - timedelta(days=1), start_day)
