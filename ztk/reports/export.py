"""XLSX and CSV files of the monthly report, with Chinese or English headers.

- XLSX (``ztk.core.xlsx``, which writes each row's XML directly: openpyxl's cell objects
  made the 10,000-employee summary take 4–18 s): sheets 月度汇总 / 部门汇总 / 每日明细
  (Monthly summary / Departments / Daily detail in English), a bold header row that stays
  frozen, column widths, and number formats on figure cells (whole numbers, days with one
  decimal, hours with two).
- CSV: UTF-8 with a byte-order mark so Excel opens the Chinese text correctly; one table
  per file (the summary, the department totals or the detail).
- Every text cell of both goes through ``ztk.core.spreadsheets.safe_cell``: a name or a
  remark starting with ``=``, ``+``, ``-`` or ``@`` is written as text, never as a formula.

Columns and headers come from ``columns.py``; nothing here computes a figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from ztk.core import spreadsheets, xlsx
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

HEADER_FILL = "DDEBF7"
HEADER_STYLE = xlsx.Style(bold=True, fill=HEADER_FILL, centered=True)


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


def _row_style(book: xlsx.Book, columns: Sequence[C.Column], bold: bool = False) -> xlsx.RowStyle:
    """Each column's number format (whole numbers and text: General), bold for a total."""
    return book.row_style(
        (xlsx.Style(number_format=c.number_format or "General", bold=bold) for c in columns),
        keep_empty=bold,
    )


def _sheet(
    book: xlsx.Book,
    title: str,
    columns: Sequence[C.Column],
    rows: Iterable[HasValue],
    lang: str,
    *,
    total: HasValue | None = None,
) -> None:
    """A sheet: the bold, filled header row (frozen, printed on every page), one row per
    item with the columns' number formats, and the total (if any) in bold."""
    ws = book.sheet(title, [c.width for c in columns])
    ws.freeze_header = ws.print_header = True
    ws.append(
        [safe_cell(c.label(lang)) for c in columns],
        book.row_style([HEADER_STYLE] * len(columns), keep_empty=True),
    )
    keys = [c.key for c in columns]
    style = _row_style(book, columns)
    append = ws.append
    for row in rows:
        value = row.value
        append(safe_row([value(k) for k in keys]), style)
    if total is not None:
        ws.append(safe_row([total.value(k) for k in keys]), _row_style(book, columns, bold=True))


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
    book = xlsx.Book()
    _sheet(book, sheet_name("summary", lang), columns.summary, summaries, lang)
    _sheet(
        book,
        sheet_name("departments", lang),
        columns.departments,
        departments,
        lang,
        total=grand_total,
    )
    if detail is not None:
        columns = C.detail_columns(max_segments(detail))
        _sheet(book, sheet_name("detail", lang), columns, detail, lang)
    return book.save()


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
