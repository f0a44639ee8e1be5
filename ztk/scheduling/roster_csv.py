"""The roster as a spreadsheet: one row per employee, one column per date.

```csv
employee_no,name,2026-12-01,2026-12-02,…
1002,张三,D9,休,…
```

A cell holds a shift code, 休 (or ``rest``) for a rest day rostered over the pattern, or
nothing: the date follows the weekly pattern (an existing roster entry is removed). The
export writes only roster entries, so a file exported, edited and imported again changes
exactly the cells that were edited. The name column is for people and is not read.
Files are read by ``ztk.core.spreadsheets.read_table`` (CSV or XLSX, the one set of limits).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from ztk.core.parse import parse_day
from ztk.core.spreadsheets import csv_bytes, read_table
from ztk.org.models import Employee

from .models import PATTERN, REST, Shift
from .selectors import GridRow
from .services import RosterCell

MAX_ROWS = 2000
MAX_DAYS = 62
REST_MARKS = (REST, "rest")  # "rest" unless a shift has that code
NUMBER_HEADERS = ("employee_no", "工号")
NAME_HEADERS = ("name", "姓名")


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": str(self.message)}


@dataclass
class ParsedRoster:
    cells: list[RosterCell] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the file line of each cell
    errors: list[LineError] = field(default_factory=list)
    employees: dict[int, Employee] = field(default_factory=dict)
    days: list[date] = field(default_factory=list)


def export_rows(rows: Sequence[GridRow], days: Sequence[date]) -> list[list[Any]]:
    table: list[list[Any]] = [["employee_no", "name", *[d.isoformat() for d in days]]]
    for row in rows:
        values = {cell.day: cell.value for cell in row.cells}
        table.append(
            [
                row.employee.employee_no,
                row.employee.name,
                *[values.get(d, PATTERN) for d in days],
            ]
        )
    return table


def export_csv(rows: Sequence[GridRow], days: Sequence[date]) -> bytes:
    return csv_bytes(export_rows(rows, days))


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()


def parse(data: bytes, *, filename: str = "") -> ParsedRoster:
    """The cells of a roster file and every line's errors (DomainError for a file that
    cannot be read at all). Nothing is written here: ``services.roster_apply`` does."""
    table = read_table(data, max_rows=MAX_ROWS, filename=filename)
    result = ParsedRoster()
    if not table:
        result.errors.append(LineError(1, _("The file has no header row.")))
        return result
    header_line, header = table[0]
    number_column = None
    columns: list[tuple[int, date]] = []
    for index, cell in enumerate(header):
        text = _text(cell)
        if text.lower() in NUMBER_HEADERS:
            number_column = index
        elif text.lower() in NAME_HEADERS or not text:
            continue
        elif (day := parse_day(text)) is not None:
            if day in {d for _i, d in columns}:
                result.errors.append(
                    LineError(header_line, _("The date %(day)s is listed twice.") % {"day": text})
                )
            columns.append((index, day))
        else:
            result.errors.append(
                LineError(
                    header_line,
                    _("“%(text)s” is neither employee_no, name nor a date (YYYY-MM-DD).")
                    % {"text": text[:40]},
                )
            )
    if number_column is None:
        result.errors.append(LineError(header_line, _("The header has no employee_no column.")))
    if not columns:
        result.errors.append(LineError(header_line, _("The header has no date column.")))
    elif len(columns) > MAX_DAYS:
        result.errors.append(
            LineError(header_line, _("At most %(n)d date columns.") % {"n": MAX_DAYS})
        )
    if result.errors:
        return result
    assert number_column is not None
    result.days = sorted(d for _i, d in columns)
    body = table[1:]
    numbers = {_text(cells[number_column]) for _line, cells in body if number_column < len(cells)}
    people = {e.employee_no: e for e in Employee.objects.filter(employee_no__in=numbers)}
    codes = {
        _text(cells[i])
        for _line, cells in body
        for i, _d in columns
        if i < len(cells) and _text(cells[i])
    }
    shifts = {s.code: s for s in Shift.objects.filter(code__in=codes)}
    seen: dict[str, int] = {}
    for line, cells in body:
        number = _text(cells[number_column]) if number_column < len(cells) else ""
        employee = people.get(number)
        if employee is None:
            message = (
                _("No employee number.")
                if not number
                else _("No employee with number “%(no)s”.") % {"no": number[:24]}
            )
            result.errors.append(LineError(line, message))
            continue
        if number in seen:
            result.errors.append(
                LineError(
                    line,
                    _("Employee %(no)s is listed twice (also line %(line)d).")
                    % {"no": number, "line": seen[number]},
                )
            )
            continue
        seen[number] = line
        result.employees[employee.pk] = employee
        for index, day in columns:
            text = _text(cells[index]) if index < len(cells) else ""
            if not text:
                cell = RosterCell(employee.pk, day, clear=True)
            elif text in shifts:
                cell = RosterCell(employee.pk, day, shift=shifts[text])
            elif text.lower() in REST_MARKS:
                cell = RosterCell(employee.pk, day, shift=None)
            else:
                result.errors.append(
                    LineError(
                        line,
                        _("%(day)s: no shift with code “%(code)s”.")
                        % {"day": day.isoformat(), "code": text[:40]},
                    )
                )
                continue
            result.cells.append(cell)
            result.lines.append(line)
    return result


def line_errors(parsed: ParsedRoster, details: Iterable[dict[str, Any]]) -> list[LineError]:
    """The service's per-cell refusals (``index`` into ``parsed.cells``) as line errors."""
    found = []
    for item in details:
        index = item.get("index")
        line = parsed.lines[index] if isinstance(index, int) and index < len(parsed.lines) else 0
        cell = parsed.cells[index] if isinstance(index, int) and index < len(parsed.cells) else None
        prefix = f"{cell.day.isoformat()}: " if cell is not None else ""
        found.append(LineError(line, f"{prefix}{item.get('message', '')}"))
    return found
