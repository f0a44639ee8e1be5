"""ztk/core/xlsx.py: the streaming writer's cells, read back by openpyxl as a user's tools read
them (the report workbook itself is checked in tests/reports/test_xlsx_golden.py)."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from ztk.core import xlsx


def read(book: xlsx.Book):
    return load_workbook(io.BytesIO(book.save()))


def test_values_of_every_kind_come_back_as_written():
    book = xlsx.Book()
    ws = book.sheet("数据 & 'x'", [8, 30])
    ws.append(['a & b <c> "d"', 3])
    ws.append(["  padded  ", 2.5])
    ws.append([True, Decimal("1.25")])
    ws.append([None, ""])
    ws.append(["bell\x07 and \x00nul", -7])
    date_style = book.row_style([xlsx.Style("yyyy-mm-dd"), xlsx.Style("yyyy-mm-dd hh:mm")])
    ws.append([date(2026, 11, 2), datetime(2026, 11, 2, 18, 30)], date_style)

    sheet = read(book)["数据 & 'x'"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows == [
        ['a & b <c> "d"', 3],
        ["  padded  ", 2.5],
        [True, 1.25],
        [None, None],
        ["bell and nul", -7],  # characters XML cannot hold are dropped
        [datetime(2026, 11, 2), datetime(2026, 11, 2, 18, 30)],
    ]
    assert sheet["A6"].number_format == "yyyy-mm-dd"
    assert sheet.column_dimensions["B"].width == 30


def test_a_repeated_text_is_stored_once_and_the_sheet_order_is_kept():
    book = xlsx.Book()
    first = book.sheet("一", [10])
    second = book.sheet("二", [10])
    for _ in range(3):
        first.append(["研发部"])
    second.append(["研发部"])
    second.freeze_header = second.print_header = True

    assert len(book.strings) == 1
    wb = read(book)
    assert wb.sheetnames == ["一", "二"]
    assert wb["二"].freeze_panes == "A2"
    assert wb["二"].print_title_rows == "$1:$1"
    assert wb["一"].freeze_panes is None


def test_column_letters():
    assert [xlsx.column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
