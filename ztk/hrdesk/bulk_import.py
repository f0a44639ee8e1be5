"""Bulk import of historical corrections (批量处理历史数据) from CSV or XLSX.

HR brings in corrections decided outside the system (an old system's records, a
spreadsheet kept during a terminal outage). Two steps, both HR or system admins only
(``actor=None`` is the operator at the command line, ``ztk import-corrections``):

1. ``import_preview`` — a dry run: every row is validated and reported ``ok``,
   ``duplicate`` (already imported: skipped) or ``refused`` with a stable code and a
   sentence; nothing is written.
2. ``import_commit`` — validates the same bytes again inside one transaction and, only
   when no row is refused, stores every ``ok`` row as a punch of source ``import`` through
   ``record_punches`` (which recomputes the days), plus one audit event for the batch with
   the counts and the file's SHA-256. All or nothing: one refused row writes nothing.

Columns (header names in Chinese or English, any order; see docs/imports.md and the
downloadable templates): 工号 employee_no, 日期 date, 卡点 slot (in1/out1/…, or 上班/下班
with the 班段 segment column or a trailing number), 时间 time (HH:MM, placed in the slot's
punch window — a night shift's check-out lands on the next day — or a full date and time),
原因 reason, 外部编号 reference (optional).

Re-importing the same file adds nothing: each punch's dedup key is derived from
(employee, date, slot, time), and rows whose key is already stored are reported as
``duplicate`` and skipped.

Quotas: historical imports do **not** count against the monthly correction limit. They
are data HR brings in after the fact, not requests; they are audited as an import (the
batch event with the file's hash, and the punches' own event), and the imported punches
carry the source ``history`` (imported correction). Like an approved correction or a
paper form, the engine marks the slot it fills ``corrected`` (补卡) whatever its time, so
reports show it as a correction with its source and count it in 补卡次数. (Until issue 12
they carried ``import``, the source of raw terminal logs, and were judged by their time:
they showed as plain 正常.)
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk import engine
from ztk.attendance.days import closed_ranges
from ztk.attendance.explain import slot_label
from ztk.audit.services import record
from ztk.core import spreadsheets, uploads
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.parse import FIRST_DAY, LAST_DAY, moment_in_range
from ztk.core.spreadsheets import safe_row
from ztk.core.text import INVALID_TEXT, text_problem
from ztk.org.models import Employee
from ztk.org.rules import is_hr, is_sysadmin
from ztk.org.zones import ZoneNames
from ztk.punches.models import Punch, PunchSource
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.plans import build_plans

MAX_BYTES = spreadsheets.MAX_BYTES
MAX_ROWS = 20_000
# Phases of a run, reported to `progress(phase, done, total)`.
READING, CHECKING, WRITING = "reading", "checking", "writing"
CHUNK = 500
PROGRESS_EVERY = 500

AUDIT_ACTION = "corrections.import.commit"
PUNCH_AUDIT_ACTION = "corrections.import.punches"

OK, DUPLICATE, REFUSED = "ok", "duplicate", "refused"

# File-level refusals (the reader's, and this import's own).
UNSUPPORTED_FILE = spreadsheets.UNSUPPORTED_FILE
BAD_FILE = spreadsheets.BAD_FILE
FILE_TOO_LARGE = spreadsheets.FILE_TOO_LARGE
EMPTY_FILE = spreadsheets.EMPTY_FILE
TOO_MANY_ROWS = spreadsheets.TOO_MANY_ROWS
MISSING_COLUMNS = "missing_columns"
IMPORT_REFUSED = "import_refused"
# Row-level refusals.
MISSING_VALUE = "missing_value"
UNKNOWN_EMPLOYEE = "unknown_employee"
BAD_DATE = "bad_date"
BAD_TIME = "bad_time"
BAD_SLOT = "bad_slot"
SLOT_NOT_FOUND = "slot_not_found"
TIME_OUTSIDE_SLOT_WINDOW = "time_outside_slot_window"
PERIOD_CLOSED = "period_closed"
FUTURE_TIME = "future_time"
DUPLICATE_ROW = "duplicate_row"
SLOT_ALREADY_PUNCHED = "slot_already_punched"
BEFORE_HIRE_DATE = "before_hire_date"
AFTER_LEAVE_DATE = "after_leave_date"
REASON_REQUIRED = "reason_required"
ALREADY_IMPORTED = "already_imported"

MESSAGES = {
    **spreadsheets.MESSAGES,
    MISSING_COLUMNS: _("Columns missing from the header row: %(columns)s."),
    IMPORT_REFUSED: _("%(count)s rows are refused; nothing was imported."),
    MISSING_VALUE: _("The %(column)s is empty."),
    UNKNOWN_EMPLOYEE: _("No employee has the number %(value)s."),
    BAD_DATE: _("“%(value)s” is not a date (YYYY-MM-DD)."),
    BAD_TIME: _("“%(value)s” is not a time (HH:MM, or YYYY-MM-DD HH:MM)."),
    BAD_SLOT: _("“%(value)s” is not a slot (in1, out1 … or 上班/下班 with the segment)."),
    SLOT_NOT_FOUND: _("There is no slot “%(slot)s” on %(day)s."),
    "no_shift": _("There is no shift on %(day)s, so there is no slot to fill."),
    TIME_OUTSIDE_SLOT_WINDOW: _(
        "%(time)s is outside the punch window of %(slot)s (%(start)s – %(end)s)."
    ),
    "other_day": _("%(time)s belongs to the attendance of another day, not to %(day)s."),
    PERIOD_CLOSED: _("The attendance period %(start)s – %(end)s is closed."),
    FUTURE_TIME: _("%(time)s is in the future."),
    DUPLICATE_ROW: _("The same employee, date and slot as line %(line)s."),
    SLOT_ALREADY_PUNCHED: _("%(slot)s on %(day)s already has a valid punch at %(time)s."),
    BEFORE_HIRE_DATE: _("%(day)s is before the employee's hire date (%(hire)s)."),
    AFTER_LEAVE_DATE: _("%(day)s is after the employee's leave date (%(leave)s)."),
    REASON_REQUIRED: _("A reason of at least 2 characters is required."),
    ALREADY_IMPORTED: _("Already imported: skipped."),
    INVALID_TEXT: _(
        "The %(column)s contains a character that is not allowed (%(char)s at position "
        "%(pos)s): a control character or a text-direction override."
    ),
}

# Columns: canonical name → (Chinese header, English header) as the templates write them.
COLUMNS: dict[str, tuple[str, str]] = {
    "employee_no": ("工号", "employee_no"),
    "date": ("日期", "date"),
    "slot": ("卡点", "slot"),
    "segment": ("班段", "segment"),
    "time": ("时间", "time"),
    "reason": ("原因", "reason"),
    "reference": ("外部编号", "reference"),
}
REQUIRED = ("employee_no", "date", "slot", "time", "reason")
COLUMN_LABELS = {
    "employee_no": _("employee number"),
    "date": _("date"),
    "slot": _("slot"),
    "segment": _("segment"),
    "time": _("time"),
    "reason": _("reason"),
    "reference": _("reference"),
}
ALIASES: dict[str, str] = {
    **{zh: key for key, (zh, _en) in COLUMNS.items()},
    **{en: key for key, (_zh, en) in COLUMNS.items()},
    "员工编号": "employee_no",
    "员工工号": "employee_no",
    "员工号": "employee_no",
    "employee": "employee_no",
    "employee_number": "employee_no",
    "emp_no": "employee_no",
    "考勤日期": "date",
    "day": "date",
    "打卡类型": "slot",
    "签卡类型": "slot",
    "上下班": "slot",
    "卡": "slot",
    "时段": "segment",
    "段": "segment",
    "补卡时间": "time",
    "打卡时间": "time",
    "签卡时间": "time",
    "at": "time",
    "事由": "reason",
    "补卡原因": "reason",
    "备注": "reason",
    "remark": "reason",
    "参考号": "reference",
    "单号": "reference",
    "外部单号": "reference",
    "ref": "reference",
    "external_id": "reference",
}

SLOT_WORDS = {
    "in": "in",
    "checkin": "in",
    "上班": "in",
    "上班卡": "in",
    "签到": "in",
    "out": "out",
    "checkout": "out",
    "下班": "out",
    "下班卡": "out",
    "签退": "out",
}
NUMERALS = {"1": 1, "2": 2, "3": 3, "一": 1, "二": 2, "三": 3}
_SLOT_RE = re.compile(
    r"^(in|out|checkin|checkout|上班卡|下班卡|上班|下班|签到|签退)([123一二三])?$"
)
_SPLIT_RE = re.compile(r"[\s()（）/|:：\[\]【】]+")
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_CLOCK_RE = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def _refusal(code: str, key: str | None = None, **params: Any) -> tuple[str, str]:
    template = MESSAGES[key or code]
    return code, str(template) % params if params else str(template)


def file_error(code: str, **params: Any) -> DomainError:
    template = MESSAGES[code]
    return DomainError(code, template % params if params else template, details=params or None)


def may_import(actor: Any) -> bool:
    return actor is None or bool(is_hr(actor) or is_sysadmin(actor))


def _require(actor: Any) -> None:
    if not may_import(actor):
        raise PermissionDeniedError()
    if actor is not None and not getattr(actor, "is_active", False):
        raise PermissionDeniedError()


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    """One data row of the file and what the import makes of it."""

    line: int
    employee_no: str = ""
    name: str = ""
    day: date | None = None
    slot_key: str = ""
    slot_label: str = ""
    at: datetime | None = None
    local_time: str = ""
    reason: str = ""
    reference: str = ""
    status: str = OK
    code: str = ""
    message: str = ""
    employee_id: int | None = None
    dedup_key: str = ""
    raw: dict[str, str] = field(default_factory=dict)

    def refuse(self, code: str, message: str) -> None:
        self.status, self.code, self.message = REFUSED, code, message

    def accepted(self) -> tuple[int, date, datetime]:
        """(employee id, day, moment) of a row that passed the checks that set them."""
        if self.employee_id is None or self.day is None or self.at is None:
            raise ValueError(f"line {self.line} was not checked")
        return self.employee_id, self.day, self.at

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "employee_no": self.employee_no,
            "date": self.day.isoformat() if self.day else None,
            "slot": self.slot_key,
            "time": self.at.isoformat() if self.at else None,
            "reference": self.reference,
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class Preview:
    sha256: str
    filename: str
    rows: list[Row]

    def _count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def ok(self) -> int:
        return self._count(OK)

    @property
    def duplicate(self) -> int:
        return self._count(DUPLICATE)

    @property
    def refused(self) -> int:
        return self._count(REFUSED)

    @property
    def can_commit(self) -> bool:
        return self.refused == 0 and self.ok > 0

    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "ok": self.ok,
            "duplicate": self.duplicate,
            "refused": self.refused,
        }


@dataclass
class Result:
    sha256: str
    filename: str
    rows: int
    new: int
    duplicate: int
    punch_ids: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


sha256_of = uploads.sha256_of
Progress = Callable[[str, int, int], None]


def read_table(
    data: bytes, progress: Progress | None = None, filename: str = ""
) -> list[tuple[int, list[Any]]]:
    """(line number, cells) for every non-blank row of the file, header included: the one
    spreadsheet reader, with this import's row limit."""

    def reading(rows: int) -> None:
        if progress is not None:
            progress(READING, rows, 0)

    return spreadsheets.read_table(data, max_rows=MAX_ROWS, filename=filename, progress=reading)


def header_positions(cells: Sequence[Any]) -> dict[str, int]:
    """Column positions by canonical name; a header may read 工号, employee_no or both."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = str(cell or "").replace("\ufeff", "").strip()
        candidates = [text, *(t for t in _SPLIT_RE.split(text) if t)]
        for candidate in candidates:
            key = ALIASES.get(candidate) or ALIASES.get(
                candidate.lower().replace(" ", "_").replace("-", "_")
            )
            if key is not None:
                positions.setdefault(key, index)
                break
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        raise file_error(
            MISSING_COLUMNS,
            columns=", ".join(f"{COLUMNS[c][0]} {COLUMNS[c][1]}" for c in missing),
        )
    return positions


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def _first_bad_cell(raw: dict[str, str]) -> tuple[str, tuple[int, str]] | None:
    """The first cell a row may not store (core.text; the reason may span lines)."""
    for name, value in raw.items():
        problem = text_problem(value, multiline=name == "reason")
        if problem is not None:
            return name, problem
    return None


def parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20_000 < value < 80_000:
        return _EXCEL_EPOCH + timedelta(days=int(value))  # an Excel serial date
    text = _text(value)
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    text = text.split(" ", 1)[0].split("T", 1)[0] if re.match(r"\d{4}-", text) else text
    match = _DATE_RE.match(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_time(value: Any) -> datetime | clock_time | None:
    """A wall-clock time (to place in the slot's window) or a full, possibly naive, datetime."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, clock_time):
        return value.replace(microsecond=0)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1:
        seconds = round(value * 86400)
        return clock_time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
    text = _text(value)
    match = _CLOCK_RE.match(text)
    if match is not None:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour < 24 and minute < 60 and second < 60:
            return clock_time(hour, minute, second)
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        return None
    return moment.replace(microsecond=0)


def parse_slot(value: Any, segment: Any = None) -> str | None:
    text = re.sub(r"[\s_\-]", "", _text(value).lower())
    match = _SLOT_RE.match(text)
    if match is None:
        return None
    kind = SLOT_WORDS[match[1]]
    number = NUMERALS.get(match[2] or "")
    seg_text = _text(segment)
    if seg_text:
        seg = NUMERALS.get(seg_text.removeprefix("第").removesuffix("段"))
        if seg is None or (number is not None and number != seg):
            return None
        number = seg
    return f"{kind}{number or 1}"


# --------------------------------------------------------------------------- validation


class _Emp(NamedTuple):
    pk: int
    attendance_group_id: int | None
    name: str
    hire_date: date | None
    leave_date: date | None
    tz: ZoneInfo


def _employees(numbers: Iterable[str]) -> dict[str, _Emp]:
    numbers = sorted(set(numbers))
    names = ZoneNames()
    zones: dict[str, ZoneInfo] = {}
    found: dict[str, _Emp] = {}
    for start in range(0, len(numbers), CHUNK):
        for pk, number, group_id, name, hire, leave, tz_name in (
            Employee.objects.filter(employee_no__in=numbers[start : start + CHUNK])
            .order_by()
            .values_list(
                "pk",
                "employee_no",
                "attendance_group_id",
                "name",
                "hire_date",
                "leave_date",
                "attendance_group__time_zone",
            )
        ):
            tz_name = names(tz_name)
            zone = zones.get(tz_name) or zones.setdefault(tz_name, ZoneInfo(tz_name))
            found[number] = _Emp(pk, group_id, name, hire, leave, zone)
    return found


def _plans(wanted: dict[_Emp, set[date]]) -> dict[tuple[int, date], Any]:
    """Plans of D-1, D and D+1 for every (employee, D) wanted, a few queries per 31 days."""
    by_day: dict[date, set[_Emp]] = defaultdict(set)
    for emp, days in wanted.items():
        for day in days:
            by_day[day].add(emp)
    plans: dict[tuple[int, date], Any] = {}
    ordered = sorted(by_day)
    i = 0
    while i < len(ordered):
        first = ordered[i]
        people: set[_Emp] = set()
        while i < len(ordered) and (ordered[i] - first).days < 31:
            people |= by_day[ordered[i]]
            i += 1
        last = ordered[i - 1]
        plans.update(build_plans(people, first - timedelta(days=1), last + timedelta(days=1)))
    return plans


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(
            Punch.objects.filter(dedup_key__in=keys[start : start + CHUNK]).values_list(
                "dedup_key", flat=True
            )
        )
    return found


def _valid_punches(rows: list[Row]) -> dict[int, list[datetime]]:
    """Valid (not voided) punches around each row's day, by employee: one query per day and
    500 employees, reading only the punches within a day of the rows' days."""
    by_day: dict[date, set[int]] = defaultdict(set)
    for row in rows:
        employee_id, day, _at = row.accepted()
        by_day[day].add(employee_id)
    found: dict[int, set[datetime]] = defaultdict(set)
    for day, employee_ids in sorted(by_day.items()):
        ids = sorted(employee_ids)
        lo = datetime.combine(day - timedelta(days=2), clock_time.min, tzinfo=UTC)
        hi = datetime.combine(day + timedelta(days=3), clock_time.min, tzinfo=UTC)
        for start in range(0, len(ids), CHUNK):
            for employee_id, moment in (
                Punch.objects.filter(
                    employee_id__in=ids[start : start + CHUNK],
                    at__gte=lo,
                    at__lt=hi,
                    void__isnull=True,
                )
                .order_by()
                .values_list("employee_id", "at")
            ):
                found[employee_id].add(moment)
    return {k: sorted(v) for k, v in found.items()}


def dedup_key(employee_id: int, day: date, slot_key: str, moment: datetime) -> str:
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    return f"import:{employee_id}:{day.isoformat()}:{slot_key}:{stamp}"


def _clock(moment: datetime, tz: ZoneInfo, day: date) -> str:
    local = moment.astimezone(tz)
    return local.strftime("%H:%M") if local.date() == day else local.strftime("%m-%d %H:%M")


def validate(
    table: list[tuple[int, list[Any]]], *, now: datetime, progress: Progress | None = None
) -> list[Row]:
    """Every data row checked: format, employee, plan and window, period, future, duplicates
    in the file, already imported, slot already punched."""
    header_line, header = table[0]
    positions = header_positions(header)
    body = table[1:]
    if len(body) > MAX_ROWS:
        raise file_error(TOO_MANY_ROWS, max=MAX_ROWS, rows=len(body))

    def checking(done: int) -> None:
        if progress is not None:
            progress(CHECKING, done, len(body))

    def cell(cells: list[Any], name: str) -> Any:
        index = positions.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    rows: list[Row] = []
    parsed: list[tuple[Row, date, Any]] = []
    for line, cells in body:
        row = Row(line=line)
        row.raw = {name: _text(cell(cells, name)) for name in positions}
        rows.append(row)
        bad = _first_bad_cell(row.raw)
        if bad is not None:
            name, (position, code_point) = bad
            row.raw = {k: v if k != name else "" for k, v in row.raw.items()}
            column = COLUMN_LABELS[name]
            row.refuse(*_refusal(INVALID_TEXT, column=column, char=code_point, pos=position + 1))
            continue
        row.employee_no = row.raw.get("employee_no", "")[:24]
        row.reason = " ".join(row.raw.get("reason", "").split())
        row.reference = row.raw.get("reference", "")[:100]
        missing = next((c for c in REQUIRED if not row.raw.get(c)), None)
        if missing is not None:
            row.refuse(*_refusal(MISSING_VALUE, column=COLUMN_LABELS[missing]))
            continue
        row.day = parse_date(cell(cells, "date"))
        if row.day is None or not FIRST_DAY <= row.day <= LAST_DAY:
            row.day = None
            row.refuse(*_refusal(BAD_DATE, value=row.raw["date"][:40]))
            continue
        slot_key = parse_slot(cell(cells, "slot"), cell(cells, "segment"))
        if slot_key is None:
            value = " ".join(v for v in (row.raw["slot"], row.raw.get("segment", "")) if v)
            row.refuse(*_refusal(BAD_SLOT, value=value[:40]))
            continue
        row.slot_key = slot_key
        moment = parse_time(cell(cells, "time"))
        if moment is None or (isinstance(moment, datetime) and not moment_in_range(moment)):
            row.refuse(*_refusal(BAD_TIME, value=row.raw["time"][:40]))
            continue
        if len(row.reason) < 2:
            row.refuse(*_refusal(REASON_REQUIRED))
            continue
        parsed.append((row, row.day, moment))

    employees = _employees(r.employee_no for r, _d, _m in parsed)
    wanted: dict[_Emp, set[date]] = defaultdict(set)
    checked: list[tuple[Row, date, Any, _Emp]] = []
    for row, day, moment in parsed:
        emp = employees.get(row.employee_no)
        if emp is None:
            row.refuse(*_refusal(UNKNOWN_EMPLOYEE, value=row.employee_no))
            continue
        row.employee_id, row.name = emp.pk, emp.name
        wanted[emp].add(day)
        checked.append((row, day, moment, emp))
    if not checked:
        return rows

    plans = _plans(wanted)
    all_days = [d for days in wanted.values() for d in days]
    closed = closed_ranges(
        {e.attendance_group_id for e in wanted if e.attendance_group_id},
        min(all_days),
        max(all_days),
    )
    windows_of: dict[int, dict[str, engine.SlotWindow]] = {}
    segments_of: dict[int, int] = {}
    seen: dict[tuple[int, date, str], int] = {}
    local_now: dict[ZoneInfo, date] = {}
    candidates: list[Row] = []
    checking(len(body) - len(checked))
    for index, (row, day, moment, emp) in enumerate(checked, start=1):
        if index % PROGRESS_EVERY == 0:
            checking(len(body) - len(checked) + index)
        key, tz = row.slot_key, emp.tz
        plan = plans.get((emp.pk, day))
        windows: dict[str, engine.SlotWindow] | None = {}
        if plan is not None:
            windows = windows_of.get(id(plan))
            if windows is None:
                windows = windows_of[id(plan)] = {w.key: w for w in engine.slot_windows(plan)}
                segments_of[id(plan)] = len({w.segment for w in windows.values()}) or 1
        segments = segments_of.get(id(plan), 1)
        row.slot_label = slot_label(key, segments)
        if not windows:
            row.refuse(*_refusal(SLOT_NOT_FOUND, "no_shift", day=day.isoformat()))
            continue
        window = windows.get(key)
        if window is None:
            row.refuse(*_refusal(SLOT_NOT_FOUND, slot=row.slot_label, day=day.isoformat()))
            continue
        if isinstance(moment, datetime):
            at = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
        else:
            at = _in_window(window, moment)
        row.at = at
        row.local_time = _clock(at, tz, day)
        today = local_now.get(tz) or local_now.setdefault(tz, now.astimezone(tz).date())
        if day > today or at > now:
            row.refuse(*_refusal(FUTURE_TIME, time=f"{day.isoformat()} {row.local_time}"))
            continue
        if not window.contains(at):
            row.refuse(
                *_refusal(
                    TIME_OUTSIDE_SLOT_WINDOW,
                    time=row.local_time,
                    slot=row.slot_label,
                    start=_clock(window.start, tz, day),
                    end=_clock(window.end, tz, day),
                )
            )
            continue
        nearby = {
            d: plans[(emp.pk, d)]
            for d in (day - timedelta(days=1), day, day + timedelta(days=1))
            if (emp.pk, d) in plans
        }
        if engine.attendance_date_for(at, nearby) != day:
            row.refuse(
                *_refusal(TIME_OUTSIDE_SLOT_WINDOW, "other_day", time=row.local_time, day=day)
            )
            continue
        local_day = at.astimezone(tz).date()
        if emp.hire_date and local_day < emp.hire_date:
            row.refuse(*_refusal(BEFORE_HIRE_DATE, day=day, hire=emp.hire_date))
            continue
        if emp.leave_date and local_day > emp.leave_date:
            row.refuse(*_refusal(AFTER_LEAVE_DATE, day=day, leave=emp.leave_date))
            continue
        period = next(
            (r for r in closed.get(emp.attendance_group_id, ()) if r[0] <= day <= r[1]), None
        )
        if period is not None:
            row.refuse(*_refusal(PERIOD_CLOSED, start=period[0], end=period[1]))
            continue
        first = seen.setdefault((emp.pk, day, key), row.line)
        if first != row.line:
            row.refuse(*_refusal(DUPLICATE_ROW, line=first))
            continue
        row.dedup_key = dedup_key(emp.pk, day, key, at)
        candidates.append(row)

    stored = _existing_keys([r.dedup_key for r in candidates])
    fresh = []
    for row in candidates:
        if row.dedup_key in stored:
            row.status, row.code = DUPLICATE, ALREADY_IMPORTED
            row.message = str(MESSAGES[ALREADY_IMPORTED])
        else:
            fresh.append(row)
    zones = {emp.pk: emp.tz for _r, _d, _m, emp in checked}
    punches = _valid_punches(fresh)
    for row in fresh:
        employee_id, day, _at = row.accepted()
        plan = plans[(employee_id, day)]
        window = windows_of[id(plan)][row.slot_key]
        inside = next((t for t in punches.get(employee_id, ()) if window.contains(t)), None)
        if inside is not None:
            row.refuse(
                *_refusal(
                    SLOT_ALREADY_PUNCHED,
                    slot=row.slot_label,
                    day=day.isoformat(),
                    time=_clock(inside, zones[employee_id], day),
                )
            )
    checking(len(body))
    return rows


def _in_window(window: engine.SlotWindow, clock: clock_time) -> datetime:
    """The moment with wall-clock time `clock` that lies in the slot's window (the day
    before, the day itself or the day after); else the one nearest the expected time."""
    tz = window.expected.tzinfo
    base = window.expected.date()
    candidates = [
        datetime.combine(base + timedelta(days=offset), clock, tzinfo=tz) for offset in (-1, 0, 1)
    ]
    inside = [c for c in candidates if window.contains(c)]
    return min(inside or candidates, key=lambda c: abs(c - window.expected))


# --------------------------------------------------------------------------- services


def import_preview(
    *,
    actor: Any,
    data: bytes,
    filename: str = "",
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Preview:
    """The dry run: every row with its status and reason; nothing is written.

    `progress(phase, done, total)` hears how far it got (a background job shows it)."""
    _require(actor)
    now = now or timezone.now()
    table = read_table(data, progress, filename)
    if not table:
        raise file_error(EMPTY_FILE)
    rows = validate(table, now=now, progress=progress)
    return Preview(sha256=sha256_of(data), filename=(filename or "")[-200:], rows=rows)


def import_commit(
    *,
    actor: Any,
    data: bytes,
    filename: str = "",
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Result:
    """Validate again and store every ``ok`` row, all or nothing (one transaction)."""
    now = now or timezone.now()
    with transaction.atomic():
        preview = import_preview(
            actor=actor, data=data, filename=filename, now=now, progress=progress
        )
        refused = [r for r in preview.rows if r.status == REFUSED]
        if refused:
            raise DomainError(
                IMPORT_REFUSED,
                MESSAGES[IMPORT_REFUSED] % {"count": len(refused)},
                details=[r.as_dict() for r in refused],
            )
        ok = [r for r in preview.rows if r.status == OK]
        accepted = [r.accepted() for r in ok]
        if progress is not None:
            progress(WRITING, 0, len(ok))
        result = record_punches(
            [
                PunchInput(
                    at=at,
                    source=PunchSource.HISTORY,
                    employee_id=employee_id,
                    remark=(f"导入补卡 {r.reference}: {r.reason}" if r.reference else r.reason)[
                        :500
                    ],
                    raw=f"{preview.sha256[:16]}:{r.line}",
                    dedup_key=r.dedup_key,
                )
                for r, (employee_id, _day, at) in zip(ok, accepted, strict=True)
            ],
            actor=actor,
            now=now,
            audit_action=PUNCH_AUDIT_ACTION,
            audit_extra={"sha256": preview.sha256},
        )
        if result.rejected:
            first = result.rejected[0]
            line = ok[first.index].line
            raise DomainError(
                first.code,
                f"{line}: {first.message}",
                details=[
                    {"line": ok[r.index].line, "code": r.code, "message": r.message}
                    for r in result.rejected
                ],
            )
        outcome = Result(
            sha256=preview.sha256,
            filename=preview.filename,
            rows=len(preview.rows),
            new=result.new,
            duplicate=preview.duplicate + result.duplicate,
            punch_ids=list(result.punch_ids),
        )
        days = [day for _e, day, _at in accepted]
        record(
            AUDIT_ACTION,
            object_type="corrections.import",
            object_id=preview.sha256[:64],
            actor=actor,
            after={
                "rows": outcome.rows,
                "new": outcome.new,
                "duplicate": outcome.duplicate,
                "refused": 0,
            },
            extra={
                "sha256": preview.sha256,
                "filename": preview.filename,
                "employees": len({r.employee_id for r in ok}),
                "first_day": min(days) if days else None,
                "last_day": max(days) if days else None,
                "counts_against_quota": False,
            },
        )
    return outcome


# --------------------------------------------------------------------------- background

JOB_PREVIEW = "corrections.import.preview"
JOB_COMMIT = "corrections.import.commit"
SHOWN_ROWS = 5000  # rows kept for the preview page (every refused row is kept as well)
EXPIRED = "upload_expired"


def _row_view(row: Row) -> dict[str, Any]:
    """A row as the preview page shows it (JSON, kept on the job)."""
    return {
        "line": row.line,
        "status": row.status,
        "code": row.code,
        "message": row.message,
        "employee_no": row.employee_no,
        "name": row.name,
        "day": row.day.isoformat() if row.day else row.raw.get("date", ""),
        "slot_label": row.slot_label or row.raw.get("slot", ""),
        "local_time": row.local_time or row.raw.get("time", ""),
    }


def preview_view(preview: Preview) -> dict[str, Any]:
    return {
        "sha256": preview.sha256,
        "filename": preview.filename,
        "counts": preview.counts(),
        "can_commit": preview.can_commit,
        "rows": [_row_view(r) for r in preview.rows[:SHOWN_ROWS]],
        "refused_rows": [_row_view(r) for r in preview.rows if r.status == REFUSED],
        "truncated": len(preview.rows) > SHOWN_ROWS,
    }


def _job_data(job: Any) -> bytes:
    data = uploads.load(job.owner_id, job.params.get("sha256", ""))
    if data is None:
        raise DomainError(EXPIRED, _("The uploaded file has expired; upload it again."))
    return data


def run_job(job: Any, progress: Progress) -> dict[str, Any]:
    """The work of a background import job: the dry run or the commit of a stashed file.

    A refused commit ends the job with the refusal; its details list every refused row."""
    filename = job.params.get("filename", "")
    data = _job_data(job)
    if job.kind == JOB_PREVIEW:
        preview = import_preview(actor=job.owner, data=data, filename=filename, progress=progress)
        return preview_view(preview)
    if job.kind == JOB_COMMIT:
        result = import_commit(actor=job.owner, data=data, filename=filename, progress=progress)
        uploads.discard(job.owner_id, result.sha256)
        return {
            "sha256": result.sha256,
            "filename": result.filename,
            "rows": result.rows,
            "new": result.new,
            "duplicate": result.duplicate,
        }
    raise ValueError(f"not an import job: {job.kind}")


# --------------------------------------------------------------------------- templates

TEMPLATE_HEADER = [f"{zh} {en}" for zh, en in COLUMNS.values()]
TEMPLATE_EXAMPLES = [
    ["1002", "2026-11-23", "out1", "", "18:05", "考勤机故障，主管确认", "OA-2026-118"],
    ["1003", "2026-11-24", "上班", "1", "08:58", "忘记打卡（纸质记录）", ""],
    ["1003", "2026-11-24", "下班", "", "2026-11-24 18:30", "设备断电", ""],
]
HELP_ROWS = [
    ("工号 employee_no", _("yes"), _("The employee number.")),
    ("日期 date", _("yes"), _("The attendance date, YYYY-MM-DD.")),
    (
        "卡点 slot",
        _("yes"),
        _("in1, out1, in2 … or 上班/下班 (check-in/check-out), optionally with a number."),
    ),
    ("班段 segment", _("no"), _("1–3: which segment of a split shift (default 1).")),
    (
        "时间 time",
        _("yes"),
        _("HH:MM (placed in the slot's punch window), or YYYY-MM-DD HH:MM."),
    ),
    ("原因 reason", _("yes"), _("Why the punch is added (at least 2 characters).")),
    ("外部编号 reference", _("no"), _("An id from the old system or the paper record.")),
]


def template_csv() -> bytes:
    """The CSV template: UTF-8 with a BOM so that Excel shows the Chinese headers."""
    return spreadsheets.csv_bytes([TEMPLATE_HEADER])


def template_xlsx() -> bytes:
    """The XLSX template: an empty import sheet (text columns, so 0012 stays 0012) and a
    help sheet with the columns and examples."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "导入 Import"
    sheet.append(safe_row(TEMPLATE_HEADER))
    for index, width in enumerate((14, 14, 10, 10, 20, 36, 18), start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = width
        sheet.column_dimensions[letter].number_format = "@"
        sheet.cell(row=1, column=index).font = Font(bold=True)
    sheet.freeze_panes = "A2"
    help_sheet = book.create_sheet("说明 Help")
    help_sheet.append(safe_row([str(_("Column")), str(_("Required")), str(_("What to enter"))]))
    for name, required, text in HELP_ROWS:
        help_sheet.append(safe_row([name, str(required), str(text)]))
    help_sheet.append([])
    help_sheet.append(safe_row([str(_("Examples"))]))
    help_sheet.append(safe_row(TEMPLATE_HEADER))
    for example in TEMPLATE_EXAMPLES:
        help_sheet.append(safe_row(example))
    for letter, width in (("A", 20), ("B", 14), ("C", 70), ("D", 10), ("E", 20), ("F", 30)):
        help_sheet.column_dimensions[letter].width = width
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
