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

`file_import` takes either kind (the content decides, `detect_format`); the HR page
(/hr/devices/import/) runs it as a background job (`run_job`) and the commands call the
two importers directly — the same service either way. Every report lists what became of
each line (`LineOutcome`): new, duplicate, held (unknown PIN, terminal not approved) or
refused with its reason, and the terminal it is attributed to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.attendance.services import drain_pending
from ztk.core import spreadsheets, uploads
from ztk.core.errors import DomainError
from ztk.core.text import INVALID_TEXT, escape_forbidden, is_clean_text, text_problem
from ztk.org.models import Employee
from ztk.org.zones import ZoneNames
from ztk.punches.models import PunchSource
from ztk.punches.services import PunchInput, record_punches

from . import ingest, protocol
from .models import LOCAL_TIME_FORMAT, DeviceStatus, HoldReason, validate_time_zone
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


NEW, DUPLICATE, HELD, REFUSED = "new", "duplicate", "held", "refused"
UNKNOWN_CODES = frozenset({HoldReason.UNKNOWN_PIN, "unknown_employee"})
Progress = Callable[[str, int, int], None]
READING, WRITING = "reading", "writing"


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What became of one line (row) of the file."""

    line: int | None
    employee_no: str
    time: str  # local time as read, YYYY-MM-DD HH:MM:SS
    serial: str  # the terminal it is attributed to ("" when none)
    status: str  # NEW, DUPLICATE, HELD or REFUSED
    code: str = ""
    message: str = ""


@dataclass
class ImportReport:
    rows: int = 0
    new: int = 0
    duplicate: int = 0
    held: int = 0
    refused: list[tuple[int | None, str, str]] = field(default_factory=list)
    dry_run: bool = False
    lines: list[LineOutcome] = field(default_factory=list)

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
    progress: Progress = _no_progress,
) -> ImportReport:
    """Import a terminal's USB export as if the terminal had pushed it."""
    require_manager(actor)
    now = now or timezone.now()
    device = device_get(serial)
    if device.status == DeviceStatus.DISABLED:
        raise DomainError("device_disabled", MESSAGES["device_disabled"], status=409)
    progress(READING, 0, 0)
    records, errors = protocol.parse_usb_attlog(protocol.decode_body(data))
    report = ImportReport(rows=len(records) + len(errors), dry_run=dry_run)
    lines: list[LineOutcome] = [
        LineOutcome(e.line_no, "", "", device.serial, REFUSED, e.code, e.reason) for e in errors
    ]
    with transaction.atomic():
        refusals = ingest.line_refusals(errors)
        progress(WRITING, 0, len(records))
        for start in range(0, len(records), CHUNK):
            part = records[start : start + CHUNK]
            outcome = ingest.ingest_records(
                device,
                part,
                channel="usb",
                now=now,
                actor=actor,
                recompute=not dry_run,
                audit_extra={
                    "file": _file_label(filename),
                    "unreadable_lines": len(errors),
                    "dry_run": dry_run,
                },
            )
            refusals += outcome.refused
            report.new += outcome.new
            report.duplicate += outcome.duplicate
            report.held += outcome.held
            reasons = {r.line_no: r for r in outcome.refused}
            for index, (rec, status) in enumerate(zip(part, outcome.statuses, strict=True)):
                code = message = ""
                if status == REFUSED and (refusal := reasons.get(rec.line_no)) is not None:
                    code, message = refusal.code, refusal.message
                elif status == HELD:
                    code = outcome.held_reasons.get(index, "")
                    message = str(HoldReason(code).label) if code else ""
                lines.append(
                    LineOutcome(
                        rec.line_no,
                        rec.pin,
                        rec.local_time.strftime(LOCAL_TIME_FORMAT),
                        device.serial,
                        status,
                        code,
                        message,
                    )
                )
            progress(WRITING, start + len(part), len(records))
        refusals.sort(key=lambda r: r.line_no or 0)
        if not dry_run:
            ingest.log_refusals(device, "usb", refusals)
        report.refused = [(r.line_no, r.code, r.message) for r in refusals]
        if dry_run:
            transaction.set_rollback(True)
    lines.sort(key=lambda line: line.line or 0)
    report.lines = lines
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
    progress: Progress = _no_progress,
) -> ImportReport:
    """Import a CSV or XLSX punch list (columns in the module docstring) as source `import`."""
    require_manager(actor)
    now = now or timezone.now()
    if tz:
        try:
            validate_time_zone(tz)
        except Exception:  # noqa: BLE001 - ValidationError
            raise DomainError("bad_time_zone", MESSAGES["bad_time_zone"]) from None
    progress(READING, 0, 0)
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
    lines: list[LineOutcome] = []
    for number, cells in body:
        employee_no = ""
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
            shown = escape_forbidden(employee_no or _text(cell(cells, "employee_no")))[:64]
            lines.append(LineOutcome(number, shown, "", "", REFUSED, exc.code, exc.message))
    progress(WRITING, 0, len(inputs))
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
            statuses = [DUPLICATE] * len(part)
            for index in result.new_indexes:
                statuses[index] = NEW
            reasons = {r.index: r for r in result.rejected}
            for index, (item, status) in enumerate(zip(part, statuses, strict=True)):
                refusal = reasons.get(index)
                lines.append(
                    LineOutcome(
                        row_of[start + index],
                        escape_forbidden(item.employee_no or "")[:64],
                        item.at.strftime(LOCAL_TIME_FORMAT),
                        escape_forbidden(item.device_sn),
                        REFUSED if refusal else status,
                        refusal.code if refusal else "",
                        refusal.message if refusal else "",
                    )
                )
            progress(WRITING, start + len(part), len(inputs))
        if dry_run:
            transaction.set_rollback(True)
    report.refused.sort(key=lambda r: r[0] or 0)
    lines.sort(key=lambda line: line.line or 0)
    report.lines = lines
    return report


# --------------------------------------------------------------------------- either kind

ATTLOG, TABLE = "attlog", "table"
MAX_BYTES = spreadsheets.MAX_BYTES
# A USB line: PIN, then the time (the PIN may be right-aligned with spaces).
_ATTLOG_LINE = re.compile(r"^\s*[^\t]*\t\s*\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}")
SNIFF_LINES = 50

FORMAT_MESSAGES = {
    "device_required": _(
        "This is a terminal's USB file (attlog.dat): choose the terminal that wrote it."
    ),
}


def detect_format(data: bytes) -> str:
    """ATTLOG for a terminal's USB export, TABLE for a CSV/XLSX punch list: by content.

    An XLSX is a zip; a text file is a USB export when one of its first lines has the
    PIN⇥YYYY-MM-DD HH:MM shape (a garbage first line does not change that)."""
    if spreadsheets.is_xlsx(data):
        return TABLE
    text = protocol.decode_body(data[: 64 * 1024])
    for line in text.splitlines()[:SNIFF_LINES]:
        if _ATTLOG_LINE.match(line):
            return ATTLOG
    return TABLE


def file_import(
    *,
    data: bytes,
    filename: str,
    serial: str = "",
    dry_run: bool = False,
    actor: Any = None,
    now: datetime | None = None,
    progress: Progress = _no_progress,
) -> ImportReport:
    """A USB export (for the terminal `serial`) or a punch list, as the content says."""
    require_manager(actor)
    if detect_format(data) == ATTLOG:
        if not serial:
            raise DomainError("device_required", FORMAT_MESSAGES["device_required"])
        return usb_attlog_import(
            data=data,
            serial=serial,
            dry_run=dry_run,
            actor=actor,
            filename=filename,
            now=now,
            progress=progress,
        )
    return punches_import(
        data=data, filename=filename, dry_run=dry_run, actor=actor, now=now, progress=progress
    )


# --------------------------------------------------------------------------- the page's job

JOB_PREVIEW = "devices.import.preview"
JOB_COMMIT = "devices.import.commit"
JOB_KINDS = (JOB_PREVIEW, JOB_COMMIT)
SHOWN_LINES = 2000  # lines kept for the page (every line not new is kept too, up to this)
EXPIRED = "upload_expired"


def counts(report: ImportReport) -> dict[str, int]:
    """The page's counts: new, duplicate, unknown PIN, held (terminal pending), refused."""
    tally = {"rows": report.rows, NEW: 0, DUPLICATE: 0, "unknown": 0, HELD: 0, REFUSED: 0}
    for line in report.lines:
        if line.code in UNKNOWN_CODES:
            tally["unknown"] += 1
        else:
            tally[line.status] += 1
    return tally


def report_view(report: ImportReport, *, kind: str, serial: str) -> dict[str, Any]:
    """The report as the page shows it (plain JSON, kept on the job), with the names of
    the employees the lines name."""
    notable = [line for line in report.lines if line.status not in (NEW, DUPLICATE)]
    shown = report.lines[:SHOWN_LINES]
    numbers = {line.employee_no for line in shown + notable[:SHOWN_LINES]}
    numbers = {n for n in numbers if n and is_clean_text(n)}
    names = dict(
        Employee.objects.filter(employee_no__in=numbers).values_list("employee_no", "name")
    )

    def view(line: LineOutcome) -> dict[str, Any]:
        return {**asdict(line), "name": names.get(line.employee_no, "")}

    return {
        "kind": kind,
        "serial": serial if kind == ATTLOG else "",
        "dry_run": report.dry_run,
        "counts": counts(report),
        "lines": [view(line) for line in shown],
        "notable": [view(line) for line in notable[:SHOWN_LINES]],
        "truncated": len(report.lines) > SHOWN_LINES,
    }


def run_job(job: Any, progress: Progress) -> dict[str, Any]:
    """The work of the page's background job: the dry run or the commit of a stashed file.

    A commit recomputes the days it touched before it ends (what the commands do too)."""
    filename = job.params.get("filename", "")
    serial = job.params.get("serial", "")
    data = uploads.load(job.owner_id, job.params.get("sha256", ""))
    if data is None:
        raise DomainError(EXPIRED, _("The uploaded file has expired; upload it again."))
    kind = detect_format(data)
    dry_run = job.kind == JOB_PREVIEW
    report = file_import(
        data=data,
        filename=filename,
        serial=serial,
        dry_run=dry_run,
        actor=job.owner,
        progress=progress,
    )
    result = report_view(report, kind=kind, serial=serial)
    result["sha256"] = job.params.get("sha256", "")
    if not dry_run:
        progress("recomputing", 0, 0)
        result["recomputed"] = drain_pending()
        uploads.discard(job.owner_id, job.params.get("sha256", ""))
    return result
