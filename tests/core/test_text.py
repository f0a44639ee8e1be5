"""The shared input-boundary rule for text (ztk/core/text.py)."""

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from ztk.core.errors import DomainError
from ztk.core.text import (
    MULTILINE_PATTERN,
    SINGLE_LINE_PATTERN,
    add_text_validators,
    clean_text,
    text_errors,
    text_problem,
    validate_multiline,
    validate_single_line,
)


@pytest.mark.parametrize(
    ("text", "multiline", "expected"),
    [
        ("忘记打卡 ok", False, None),
        ("a\x00b", False, (1, "U+0000")),
        ("a\x00b", True, (1, "U+0000")),
        ("line one\nline two\ttab\r\n", True, None),
        ("line one\nline two", False, (8, "U+000A")),
        ("x\x7f", True, (1, "U+007F")),
        ("x\x85", True, (1, "U+0085")),
        ("abc\u202egnp.exe", False, (3, "U+202E")),
        ("\u2066isolate", True, (0, "U+2066")),
        ("lone \ud800 surrogate", True, (5, "U+D800")),
        ("\ufffe", False, (0, "U+FFFE")),
        ("emoji 😀 and 中文 are fine", False, None),
    ],
)
def test_text_problem_names_the_first_forbidden_character(text, multiline, expected):
    assert text_problem(text, multiline=multiline) == expected


def test_clean_text_refuses_with_a_specific_code_and_strips_otherwise():
    with pytest.raises(DomainError) as caught:
        clean_text("bad\x00", field="remark")
    assert caught.value.code == "invalid_text"
    assert caught.value.details == {"field": "remark", "position": 4, "character": "U+0000"}
    assert clean_text("  fine  ", field="remark") == "fine"
    with pytest.raises(DomainError) as too_long:
        clean_text("x" * 11, field="remark", max_length=10)
    assert too_long.value.code == "text_too_long"


def test_form_validators_raise_validation_error():
    with pytest.raises(ValidationError):
        validate_single_line("a\x00")
    with pytest.raises(ValidationError):
        validate_multiline("a\u202e")
    validate_multiline("two\nlines")


@given(st.text())
def test_patterns_agree_with_the_function(text):
    assert (re.fullmatch(SINGLE_LINE_PATTERN, text) is not None) == (
        text_problem(text, multiline=False) is None
    )
    assert (re.fullmatch(MULTILINE_PATTERN, text) is not None) == (
        text_problem(text, multiline=True) is None
    )


BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _forbidden(char: str, multiline: bool) -> bool:
    """The rule as written in core.text's docstring, independently of its code."""
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return not (multiline and char in "\t\n\r")
    return 0xD800 <= code <= 0xDFFF or char in BIDI or code in (0xFFFE, 0xFFFF)


@given(st.text(), st.booleans())
def test_text_problem_is_the_first_forbidden_character(text, multiline):
    expected = next(
        ((i, f"U+{ord(c):04X}") for i, c in enumerate(text) if _forbidden(c, multiline)), None
    )
    assert text_problem(text, multiline=multiline) == expected


def test_a_final_line_break_is_not_a_single_line():
    """Python's `$` also matches before a final line break: the rule does not."""
    assert text_problem("name\n") == (4, "U+000A")
    assert re.fullmatch(SINGLE_LINE_PATTERN, "name\n") is None


def test_text_errors_names_each_field_in_the_words_people_see():
    from django.utils import translation

    with translation.override("en"):
        errors = text_errors(
            {"reason": "two\nlines", "name": "x\u202ey", "ok": "fine"},
            labels={"reason": "Reason", "name": "Name"},
            multiline=("reason",),
        )
    assert list(errors) == ["name"]
    assert errors["name"].startswith("Name contains a character that is not allowed (U+202E")


def test_form_fields_get_the_rule_their_widget_asks_for():
    from django import forms

    class F(forms.Form):
        name = forms.CharField()
        note = forms.CharField(widget=forms.Textarea)
        count = forms.IntegerField()

    add_text_validators(F.base_fields)
    form = F({"name": "a\nb", "note": "a\nb", "count": "1"})
    assert not form.is_valid()
    assert list(form.errors) == ["name"]
    assert F({"name": "ab", "note": "a\u202eb", "count": "1"}).errors.keys() == {"note"}
