"""File imports: the USB `*_attlog.dat` export and CSV/XLSX punch lists.

Both are idempotent (through `record_punches` and its duplicate keys), report every
refused row with its reason, and have a dry run that does all the work in a transaction
and rolls it back — so its counts are exactly what a real run would do.

A USB import is a terminal's own data: source `device` with the terminal's duplicate key
(serial, PIN, time), so punches that were also pushed add nothing. A spreadsheet is
HR's data: source `import`, and an unknown employee number is refused, not held.

Spreadsheet columns (first row is the header; names are case-insensitive, Chinese
headers in brackets are accepted too):

| column | required | meaning |
| --- | --- | --- |
| employee_no (工号) | yes | the employee number (= terminal PIN) |
| time (时间, 打卡时间) | yes | `YYYY-MM-DD HH:MM[:SS]` [+offset], or an XLSX date-time cell |
| device_sn (终端) | no | the terminal's serial number, kept for reference |
| verify_mode (验证方式) | no | whole number, as the terminal reports it |
| punch_state (打卡状态) | no | whole number, as the terminal reports it |
| remark (备注) | no | free text, up to 500 characters |

A time without an offset is read in `--tz` when given, else in the employee's
attendance-group time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.core import spreadsheets
from ztk.core.errors import DomainError
from ztk.core.text import INVALID_TEXT, escape_forbidden, is_clean_text, text_problem
from ztk.org.models import Employee
from ztk.org.zones import ZoneNames
from ztk.punches.models import PunchSource
from ztk.punches.services import PunchInput, record_punches

from . import ingest, protocol
from .models import DeviceStatus, validate_time_zone
from .services import device_get, require_manager

COLUMNS = ("employee_no", "time", "device_sn", "verify_mode", "punch_state", "remark")
REQUIRED = ("employee_no", "time")
ALIASES = {
    "工号": "employee_no",
    "员工号": "employee_no",
    "employee number": "employee_no",
    "pin": "employee_no",
    "时间": "time",
    "打卡时间": "time",
    "at": "time",
    "终端": "device_sn",
    "设备序列号": "device_sn",
    "serial": "device_sn",
    "验证方式": "verify_mode",
    "打卡状态": "punch_state",
    "状态": "punch_state",
    "备注": "remark",
}
CHUNK = 2000
MAX_ROWS = 200_000  # rows of one punch list; split a larger export into several files

MESSAGES = {
    "missing_columns": _("The header row lacks required columns: %(columns)s."),
    "empty_file": _("The file has no header row."),
    "device_disabled": _("The terminal is disabled; enable it before importing its punches."),
    "bad_time_zone": _("This is not a time zone name such as Asia/Shanghai."),
}


@dataclass
class ImportReport:
    rows: int = 0
    new: int = 0
    duplicate: int = 0
    held: int = 0
    refused: list[tuple[int | None, str, str]] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        note = " (dry run: nothing written)" if self.dry_run else ""
        return (
            f"{self.rows} rows: new {self.new}, duplicate {self.duplicate}, held {self.held}, "
            f"refused {len(self.refused)}{note}"
        )


# --------------------------------------------------------------------------- USB


def usb_attlog_import(
    *,
    data: bytes,
    serial: str,
    dry_run: bool = False,
    actor: Any = None,
    filename: str = "",
    now: datetime | None = None,
) -> ImportReport:
    """Import a terminal's USB export as if the terminal had pushed it."""
    require_manager(actor)
    now = now or timezone.now()
    device = device_get(serial)
    if device.status == DeviceStatus.DISABLED:
        raise DomainError("device_disabled", MESSAGES["device_disabled"], status=409)
    records, errors = protocol.parse_usb_attlog(protocol.decode_body(data))
    report = ImportReport(rows=len(records) + len(errors), dry_run=dry_run)
    with transaction.atomic():
        outcome = ingest.ingest_records(
            device,
            records,
            channel="usb",
            now=now,
            actor=actor,
            recompute=not dry_run,
            audit_extra={"file": _file_label(filename), "unreadable_lines": len(errors)},
        )
        refusals = ingest.line_refusals(errors) + outcome.refused
        refusals.sort(key=lambda r: r.line_no or 0)
        ingest.log_refusals(device, "usb", refusals)
        report.new, report.duplicate, report.held = outcome.new, outcome.duplicate, outcome.held
        report.refused = [(r.line_no, r.code, r.message) for r in refusals]
        if dry_run:
            transaction.set_rollback(True)
    return report


# --------------------------------------------------------------------------- CSV / XLSX


def _read_rows(data: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    """(sheet row number, cells) for every row, header included; blank rows dropped — the
    one spreadsheet reader (format by content, streaming, row and cell caps)."""
    return spreadsheets.read_table(data, max_rows=MAX_ROWS, filename=filename)


def _header(cells: list[Any]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = str(cell or "").strip().lstrip("\ufeff").strip()
        key = name.lower().replace(" ", "_")
        key = ALIASES.get(name, ALIASES.get(name.lower(), key))
        if key in COLUMNS and key not in positions:
            positions[key] = index
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        raise DomainError(
            "missing_columns", MESSAGES["missing_columns"] % {"columns": ", ".join(missing)}
        )
    return positions


class _RowError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _file_label(filename: str) -> str:
    """The file's name for the audit log (forbidden characters shown as escapes)."""
    return escape_forbidden(Path(filename).name[:200])


def _text(value: Any, name: str = "", *, multiline: bool = False) -> str:
    """A cell as text; a cell with a character the shared text rule forbids refuses its row."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if name and (problem := text_problem(text, multiline=multiline)) is not None:
        position, code_point = problem
        raise _RowError(
            INVALID_TEXT,
            f"{name} contains a character that is not allowed ({code_point} at position "
            f"{position + 1})",
        )
    return text.strip()


def _number(value: Any, name: str) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or len(text) > 5 or int(text) > ingest.SMALLINT_MAX:
        raise _RowError("bad_number", f"{name} {text[:40]!r} is not a small whole number")
    return int(text)


def _time(value: Any, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        raise _RowError("bad_timestamp", "the time has a date but no time of day")
    else:
        text = _text(value)
        try:
            moment = protocol.parse_timestamp(text)
        except ValueError as exc:
            code = exc.args[0]
            if code == "impossible_timestamp":
                raise _RowError(code, exc.args[1]) from None
            try:
                moment = datetime.fromisoformat(text.replace("/", "-"))
            except ValueError:
                raise _RowError(
                    "bad_timestamp", f"time {text[:40]!r} is not YYYY-MM-DD HH:MM:SS"
                ) from None
    if not protocol.MIN_YEAR <= moment.year <= protocol.MAX_YEAR:
        raise _RowError("impossible_timestamp", f"year {moment.year} is impossible")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def punches_import(
    *,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    tz: str | None = None,
    actor: Any = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import a CSV or XLSX punch list (columns in the module docstring) as source `import`."""
    require_manager(actor)
    now = now or timezone.now()
    if tz:
        try:
            validate_time_zone(tz)
        except Exception:  # noqa: BLE001 - ValidationError
            raise DomainError("bad_time_zone", MESSAGES["bad_time_zone"]) from None
    rows = _read_rows(data, filename)
    if not rows:
        raise DomainError("empty_file", MESSAGES["empty_file"])
    columns = _header(rows[0][1])
    body = rows[1:]
    report = ImportReport(rows=len(body), dry_run=dry_run)

    def cell(cells: list[Any], name: str) -> Any:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    # Only numbers that can name someone are looked up (PostgreSQL refuses a NUL); a row
    # with a forbidden character is refused by record_punches (`invalid_text`).
    numbers = {_text(cell(cells, "employee_no")) for _n, cells in body}
    numbers = {n for n in numbers if is_clean_text(n)}
    names = ZoneNames()
    zones = {
        no: ZoneInfo(tz or names(group_zone))
        for no, group_zone in Employee.objects.filter(employee_no__in=numbers).values_list(
            "employee_no", "attendance_group__time_zone"
        )
    }
    default_zone = ZoneInfo(tz or names(None))
    inputs: list[PunchInput] = []
    row_of: list[int] = []
    for number, cells in body:
        try:
            employee_no = _text(cell(cells, "employee_no"), "employee number")
            if not employee_no:
                raise _RowError("empty_pin", "the employee number is empty")
            at = _time(cell(cells, "time"), zones.get(employee_no, default_zone))
            inputs.append(
                PunchInput(
                    at=at,
                    source=PunchSource.IMPORT,
                    employee_no=employee_no,
                    device_sn=_text(cell(cells, "device_sn"), "device_sn")[:64],
                    verify_mode=_number(cell(cells, "verify_mode"), "verify mode"),
                    punch_state=_number(cell(cells, "punch_state"), "punch state"),
                    remark=_text(cell(cells, "remark"), "remark", multiline=True)[:500],
                    raw=escape_forbidden(",".join(_text(c) for c in cells)[:1024]),
                )
            )
            row_of.append(number)
        except _RowError as exc:
            report.refused.append((number, exc.code, exc.message))
    with transaction.atomic():
        for start in range(0, len(inputs), CHUNK):
            part = inputs[start : start + CHUNK]
            result = record_punches(
                part,
                actor=actor,
                now=now,
                recompute=not dry_run,
                audit_action="devices.import.punches",
                audit_extra={"file": _file_label(filename), "dry_run": dry_run},
            )
            report.new += result.new
            report.duplicate += result.duplicate
            report.refused += [
                (row_of[start + r.index], r.code, r.message) for r in result.rejected
            ]
        if dry_run:
            transaction.set_rollback(True)
    report.refused.sort(key=lambda r: r[0] or 0)
    return report
