"""Range-checked parsing of numbers, dates and times from requests and files.

Why one owner: Python happily parses values the application cannot work with. A date in
year 1 or 9999 overflows when shifted by a day or a time zone, a 23-digit id does not fit
a 64-bit column (SQLite raises, PostgreSQL refuses), `2026-02-30` raises where a caller
expected None. Each of these was a 500 somewhere. Every boundary (query strings, forms,
JSON schemas, spreadsheet cells) parses through these helpers, which answer None for
anything unusable or outside the range below; `check_*` raise a DomainError for services.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from .errors import DomainError

# The calendar the application works in: attendance days, periods, punches, filters.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
# Instants are checked in UTC and in their own offset, so neither conversion can overflow.
FIRST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(2101, 1, 1, tzinfo=UTC)
# Ids and counts: what a signed 64-bit column (PostgreSQL bigint, SQLite INTEGER) holds.
MAX_ID = 2**63 - 1
MAX_INT32 = 2**31 - 1

OUT_OF_RANGE = "out_of_range"

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_INTEGER = re.compile(r"-?\d{1,19}")
# Long enough for any ISO 8601 instant with microseconds and an offset.
_MOMENT_MAX_LENGTH = 40


def parse_day(value: Any, *, first: date = FIRST_DAY, last: date = LAST_DAY) -> date | None:
    """`YYYY-MM-DD` as a date in [first, last]; None for anything else (2026-02-30 too)."""
    text = str(value or "").strip()
    if not _DAY.fullmatch(text):
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return None
    return parsed if first <= parsed <= last else None


def parse_month(value: Any) -> tuple[int, int] | None:
    """`YYYY-MM` as (year, month) inside the application's calendar; None otherwise."""
    match = _MONTH.fullmatch(str(value or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (1 <= month <= 12 and FIRST_DAY.year <= year <= LAST_DAY.year):
        return None
    return year, month


def parse_clock(value: Any) -> time | None:
    """`HH:MM` or `HH:MM:SS` as a time of day; None otherwise (25:00 too)."""
    match = _CLOCK.fullmatch(str(value or "").strip())
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def parse_int(value: Any, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """A decimal integer in [minimum, maximum]; None for anything else.

    Reads at most 19 digits, so a megabyte of digits costs nothing to refuse.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not _INTEGER.fullmatch(text):
            return None
        number = int(text)
    return number if minimum <= number <= maximum else None


def parse_ids(values: Iterable[Any], *, limit: int | None = None) -> list[int]:
    """The distinct positive ids among `values`, in order (at most `limit` of them).

    Anything that is not a positive id that fits a 64-bit column is left out: it cannot
    name a row.
    """
    out: list[int] = []
    for value in values:
        number = parse_int(value, minimum=1)
        if number is not None and number not in out:
            out.append(number)
            if limit is not None and len(out) >= limit:
                break
    return out


def moment_in_range(value: datetime) -> bool:
    """True when `value` lies inside the application's calendar.

    Aware: in [FIRST_MOMENT, LAST_MOMENT), checked on its own date first so converting to
    UTC cannot overflow (year 9999 at -14:00 is past `datetime.max` in UTC). Naive (a
    local time whose zone the caller supplies): its date in [FIRST_DAY, LAST_DAY]. Whether
    a naive time is acceptable at all is the caller's rule.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        return FIRST_DAY <= value.date() <= LAST_DAY
    if not FIRST_DAY.year - 1 <= value.year <= LAST_DAY.year + 1:
        return False  # far outside; converting it could overflow
    return FIRST_MOMENT <= value.astimezone(UTC) < LAST_MOMENT


def parse_moment(value: Any, *, naive: bool = False) -> datetime | None:
    """An ISO 8601 time with an offset (or, when `naive`, also a local time without one)
    inside the application's calendar; else None."""
    text = str(value or "").strip()
    if not text or len(text) > _MOMENT_MAX_LENGTH:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if (parsed.tzinfo is None and not naive) or not moment_in_range(parsed):
        return None
    return parsed


def parse_local_url(value: Any) -> str | None:
    """A place on this site to go back to (`/path?query`), else None.

    Never another host (`//evil`, `/\\evil`, `https://…`), and never a bare word, which
    Django's `redirect()` would try to reverse as a view name (a 500 when it is none).
    """
    text = str(value or "").strip()
    if not text.startswith("/") or text.startswith(("//", "/\\")):
        return None
    return text if url_has_allowed_host_and_scheme(text, allowed_hosts=None) else None


def check_day(value: date, *, field: str | None = None) -> date:
    """`value` unchanged, or a DomainError `out_of_range` for services and schemas."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise DomainError(
            OUT_OF_RANGE,
            _("Dates must lie between %(first)s and %(last)s.")
            % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            details={"field": field} if field else None,
        )
    return value


def check_moment(value: datetime, *, field: str | None = None) -> datetime:
    """`value` unchanged, or a DomainError `out_of_range`."""
    if not moment_in_range(value):
        raise DomainError(
            OUT_OF_RANGE,
            _("Times must lie between %(first)s and %(last)s.")
            % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            details={"field": field} if field else None,
        )
    return value
