"""Spreadsheets in and out: the one reader of every import, the one cell rule of every export.

Reading (`read_table`). Every import (historical corrections, punch lists, the official
calendar) reads its file here, so every import has the same limits:

- the format is taken from the content, never the name: an XLSX is a zip (``PK``), the old
  binary ``.xls`` is refused, anything else must decode as CSV text (UTF-8 with or without
  a BOM, UTF-16 with a BOM, else GB18030) without NUL characters;
- an XLSX is checked before it is opened — at most MAX_PARTS parts, none expanding more
  than MAX_RATIO times, all together no more than the limit for the rows asked for (a zip
  bomb is refused in milliseconds) — then read in openpyxl's streaming mode (``read_only``)
  with its declared dimensions ignored (a sheet claiming A1:XFD1048576 would otherwise be
  padded to 17 billion cells);
- at most `max_rows` data rows and MAX_COLUMNS columns are read; reading stops at the first
  row past the limit, so a huge file costs no more than a permitted one; a cell longer than
  MAX_CELL_CHARS refuses the file.

Writing (`safe_cell`, `csv_bytes`). Text that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return becomes a live formula when a spreadsheet opens the file (formula
injection: ``=HYPERLINK(…)``, DDE). Every XLSX and CSV writer passes each cell through
`safe_cell`, which prefixes such text with an apostrophe; numbers, dates and text that
is just a number (``-3``) are left alone.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from .errors import DomainError

MAX_BYTES = 10 * 1024 * 1024
MAX_COLUMNS = 64
MAX_CELL_CHARS = 2000
MAX_PARTS = 1000
MAX_RATIO = 150  # real sheets compress 5–30×; a bomb compresses thousands of times
XML_BYTES_PER_ROW = 2048  # uncompressed XML a row may take (a 7-column row takes ~300)
MIN_XML_BYTES = 16 * 1024 * 1024
BLANK_ROWS_ALLOWED = 10_000  # blank rows skipped before a file counts as too long anyway
PROGRESS_EVERY = 1000

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"

EMPTY_FILE = "empty_file"
FILE_TOO_LARGE = "file_too_large"
UNSUPPORTED_FILE = "unsupported_file"
BAD_FILE = "bad_file"
TOO_MANY_ROWS = "too_many_rows"
CELL_TOO_LONG = "cell_too_long"
FILE_TOO_COMPLEX = "file_too_complex"

MESSAGES = {
    EMPTY_FILE: _("The file has no rows."),
    FILE_TOO_LARGE: _("The file may be at most 10 MB."),
    UNSUPPORTED_FILE: _("Upload a CSV or XLSX file."),
    BAD_FILE: _("The file cannot be read: %(error)s"),
    TOO_MANY_ROWS: _("At most %(max)s rows can be imported at once; the file has %(rows)s."),
    CELL_TOO_LONG: _("Line %(line)s holds a cell longer than %(max)s characters."),
    FILE_TOO_COMPLEX: _(
        "The XLSX file expands to more data than an import of %(max)s rows can hold; "
        "save it again from a spreadsheet program or split it."
    ),
}

Progress = Callable[[int], None]
Row = tuple[int, list[Any]]


def error(code: str, **params: Any) -> DomainError:
    template = MESSAGES[code]
    return DomainError(code, template % params if params else template, details=params or None)


# --------------------------------------------------------------------------- reading


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def decode_text(data: bytes) -> str:
    """UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's "Unicode text"), else GB18030."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise error(UNSUPPORTED_FILE) from None  # binary: no text at all


def looks_binary(text: str) -> bool:
    """Many NULs: a binary file or UTF-16 without a BOM, not a table.

    A few NULs in cells of a real CSV are not a file problem: those rows are refused one by
    one by the text rule (`invalid_text`), the rest of the file still counts.
    """
    return text.count("\x00") * 20 >= len(text) > 0


def xml_budget(max_rows: int) -> int:
    """Uncompressed bytes an XLSX holding `max_rows` rows may expand to."""
    return max(MIN_XML_BYTES, (max_rows + 1) * XML_BYTES_PER_ROW)


def check_xlsx(data: bytes, *, max_rows: int) -> None:
    """Refuse a zip bomb before any XML is parsed, from the sizes the zip declares (zipfile
    never inflates a part past its declared size: it fails the CRC check instead)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise error(BAD_FILE, error=str(exc)[:200]) from None
    budget = xml_budget(max_rows)
    if len(parts) > MAX_PARTS:
        raise error(FILE_TOO_COMPLEX, max=max_rows)
    total = 0
    for part in parts:
        total += part.file_size
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > 1024 * 1024 and ratio > MAX_RATIO:
            raise error(FILE_TOO_COMPLEX, max=max_rows)
        if total > budget:
            raise error(FILE_TOO_COMPLEX, max=max_rows)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # never trust the declared size: no padding to it
        yield from enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1)
    finally:
        book.close()


def _csv_rows(text: str) -> Iterator[tuple[int, Sequence[Any]]]:
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in reader:
        yield reader.line_num, row[:MAX_COLUMNS]


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read_table(
    data: bytes,
    *,
    max_rows: int,
    filename: str = "",
    allow_xlsx: bool = True,
    progress: Progress | None = None,
) -> list[Row]:
    """(line number, cells) of every non-blank row, the header included, at most
    `max_rows` data rows; DomainError with a stable code for a file that cannot be taken.

    The content decides the format; the name only refuses a file that claims to be an
    XLSX and is not one. Cells are the spreadsheet's values (numbers, dates, datetimes from
    an XLSX; text from a CSV); columns past MAX_COLUMNS are not read."""
    if not data:
        raise error(EMPTY_FILE)
    if len(data) > MAX_BYTES:
        raise error(FILE_TOO_LARGE)
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix in ("xlsx", "xlsm") and not is_xlsx(data):
        raise error(BAD_FILE, error=str(_("the file is not an XLSX workbook")))
    if suffix == "xls":
        raise error(UNSUPPORTED_FILE)
    rows: list[Row] = []
    seen = 0
    try:
        if is_xlsx(data):
            if not allow_xlsx:
                raise error(UNSUPPORTED_FILE)
            check_xlsx(data, max_rows=max_rows)
            source: Iterable[tuple[int, Sequence[Any]]] = _xlsx_rows(data)
        elif data[:4] == b"\xd0\xcf\x11\xe0":  # the old binary .xls
            raise error(UNSUPPORTED_FILE)
        else:
            text = decode_text(data)
            if looks_binary(text):
                raise error(UNSUPPORTED_FILE)
            source = _csv_rows(text)
        for number, cells in source:
            seen += 1
            if progress is not None and seen % PROGRESS_EVERY == 0:
                progress(seen)
            if all(_blank(cell) for cell in cells):
                if seen - len(rows) > BLANK_ROWS_ALLOWED + max_rows:
                    raise error(TOO_MANY_ROWS, max=max_rows, rows=f"> {max_rows}")
                continue
            if len(rows) > max_rows:  # the header plus max_rows data rows are read
                raise error(TOO_MANY_ROWS, max=max_rows, rows=f"> {max_rows}")
            for cell in cells:
                if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                    raise error(CELL_TOO_LONG, line=number, max=MAX_CELL_CHARS)
            rows.append((number, list(cells)))
    except DomainError:
        raise
    except csv.Error as exc:
        raise error(BAD_FILE, error=str(exc)[:200]) from None
    except Exception as exc:  # noqa: BLE001 - any reader error is the file's fault
        raise error(BAD_FILE, error=str(exc)[:200]) from None
    if progress is not None:
        progress(seen)
    return rows


# --------------------------------------------------------------------------- writing

_TRIGGERS = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*|\.\d+)%?")


def safe_cell(value: Any) -> Any:
    """The value to write into an exported cell: text that a spreadsheet would take for a
    formula gets a leading apostrophe; every other value is returned unchanged."""
    if not isinstance(value, str):
        return value
    stripped = value.lstrip(" \u3000")
    if stripped[:1] in _TRIGGERS and not _PLAIN_NUMBER.fullmatch(stripped):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return safe_cell(value)


def csv_bytes(rows: Iterable[Iterable[Any]], *, bom: bool = True) -> bytes:
    """Rows as CSV: UTF-8 (with a BOM so Excel shows Chinese), CRLF line ends (RFC 4180),
    every cell through `safe_cell`."""
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([_csv_value(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
