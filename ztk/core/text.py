"""The one rule for text that crosses an input boundary (forms, filters, API, terminals, files).

Why one owner: PostgreSQL refuses NUL in text (a 500 and a rolled-back batch), lone
surrogates cannot be encoded as UTF-8, and bidirectional overrides let a name or a reason
display as something else than what was stored. Every boundary calls `text_problem` (or a
wrapper below) instead of writing its own pattern.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .errors import DomainError

INVALID_TEXT = "invalid_text"

# Line breaks and tabs are allowed only where a field may span lines.
_MULTILINE_ALLOWED = frozenset("\t\n\r")
# Explicit bidirectional embeddings, overrides and isolates (Trojan Source, RTL spoofing).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# A regular expression with the same meaning, for schemas (OpenAPI `pattern`) and clients.
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]*$"
MULTILINE_PATTERN = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]*$"
)


def text_problem(value: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The position and code point (`U+0000`) of the first forbidden character, or None.

    Forbidden: C0 and C1 control characters and DEL (tab, LF and CR only when `multiline`),
    lone surrogates, bidirectional overrides/isolates and the non-characters U+FFFE/U+FFFF.
    """
    for position, char in enumerate(value):
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            if multiline and char in _MULTILINE_ALLOWED:
                continue
        elif not (0xD800 <= code <= 0xDFFF or char in _BIDI_CONTROLS or code in (0xFFFE, 0xFFFF)):
            continue
        return position, f"U+{code:04X}"
    return None


def is_clean_text(value: str, *, multiline: bool = False) -> bool:
    return text_problem(value, multiline=multiline) is None


def problem_message(field: str | None, position: int, code_point: str) -> str:
    if field:
        return str(
            _("%(field)s contains a character that is not allowed (%(char)s at position %(pos)d).")
            % {"field": field, "char": code_point, "pos": position + 1}
        )
    return str(
        _("The text contains a character that is not allowed (%(char)s at position %(pos)d).")
        % {"char": code_point, "pos": position + 1}
    )


def clean_text(
    value: Any,
    *,
    field: str | None = None,
    multiline: bool = False,
    max_length: int | None = None,
) -> str:
    """`value` as a stripped string, or a DomainError `invalid_text` naming the character.

    For services and parsers (the API maps DomainError to 422 with the code).
    """
    text = "" if value is None else str(value)
    problem = text_problem(text, multiline=multiline)
    if problem is not None:
        position, code_point = problem
        raise DomainError(
            INVALID_TEXT,
            problem_message(field, position, code_point),
            details={"field": field, "position": position + 1, "character": code_point},
        )
    text = text.strip()
    if max_length is not None and len(text) > max_length:
        raise DomainError(
            "text_too_long",
            _("%(field)s is longer than %(max)d characters.")
            % {"field": field or _("The text"), "max": max_length},
            details={"field": field, "max_length": max_length},
        )
    return text


def escape_forbidden(value: str, *, multiline: bool = False) -> str:
    """`value` with every forbidden character written as an escape (`\\x00`, `\\u202e`).

    For keeping refused input where someone will read it (a terminal's log line): the
    evidence stays visible and the stored text obeys the same rule as everything else.
    """
    parts: list[str] = []
    rest = value
    while (problem := text_problem(rest, multiline=multiline)) is not None:
        position = problem[0]
        code = ord(rest[position])
        parts.append(rest[:position])
        parts.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        rest = rest[position + 1 :]
    parts.append(rest)
    return "".join(parts)


def validate_single_line(value: Any) -> None:
    """Django form/model validator: one line, no forbidden characters."""
    _validate(value, multiline=False)


def validate_multiline(value: Any) -> None:
    """Django form/model validator: free text that may span lines."""
    _validate(value, multiline=True)


def _validate(value: Any, *, multiline: bool) -> None:
    if value is None:
        return
    problem = text_problem(str(value), multiline=multiline)
    if problem is not None:
        position, code_point = problem
        raise ValidationError(problem_message(None, position, code_point), code=INVALID_TEXT)
