"""Schemas shared by every router: the error envelope, text fields, paging."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator

from ztk.core.parse import FIRST_DAY, LAST_DAY, moment_in_range
from ztk.core.text import MULTILINE_PATTERN, MULTILINE_RE, SINGLE_LINE_PATTERN, SINGLE_LINE_RE

MAX_OFFSET = 1_000_000_000


def Text(default: Any = ..., *, max_length: int, min_length: int | None = None, **kw: Any) -> Any:  # noqa: N802
    """A single-line text field that passes core.text (no control characters, no NUL, no
    bidirectional override): validated with core.text's rule, documented with its pattern."""
    return _text_field(default, SINGLE_LINE_RE, SINGLE_LINE_PATTERN, max_length, min_length, kw)


def Multiline(
    default: Any = ..., *, max_length: int, min_length: int | None = None, **kw: Any
) -> Any:  # noqa: N802
    """Like `Text`, for free text that may span lines (tab, CR and LF allowed)."""
    return _text_field(default, MULTILINE_RE, MULTILINE_PATTERN, max_length, min_length, kw)


def _text_field(default, compiled, documented, max_length, min_length, kw) -> Any:
    # The compiled pattern validates (Python's `re`, exactly core.text's rule); the schema
    # shows the portable text of the same pattern for clients and fuzzers.
    return Field(
        default,
        min_length=min_length,
        max_length=max_length,
        pattern=compiled,
        json_schema_extra={"pattern": documented},
        **kw,
    )


def _day_in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"the date must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


def _moment_in_range(value: datetime) -> datetime:
    if not moment_in_range(value):
        raise ValueError(f"the time must lie between {FIRST_DAY} and {LAST_DAY} (in UTC)")
    return value


# Dates and times the application can compute with (core.parse's calendar): year 1 or
# 9999 parse, but overflow when shifted by a day or converted to UTC.
Day = Annotated[date, AfterValidator(_day_in_range)]
Moment = Annotated[datetime, AfterValidator(_moment_in_range)]


class ErrorOut(Schema):
    """Every error: `{code, message, details?}`."""

    code: str = Field(..., description="Stable machine code, e.g. `unknown_department`.")
    message: str = Field(..., description="Human message in the request's language.")
    details: Any = Field(
        None, description="Optional specifics, e.g. the invalid fields of a validation error."
    )


class PageParams(Schema):
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")
    limit: int = Field(100, ge=1, le=1000, description="Items to return (at most 1000).")
