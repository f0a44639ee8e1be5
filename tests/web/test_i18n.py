"""One catalogue, complete and compiled: no untranslated or fuzzy entry, .mo in sync.

ztk/locale (settings.LOCALE_PATHS) is the project's only catalogue. A `locale` folder inside an
app (ztk/api/locale, ...) would make makemessages move that app's strings into it, away from
the catalogue that is translated and checked here, so such a folder fails this module.

When this fails after new strings were added: run scripts/messages.sh, translate the new
entries of ztk/locale/zh_Hans/LC_MESSAGES/django.po, and run it again to compile.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ztk"
LOCALE = PACKAGE / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
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


def stale_messages(po: Path) -> list[str]:
    """Entries whose translation in the committed .mo differs from the .po (or is missing)."""
    with open(po.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001

    stale = []
    for entry in parse_po(po)[1:]:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.translations[0]:
            continue  # msgfmt leaves these out; English shows the msgid itself
        if "msgid_plural" in entry.fields:
            found = compiled.get((entry.key, 0))
        else:
            found = compiled.get(entry.key)
        if found != entry.translations[0]:
            stale.append(entry.key)
    return stale


def test_compiled_catalogue_matches_the_po(zh_entries):
    """The app reads the committed .mo; a .po edited but not compiled would not show."""
    assert zh_entries, "the Chinese catalogue has entries"
    assert stale_messages(ZH_PO) == [], (
        "ztk/locale/zh_Hans django.mo is out of date: run scripts/messages.sh"
    )
    assert stale_messages(EN_PO) == [], (
        "ztk/locale/en django.mo is out of date: run scripts/messages.sh"
    )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) not installed")
@pytest.mark.parametrize("po", [ZH_PO, EN_PO], ids=["zh_Hans", "en"])
def test_catalogue_passes_msgfmt_check(po, tmp_path):
    """msgfmt --check: header, plural forms and python-format placeholders are consistent."""
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


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
        "Team": "团队考勤",
        "Added by HR": "人事补录",
        "Approvals oversight": "审批监控",
        "Personal attendance sheet": "个人考勤表",
        "Monthly attendance report": "月度考勤报表",
        "Pending approval": "待审批",
    }
    by_msgid = {e.key: e.translations[0] for e in zh_entries}

    assert {k: by_msgid.get(k) for k in agreed} == agreed


def test_english_catalogue_exists_and_is_compiled():
    assert (LOCALE / "en" / "LC_MESSAGES" / "django.po").exists()
    assert (LOCALE / "en" / "LC_MESSAGES" / "django.mo").exists()


def test_ztk_locale_is_the_only_catalogue():
    """No app keeps a catalogue of its own: every string is translated in ztk/locale."""
    from django.conf import settings

    assert [Path(p).resolve() for p in settings.LOCALE_PATHS] == [LOCALE.resolve()]
    stray = sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("locale")
        if path.is_dir() and path != LOCALE and LOCALE not in path.parents
    )

    assert stray == [], (
        "app-level locale folders found: move their translations into "
        "ztk/locale/zh_Hans/LC_MESSAGES/django.po, then git rm them"
    )
