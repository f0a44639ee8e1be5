"""The one rule for text that crosses an input boundary (forms, filters, API, terminals, files).

Why one owner: PostgreSQL refuses NUL in text (a 500 and a rolled-back batch), lone
surrogates cannot be encoded as UTF-8, and bidirectional overrides let a name or a reason
display as something else than what was stored. Every boundary calls `text_problem` (or a
wrapper below) instead of writing its own pattern.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from django import forms
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
# The same rule for Python's `re`, anchored with `\Z` (its `$` also matches before a final
# line break). Schemas validate with these: pydantic's default (Rust) engine cannot express
# the surrogate range, and a compiled pattern makes it use `re`.
SINGLE_LINE_RE = re.compile(SINGLE_LINE_PATTERN.removesuffix("$") + r"\Z")
MULTILINE_RE = re.compile(MULTILINE_PATTERN.removesuffix("$") + r"\Z")


def text_problem(value: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The position and code point (`U+0000`) of the first forbidden character, or None.

    Forbidden: C0 and C1 control characters and DEL (tab, LF and CR only when `multiline`),
    lone surrogates, bidirectional overrides/isolates and the non-characters U+FFFE/U+FFFF.
    """
    if (MULTILINE_RE if multiline else SINGLE_LINE_RE).match(value):
        return None  # the common case, at C speed; the loop below only names the culprit
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


def problem_message(field: Any, position: int, code_point: str) -> str:
    """The refusal in the active language; `field` is the name people see, if any."""
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
    label: Any = None,
    multiline: bool = False,
    max_length: int | None = None,
) -> str:
    """`value` as a stripped string, or a DomainError `invalid_text` naming the character.

    For services and parsers (the API maps DomainError to 422 with the code). `field` is
    the stable name put in the error's details, `label` the name shown to people (by
    default `field`).
    """
    text = "" if value is None else str(value)
    problem = text_problem(text, multiline=multiline)
    if problem is not None:
        position, code_point = problem
        raise DomainError(
            INVALID_TEXT,
            problem_message(label or field, position, code_point),
            details={"field": field, "position": position + 1, "character": code_point},
        )
    text = text.strip()
    if max_length is not None and len(text) > max_length:
        raise DomainError(
            "text_too_long",
            _("%(field)s is longer than %(max)d characters.")
            % {"field": label or field or _("The text"), "max": max_length},
            details={"field": field, "max_length": max_length},
        )
    return text


def text_errors(
    values: Mapping[str, Any],
    *,
    labels: Mapping[str, Any],
    multiline: Collection[str] = (),
) -> dict[str, str]:
    """`{field: message}` for each of `values` that carries a forbidden character.

    For views that read a hand-written form field by field: they show each message next to
    its field and re-render what was typed. `labels` names the fields as people see them.
    """
    found: dict[str, str] = {}
    for name, value in values.items():
        problem = text_problem("" if value is None else str(value), multiline=name in multiline)
        if problem is not None:
            found[name] = problem_message(labels.get(name, name), *problem)
    return found


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


def add_text_validators(fields: Mapping[str, forms.Field]) -> None:
    """Give every text field of a Django form the rule: multi-line when its widget is a
    textarea, single-line otherwise. For ModelForms and the admin, whose fields come from
    the models; a refused value is an error next to its field, the form keeps the rest."""
    for field in fields.values():
        if isinstance(field, forms.CharField):
            multiline = isinstance(field.widget, forms.Textarea)
            validator = validate_multiline if multiline else validate_single_line
            if validator not in field.validators:
                field.validators.append(validator)


def _validate(value: Any, *, multiline: bool) -> None:
    if value is None:
        return
    problem = text_problem(str(value), multiline=multiline)
    if problem is not None:
        position, code_point = problem
        raise ValidationError(problem_message(None, position, code_point), code=INVALID_TEXT)
