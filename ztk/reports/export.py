"""XLSX and CSV files of the monthly report, with Chinese or English headers.

- XLSX (openpyxl, write-only mode so 10,000 rows stream out without building a sheet in
  memory): sheets 月度汇总 / 部门汇总 / 每日明细 (Monthly summary / Departments / Daily
  detail in English), a bold header row that stays frozen, column widths, and number
  formats on figure cells (whole numbers, days with one decimal, hours with two).
- CSV: UTF-8 with a byte-order mark so Excel opens the Chinese text correctly; one table
  per file (the summary, the department totals or the detail).
- Every text cell of both goes through ``ztk.core.spreadsheets.safe_cell``: a name or a
  remark starting with ``=``, ``+``, ``-`` or ``@`` is written as text, never as a formula.

Columns and headers come from ``columns.py``; nothing here computes a figure.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ztk.core import spreadsheets
from ztk.core.spreadsheets import safe_cell, safe_row

from . import columns as C
from .summary import (
    DepartmentTotal,
    DetailRow,
    EmployeeSummary,
    columns_of,
    max_segments,
    period_label,
)

XLSX_CONTENT_TYPE = spreadsheets.XLSX_CONTENT_TYPE
CSV_CONTENT_TYPE = spreadsheets.CSV_CONTENT_TYPE

SHEET_NAMES = {
    "summary": ("月度汇总", "Monthly summary"),
    "departments": ("部门汇总", "Departments"),
    "detail": ("每日明细", "Daily detail"),
}
CSV_TABLES = ("summary", "departments", "detail")

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
TOTAL_FONT = Font(bold=True)


class HasValue(Protocol):
    def value(self, key: str) -> Any: ...


def sheet_name(table: str, lang: str) -> str:
    return C.pick(SHEET_NAMES[table], C.normalise_lang(lang))


def file_name(period_start: date, table: str, lang: str, extension: str) -> str:
    """ASCII file names (attendance-2026-10-summary.xlsx): safe in every browser and mailer."""
    suffix = "" if table == "report" else f"-{table}"
    return f"attendance-{period_label(period_start)}{suffix}-{lang_tag(lang)}.{extension}"


def lang_tag(lang: str) -> str:
    return "en" if C.normalise_lang(lang) == C.EN else "zh"


# --- XLSX ----------------------------------------------------------------------------------


def _styled_row_writer(ws, columns: Sequence[C.Column], bold: bool = False):
    """A function turning values into a row with the columns' number formats."""
    formats = [c.number_format for c in columns]
    plain = not bold and not any(formats)

    def make(values: Sequence[Any]) -> list[Any]:
        if plain:
            return safe_row(values)
        row: list[Any] = []
        for value, fmt in zip(safe_row(values), formats, strict=True):
            if not bold and (fmt is None or value is None or value == ""):
                row.append(value)
                continue
            cell = WriteOnlyCell(ws, value=value)
            if fmt is not None and value not in (None, ""):
                cell.number_format = fmt
            if bold:
                cell.font = TOTAL_FONT
            row.append(cell)
        return row

    return make


def _sheet(
    wb: Workbook,
    title: str,
    columns: Sequence[C.Column],
    rows: Iterable[HasValue],
    lang: str,
    *,
    total: HasValue | None = None,
) -> None:
    ws = wb.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=safe_cell(column.label(lang)))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGN
        header.append(cell)
    ws.append(header)
    keys = [c.key for c in columns]
    make = _styled_row_writer(ws, columns)
    for row in rows:
        ws.append(make([row.value(k) for k in keys]))
    if total is not None:
        ws.append(_styled_row_writer(ws, columns, bold=True)([total.value(k) for k in keys]))


def xlsx_report(
    *,
    summaries: Sequence[EmployeeSummary],
    departments: Sequence[DepartmentTotal],
    grand_total: DepartmentTotal,
    detail: Sequence[DetailRow] | None = None,
    lang: str = C.ZH,
    columns: C.ReportColumns | None = None,
) -> bytes:
    """The monthly report as an XLSX file: summary, department totals and (if given) detail.

    The summary sheet ends with no total row (one row per employee, for machines); the
    department sheet ends with the grand total in bold. ``columns``: the report's (default:
    those of the ``monthly_summary`` result given).
    """
    lang = C.normalise_lang(lang)
    columns = columns or columns_of(summaries)
    wb = Workbook(write_only=True)
    _sheet(wb, sheet_name("summary", lang), columns.summary, summaries, lang)
    _sheet(
        wb,
        sheet_name("departments", lang),
        columns.departments,
        departments,
        lang,
        total=grand_total,
    )
    if detail is not None:
        columns = C.detail_columns(max_segments(detail))
        _sheet(wb, sheet_name("detail", lang), columns, detail, lang)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- CSV -----------------------------------------------------------------------------------


def csv_table(
    columns: Sequence[C.Column],
    rows: Iterable[HasValue],
    lang: str = C.ZH,
    *,
    total: HasValue | None = None,
) -> bytes:
    """One table as CSV: UTF-8 with BOM, CRLF line ends (RFC 4180, what Excel writes)."""
    lang = C.normalise_lang(lang)
    keys = [c.key for c in columns]
    body = ([row.value(k) for k in keys] for row in rows)
    tail = [[total.value(k) for k in keys]] if total is not None else []
    return spreadsheets.csv_bytes(itertools.chain([[c.label(lang) for c in columns]], body, tail))


def csv_summary(
    summaries: Sequence[EmployeeSummary],
    lang: str = C.ZH,
    columns: C.ReportColumns | None = None,
) -> bytes:
    return csv_table((columns or columns_of(summaries)).summary, summaries, lang)


def csv_departments(
    departments: Sequence[DepartmentTotal],
    grand_total: DepartmentTotal,
    lang: str = C.ZH,
    columns: C.ReportColumns | None = None,
) -> bytes:
    """The department totals; ``columns``: the report's (default: no leave type's column)."""
    columns = columns or C.ReportColumns()
    return csv_table(columns.departments, departments, lang, total=grand_total)


def csv_detail(detail: Sequence[DetailRow], lang: str = C.ZH) -> bytes:
    return csv_table(C.detail_columns(max_segments(detail)), detail, lang)
