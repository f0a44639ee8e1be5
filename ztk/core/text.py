"""The one rule for text that crosses an input boundary (forms, filters, API, terminals, files).

Why one owner: PostgreSQL refuses NUL in text (a 500 and a rolled-back batch), lone
surrogates cannot be encoded as UTF-8, and bidirectional overrides let a name or a reason
display as something else than what was stored. Every boundary calls `text_problem` (or a
wrapper below) instead of writing its own pattern.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .errors import DomainError

# The rule lives in the pure module; these names are part of this module's interface.
from .textrule import (  # noqa: F401 - re-exported
    INVALID_TEXT,
    MULTILINE_PATTERN,
    MULTILINE_RE,
    SINGLE_LINE_PATTERN,
    SINGLE_LINE_RE,
    escape_forbidden,
    is_clean_text,
    text_problem,
)


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
