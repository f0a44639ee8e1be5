"""The Chinese catalogue is complete and compiled: no untranslated or fuzzy entry, .mo in sync.

When this fails after new strings were added: run scripts/messages.sh, translate the new
entries of ztk/locale/zh_Hans/LC_MESSAGES/django.po, and run it again to compile.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "ztk" / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')


@dataclass
class Entry:
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)
    obsolete: bool = False

    @property
    def key(self) -> str:
        ctx = self.fields.get("msgctxt")
        return self.fields["msgid"] if ctx is None else f"{ctx}\x04{self.fields['msgid']}"

    @property
    def translations(self) -> list[str]:
        return [v for k, v in sorted(self.fields.items()) if k.startswith("msgstr")]


def parse_po(path: Path) -> list[Entry]:
    """Enough of the PO format for Django's catalogues: flags, fields, continuation lines."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, current = Entry(), None
        for line in block.strip().splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif match := FIELD.match(line):
                current = match.group(1)
                entry.fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                entry.fields[current] += ast.literal_eval(line)
        if "msgid" in entry.fields:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def zh_entries() -> list[Entry]:
    entries = parse_po(ZH_PO)
    assert entries[0].fields["msgid"] == "", "the catalogue starts with its header"
    return entries[1:]


def test_catalogue_header_is_not_fuzzy_and_has_chinese_plural_rule():
    header = parse_po(ZH_PO)[0]

    assert "fuzzy" not in header.flags
    assert "Plural-Forms: nplurals=1; plural=0;" in header.fields["msgstr"]
    assert "Language: zh_Hans" in header.fields["msgstr"]


def test_every_chinese_entry_is_translated_and_not_fuzzy(zh_entries):
    fuzzy = [e.key for e in zh_entries if "fuzzy" in e.flags]
    untranslated = [e.key for e in zh_entries if not all(t.strip() for t in e.translations)]

    assert fuzzy == [], f"fuzzy entries in {ZH_PO}"
    assert untranslated == [], f"untranslated entries in {ZH_PO}"
    assert not any(e.obsolete for e in zh_entries), "obsolete entries: run scripts/messages.sh"


def test_placeholders_survive_translation(zh_entries):
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    wrong = [
        e.key
        for e in zh_entries
        for t in e.translations
        if sorted(placeholder.findall(t))
        != sorted(placeholder.findall(e.fields.get("msgid_plural", e.fields["msgid"])))
    ]

    assert wrong == []


def test_compiled_catalogue_matches_the_po(zh_entries):
    """The app reads the committed .mo; a .po edited but not compiled would not show."""
    with open(ZH_PO.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001

    stale = []
    for entry in zh_entries:
        if "msgid_plural" in entry.fields:
            found = compiled.get((entry.key, 0))
        else:
            found = compiled.get(entry.key)
        if found != entry.translations[0]:
            stale.append(entry.key)

    assert stale == [], "ztk/locale/zh_Hans django.mo is out of date: run scripts/messages.sh"


def test_key_terms_use_the_agreed_chinese(zh_entries):
    agreed = {
        "employee number": "工号",
        "attendance group": "考勤组",
        "department head": "部门负责人",
        "My attendance": "我的考勤",
        "Approvals": "审批",
        "HR": "人事管理",
        "Reports": "报表",
        "Audit": "审计",
        "Settings": "系统设置",
    }
    by_msgid = {e.key: e.translations[0] for e in zh_entries}

    assert {k: by_msgid.get(k) for k in agreed} == agreed


def test_english_catalogue_exists_and_is_compiled():
    assert (LOCALE / "en" / "LC_MESSAGES" / "django.po").exists()
    assert (LOCALE / "en" / "LC_MESSAGES" / "django.mo").exists()
