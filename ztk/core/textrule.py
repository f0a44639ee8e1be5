"""The character rule itself, pure (no Django): what may not appear in text that crosses an
input boundary. `ztk.core.text` wraps it for forms, services and the API; the terminal
protocol parser (a pure core) uses it directly. The reasons are in `ztk.core.text`."""

from __future__ import annotations

import re

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
