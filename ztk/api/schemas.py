"""Schemas shared by every router: the error envelope, text fields, paging."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

# Control characters (NUL above all: PostgreSQL refuses it in text) are never valid
# in the API's text fields; saying so in the schema lets clients and fuzzers know.
NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]*$"
MAX_OFFSET = 1_000_000_000


def Text(default: Any = ..., *, max_length: int, min_length: int | None = None, **kw: Any) -> Any:  # noqa: N802
    """A single-line text field without control characters."""
    return Field(
        default, min_length=min_length, max_length=max_length, pattern=NO_CONTROL_CHARS, **kw
    )


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
