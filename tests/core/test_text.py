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
    clean_text,
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
