"""Schemas shared by every router: the error envelope, text fields (paging: pagination.py)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Form, Schema

from ztk.core.text import MULTILINE_PATTERN, MULTILINE_RE, SINGLE_LINE_PATTERN, SINGLE_LINE_RE


def Text(default: Any = ..., *, max_length: int, min_length: int | None = None, **kw: Any) -> Any:  # noqa: N802
    """A single-line text field that passes core.text (no control characters, no NUL, no
    bidirectional override): validated with core.text's rule, documented with its pattern."""
    return _text_field(default, SINGLE_LINE_RE, SINGLE_LINE_PATTERN, max_length, min_length, kw)


def Multiline(
    default: Any = ..., *, max_length: int, min_length: int | None = None, **kw: Any
) -> Any:  # noqa: N802
    """Like `Text`, for free text that may span lines (tab, CR and LF allowed)."""
    return _text_field(default, MULTILINE_RE, MULTILINE_PATTERN, max_length, min_length, kw)


def MultilineForm(*, max_length: int, **kw: Any) -> Any:  # noqa: N802
    """A multipart form field held to core.text's multi-line rule (e.g. a JSON payload)."""
    param = Form(..., max_length=max_length, pattern=MULTILINE_RE, **kw)
    # ninja builds the parameter's schema extras itself: document the pattern afterwards.
    param.json_schema_extra = {**(param.json_schema_extra or {}), "pattern": MULTILINE_PATTERN}
    return param


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


# A code of the organisation (department, attendance group): one format wherever it is asked.
CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,32}$"
PERIOD_PATTERN = r"^\d{4}-\d{2}$"


def Period(default: Any = ..., *, note: str = "") -> Any:  # noqa: N802
    """The one `period` parameter: YYYY-MM, the attendance period that starts in that month."""
    return Field(
        default,
        pattern=PERIOD_PATTERN,
        description="YYYY-MM: the attendance period that starts in this month (the "
        "company's period start day)" + note,
        examples=["2026-10"],
    )


class ErrorOut(Schema):
    """Every error: `{code, message, details?}`."""

    code: str = Field(..., description="Stable machine code, e.g. `unknown_department`.")
    message: str = Field(..., description="Human message in the request's language.")
    details: Any = Field(
        None, description="Optional specifics, e.g. the invalid fields of a validation error."
    )
