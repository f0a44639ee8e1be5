"""Monthly summaries, department totals and the per-day detail, from stored AttendanceDay rows.

Reads only (a selector module): the figures are aggregated by the database in one query
over ``AttendanceDay`` plus one query for the employees, so a month of 10,000 employees
(310,000 rows) is summed in well under a second and the number of queries does not grow
with the number of employees. The definitions of every figure are in ``monthly_summary``
and in docs/reports.md.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    TextField,
)
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ztk.attendance.explain import render_notes
from ztk.attendance.models import AttendanceDay
from ztk.core.errors import DomainError
from ztk.core.parse import parse_month
from ztk.engine.periods import period_of, period_starting_in
from ztk.org.models import AttendanceGroup, Company, Department, Employee
from ztk.org.selectors import period_start_day
from ztk.org.zones import ZoneNames
from ztk.scheduling.models import Shift

from . import columns as C
from .leave_columns import leave_by_type, leave_type_columns

BAD_PERIOD = "bad_period"
EXEMPT_KINDS = ("leave", "outing", "trip")


# --- periods -------------------------------------------------------------------------------


def company_settings() -> tuple[str, int]:
    """(company name, period start day); defaults when no company row exists yet."""
    name = Company.objects.order_by("pk").values_list("name", flat=True).first()
    return (name or "", period_start_day())


def parse_period(value: str | None, *, start_day: int | None = None) -> tuple[date, date]:
    """'2026-10' → the period starting in October 2026 (Company.period_start_day).

    Empty → the period containing today (in the default time zone).
    """
    if start_day is None:
        start_day = period_start_day()
    if not value:
        return period_of(timezone.localdate(), start_day)
    month = parse_month(value)
    if month is None:
        raise DomainError(BAD_PERIOD, _("Give the period as YYYY-MM, e.g. 2026-10."))
    return period_starting_in(*month, start_day)


def period_label(start: date) -> str:
    return f"{start.year:04d}-{start.month:02d}"


# --- the monthly summary -------------------------------------------------------------------


@dataclass(slots=True)
class EmployeeSummary:
    """One employee's month. Field names are the machine keys of the fixed columns
    (``columns.IDENTITY``, ``FIXED_FIGURES``); the leave types' figures are in ``leave``."""

    employee_id: int
    employee_no: str
    name: str
    department_code: str
    department: str
    group_code: str
    group: str
    required_days: int = 0
    attended_days: float = 0.0
    late_count: int = 0
    late_minutes: int = 0
    serious_late_count: int = 0
    early_count: int = 0
    early_minutes: int = 0
    missing_in_count: int = 0
    missing_out_count: int = 0
    absent_days: float = 0.0
    corrected_count: int = 0
    manual_count: int = 0
    leave_days: int = 0
    leave_hours: float = 0.0
    outing_hours: float = 0.0
    trip_hours: float = 0.0
    worked_hours: float = 0.0
    overtime_weekday_hours: float = 0.0
    overtime_rest_hours: float = 0.0
    overtime_holiday_hours: float = 0.0
    rest_days: int = 0
    holiday_days: int = 0
    provisional_days: int = 0
    days: int = 0  # stored days in the period (any kind)
    # 按假别: {column key: amount} of the leave types and outing / trip days (the keys of
    # ``ReportColumns.by_type_keys``; a key not here is 0).
    leave: dict[str, float] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        if key in _FIELDS:
            return getattr(self, key)
        return self.leave.get(key, 0.0)

    def as_dict(self, columns: C.ReportColumns) -> dict[str, Any]:
        out: dict[str, Any] = {
            "employee_no": self.employee_no,
            "name": self.name,
            "department": self.department,
            "department_code": self.department_code,
            "group": self.group,
            "group_code": self.group_code,
        }
        for column in columns.figures:
            out[column.key] = self.value(column.key)
        return out


_FIELDS = frozenset(f.name for f in fields(EmployeeSummary) if f.name != "leave")


class MonthlySummary(list[EmployeeSummary]):
    """The rows of ``monthly_summary`` and the report's ``columns`` (which leave types have
    a column depends on the period)."""

    def __init__(
        self, rows: Iterable[EmployeeSummary] = (), columns: C.ReportColumns | None = None
    ) -> None:
        super().__init__(rows)
        self.columns = columns or C.ReportColumns()


def columns_of(summaries: Iterable[EmployeeSummary]) -> C.ReportColumns:
    """The columns of a ``monthly_summary`` result (a plain list: no leave type's column)."""
    return getattr(summaries, "columns", None) or C.ReportColumns()


def _department_ids(department: Department) -> list[int]:
    """The department and every department under it (one query for the whole tree)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Department.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    out, frontier = {department.pk}, [department.pk]
    while frontier:
        nxt = [c for p in frontier for c in children.get(p, ()) if c not in out]
        out.update(nxt)
        frontier = nxt
    return sorted(out)


def _employee_filter(
    *,
    group: AttendanceGroup | None,
    department: Department | None,
    employees: Iterable[Employee] | QuerySet[Employee] | None,
) -> QuerySet[Employee]:
    """The employees asked for (all of them when nothing is given)."""
    qs = Employee.objects.all()
    if group is not None:
        qs = qs.filter(attendance_group=group)
    if department is not None:
        qs = qs.filter(department_id__in=_department_ids(department))
    if employees is not None:
        if isinstance(employees, QuerySet):
            qs = qs.filter(pk__in=employees.values("pk"))
        else:
            qs = qs.filter(pk__in=[e.pk for e in employees])
    return qs


class JsonInt(Func):
    """The whole number under ``key`` of a JSON object column (NULL when absent).

    Django's key transform is three JSON calls a row on SQLite (a CASE over JSON_TYPE and
    JSON_EXTRACT, for JSON true/false/null); the exempt minutes are always numbers, so one
    JSON_EXTRACT does: the monthly aggregate reads 310,000 rows three times over."""

    output_field = IntegerField()

    def __init__(self, column: str, key: str) -> None:
        if not key.isidentifier():
            raise ValueError(key)
        self.key = key
        super().__init__(F(column))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) ->> %s)::integer", (*params, self.key)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(JSON_EXTRACT({sql}, %s) AS INTEGER)", (*params, f"$.{self.key}")


def _hours(minutes: int | None) -> float:
    return round((minutes or 0) / 60, 2)


def monthly_summary(
    *,
    period_start: date,
    period_end: date,
    group: AttendanceGroup | None = None,
    department: Department | None = None,
    employees: Iterable[Employee] | QuerySet[Employee] | None = None,
) -> MonthlySummary:
    """One row per employee for the period, ordered by employee number, and the columns.

    Who is listed: every employee (of the group / department tree / list given) who has a
    stored day in the period, and every active employee with an attendance group who was
    employed during it (hire and leave dates), even with no stored day yet (all zeros).
    The group and department are the employee's current ones.

    Figures, summed over the stored AttendanceDay rows of the period:

    - 应出勤天数 ``required_days``: days planned as work (kind ``work``), including days
      fully covered by leave. Rest days and public holidays are not counted.
    - 全天请假天数 ``leave_days``: work days whose every slot is exempt (status ``leave``)
      by leave only. A day fully covered by an outing (外出) or a business trip (出差) is
      work done elsewhere: it is not a leave day.
    - 实际出勤天数 ``attended_days``: required_days − leave_days − 旷工天数. A day partly on
      leave or partly late still counts as one attended day; half-day absences (late beyond
      ``late_as_half_day_absent``) take off 0.5.
    - 迟到次数/分钟, 严重迟到次数, 早退次数/分钟: the engine's per-slot counts and minutes.
    - 上班缺卡次数 / 下班缺卡次数: check-in / check-out slots judged missing (including a
      punch counted as missing because it was too late / too early).
    - 旷工天数 ``absent_days``: sum of the days' absence (1 for an absent day, 0.5 per
      half-day absence, a day at most 1).
    - 补卡次数 ``corrected_count``: slots filled by an approved correction punch; 手动补录次数
      ``manual_count``: slots filled by an HR manual punch (counted separately).
    - 请假 / 外出 / 出差 hours: scheduled minutes covered by each kind of approved exemption
      (``exempt_minutes``), in hours with two decimals.
    - 出勤工时 ``worked_hours``: worked minutes in hours.
    - 未定稿天数 ``provisional_days``: days still provisional (not finalised): payroll should
      wait until it is 0.
    - 工作日 / 休息日 / 节假日加班 hours: the days' counted overtime minutes
      (``overtime_counted_minutes``: approved, or all computed overtime when the group needs
      no request; docs/overtime.md) by the day's stored overtime category (the engine's
      ``overtime_kind``: a holiday that is not statutory counts as a rest day), in hours.

    - 按假别 (``leave_columns``): approved leave per leave type (HR's active types and the
      inactive ones used in the period), outings and trips asked in days.

    Four queries: the employees, one aggregate over AttendanceDay grouped by employee, the
    leave types and the approved absence requests of the period.
    """
    people = _employee_filter(group=group, department=department, employees=employees)
    in_period = AttendanceDay.objects.filter(day__gte=period_start, day__lte=period_end)
    employed = (
        Q(active=True, attendance_group__isnull=False)
        & (Q(hire_date__isnull=True) | Q(hire_date__lte=period_end))
        & (Q(leave_date__isnull=True) | Q(leave_date__gte=period_start))
    )
    has_days = Exists(in_period.filter(employee_id=OuterRef("pk")))
    rows = (
        people.filter(has_days | employed)
        .order_by("employee_no")
        .values_list(
            "pk",
            "employee_no",
            "name",
            "department__code",
            "department__name",
            "attendance_group__code",
            "attendance_group__name",
        )
    )
    types = leave_type_columns(period_start, period_end)
    out = MonthlySummary(
        (
            EmployeeSummary(pk, no, name, d_code or "", d_name or "", g_code or "", g_name or "")
            for pk, no, name, d_code, d_name, g_code, g_name in rows
        ),
        C.report_columns(tuple(types.values())),
    )
    if not out:
        return out

    # Always through the employee subquery: SQLite then seeks the (employee, day) index
    # once per employee and groups without a temporary B-tree (3× faster than the day
    # index), and a table holding years of days costs no more than one holding a month.
    days = in_period.filter(employee_id__in=people.values("pk"))
    work = Q(kind="work")
    # A day whose every slot is exempt by leave; days fully covered by an outing or a
    # business trip are work done elsewhere and count as attended.
    full_leave = (
        Q(status="leave")
        & ~Q(exempt_minutes__has_key="outing")
        & ~Q(exempt_minutes__has_key="trip")
    )
    exempt = {f"{kind}_minutes": Sum(JsonInt("exempt_minutes", kind)) for kind in EXEMPT_KINDS}
    aggregates = (
        days.values("employee_id")
        .order_by()
        .annotate(
            n=Count("id"),
            required_days=Count("id", filter=work),
            leave_days=Count("id", filter=work & full_leave),
            rest_days=Count("id", filter=Q(kind="rest")),
            holiday_days=Count("id", filter=Q(kind="holiday")),
            provisional_days=Count("id", filter=Q(provisional=True, finalised=False)),
            absent=Sum("absent_days"),
            worked=Sum("worked_minutes"),
            late_count_=Sum("late_count"),
            late_minutes_=Sum("late_minutes"),
            serious_late_count_=Sum("serious_late_count"),
            early_count_=Sum("early_count"),
            early_minutes_=Sum("early_minutes"),
            missing_in_count_=Sum("missing_in_count"),
            missing_out_count_=Sum("missing_out_count"),
            corrected_count_=Sum("corrected_count"),
            manual_count_=Sum("manual_count"),
            ot_weekday=Sum("overtime_counted_minutes", filter=Q(overtime_kind="weekday")),
            ot_rest=Sum("overtime_counted_minutes", filter=Q(overtime_kind="rest")),
            ot_holiday=Sum("overtime_counted_minutes", filter=Q(overtime_kind="holiday")),
            **exempt,
        )
    )
    by_id = {s.employee_id: s for s in out}
    for a in aggregates:
        s = by_id.get(a["employee_id"])
        if s is None:
            continue
        absent = Decimal(a["absent"] or 0)
        s.days = a["n"]
        s.required_days = a["required_days"]
        s.leave_days = a["leave_days"]
        s.rest_days = a["rest_days"]
        s.holiday_days = a["holiday_days"]
        s.provisional_days = a["provisional_days"]
        s.absent_days = float(round(absent, 1))
        s.attended_days = float(max(Decimal(0), s.required_days - s.leave_days - absent))
        s.worked_hours = _hours(a["worked"])
        s.late_count = a["late_count_"] or 0
        s.late_minutes = a["late_minutes_"] or 0
        s.serious_late_count = a["serious_late_count_"] or 0
        s.early_count = a["early_count_"] or 0
        s.early_minutes = a["early_minutes_"] or 0
        s.missing_in_count = a["missing_in_count_"] or 0
        s.missing_out_count = a["missing_out_count_"] or 0
        s.corrected_count = a["corrected_count_"] or 0
        s.manual_count = a["manual_count_"] or 0
        s.leave_hours = _hours(a["leave_minutes"])
        s.outing_hours = _hours(a["outing_minutes"])
        s.trip_hours = _hours(a["trip_minutes"])
        s.overtime_weekday_hours = _hours(a["ot_weekday"])
        s.overtime_rest_hours = _hours(a["ot_rest"])
        s.overtime_holiday_hours = _hours(a["ot_holiday"])
    leave = leave_by_type(people.values("pk"), period_start, period_end, types)
    for employee_id, figures in leave.items():
        s = by_id.get(employee_id)
        if s is not None:
            s.leave = {key: round(value, 2) for key, value in figures.items()}
    return out


def is_complete(summaries: Iterable[EmployeeSummary], period_end: date) -> bool:
    """Final for payroll: the period is over and no day in it is provisional any more."""
    if timezone.localdate() <= period_end:
        return False
    return all(s.provisional_days == 0 for s in summaries)


# --- department totals ---------------------------------------------------------------------


@dataclass(slots=True)
class DepartmentTotal:
    department_code: str
    department: str
    employees: int = 0
    values: dict[str, float | int] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        if key in ("department_code", "department", "employees"):
            return getattr(self, key)
        return self.values.get(key, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "department_code": self.department_code,
            "department": self.department,
            "employees": self.employees,
            **self.values,
        }


def _total(
    code: str, name: str, rows: list[EmployeeSummary], columns: C.ReportColumns
) -> DepartmentTotal:
    """The rows' sums (in the rows' order) of every totalled figure."""
    total = DepartmentTotal(code, name, employees=len(rows))
    for key in columns.total_keys:
        if key in _FIELDS:
            total.values[key] = sum(map(attrgetter(key), rows))
        else:
            total.values[key] = sum(r.leave.get(key, 0.0) for r in rows)
    return _tidy(total, columns)


def _tidy(total: DepartmentTotal, columns: C.ReportColumns) -> DepartmentTotal:
    """Sums of floats drift (0.1 + 0.2): round days to 1 and hours to 2 decimals."""
    for column in columns.figures:
        value = total.values.get(column.key, 0)
        if column.kind == "days":
            total.values[column.key] = round(float(value), 1)
        elif column.kind == "hours":
            total.values[column.key] = round(float(value), 2)
        else:
            total.values[column.key] = value
    return total


def department_totals(
    summaries: Iterable[EmployeeSummary],
    *,
    lang: str | None = None,
    columns: C.ReportColumns | None = None,
) -> tuple[list[DepartmentTotal], DepartmentTotal]:
    """(one total per department ordered by department code, the grand total).

    ``columns``: the report's (default: those of the ``monthly_summary`` result given)."""
    lang = C.normalise_lang(lang or translation.get_language())
    columns = columns or columns_of(summaries)
    rows = list(summaries)
    by_code: dict[str, list[EmployeeSummary]] = {}
    for s in rows:
        by_code.setdefault(s.department_code, []).append(s)
    departments = [
        _total(
            code,
            by_code[code][0].department or C.pick(C.NO_DEPARTMENT, lang),
            by_code[code],
            columns,
        )
        for code in sorted(by_code)
    ]
    return departments, _total("", C.pick(C.TOTAL_LABEL, lang), rows, columns)


# --- the per-day detail --------------------------------------------------------------------


@dataclass(slots=True)
class DetailRow:
    employee_no: str
    name: str
    department: str
    date: date
    weekday: str
    shift: str
    status: str  # in words, with "(provisional)" when not final
    status_key: str
    provisional: bool
    slots: dict[str, str]  # slot key (in1, out1, …) → "09:05 迟到5分钟"
    worked_minutes: int
    explanation: str
    segments: int

    def value(self, key: str) -> Any:
        if key in ("employee_no", "name", "department", "date", "weekday", "shift"):
            return getattr(self, key)
        if key in ("status", "worked_minutes", "explanation"):
            return getattr(self, key)
        return self.slots.get(key, "")


def _slot_text(slot: dict[str, Any], exempt_kind: str | None, tz: ZoneInfo, lang: str) -> str:
    status = slot.get("status") or ""
    if status == "exempt":
        return C.word(C.EXEMPTION if exempt_kind else C.SLOT_STATUS, exempt_kind or status, lang)
    text = C.word(C.SLOT_STATUS, status, lang)
    source = slot.get("punch_source") or ""
    if status == "corrected" and source in C.CORRECTION_SOURCE:
        origin = C.word(C.CORRECTION_SOURCE, source, lang)
        text = f"{text}({origin})" if lang.startswith("zh") else f"{text} ({origin})"
    if "{m}" in text:
        text = text.replace("{m}", str(slot.get("minutes") or 0))
    punch_at = slot.get("punch_at")
    if punch_at and status != "pending":
        local = datetime.fromisoformat(punch_at).astimezone(tz)
        return f"{local.hour:02d}:{local.minute:02d} {text}"
    return text


def _explain(notes_json: str, segments: int, lang: str) -> tuple[str, dict[str, str]]:
    """(the explanation in `lang`, slot key → exemption kind) of a day's stored notes."""
    notes = json.loads(notes_json) if notes_json else []
    exempt_kinds = {
        n.get("slot"): (n.get("params") or {}).get("kind")
        for n in notes
        if n.get("code") == "exempt"
    }
    shown = [n for n in notes if n.get("code") != "provisional"]
    separator = "；" if lang == C.ZH else "; "
    return (separator.join(render_notes(shown, segments)) if shown else ""), exempt_kinds


def daily_detail(
    *,
    period_start: date,
    period_end: date,
    group: AttendanceGroup | None = None,
    department: Department | None = None,
    employees: Iterable[Employee] | QuerySet[Employee] | None = None,
    lang: str | None = None,
) -> list[DetailRow]:
    """Every stored employee-day of the period in words, ordered by employee number and date.

    Slot cells read "time status" (``09:05 迟到5分钟``, ``缺卡``, ``请假``) in `lang`; the
    explanation is the engine's notes rendered in `lang` (the "provisional" note is left
    out: the status cell already says 未定稿). Two queries (shift names, days).

    Speed (310,000 rows for 10,000 employees): the JSON columns are read as text, and a
    day's notes are rendered once per distinct notes text (most days share theirs).
    """
    lang = C.normalise_lang(lang or translation.get_language())
    people = _employee_filter(group=group, department=department, employees=employees)
    shift_names = dict(Shift.objects.values_list("code", "name"))
    rows = (
        AttendanceDay.objects.filter(
            day__gte=period_start, day__lte=period_end, employee_id__in=people.values("pk")
        )
        .annotate(slots_text=Cast("slots", TextField()), notes_text=Cast("notes", TextField()))
        .order_by("employee__employee_no", "day")
        .values_list(
            "employee__employee_no",
            "employee__name",
            "employee__department__name",
            "employee__attendance_group__time_zone",
            "day",
            "shift_code",
            "status",
            "provisional",
            "finalised",
            "worked_minutes",
            "slots_text",
            "notes_text",
        )
    )
    zones: dict[str | None, ZoneInfo] = {}
    zone_names = ZoneNames()
    weekdays = C.WEEKDAYS[lang]
    provisional_word = C.pick(C.PROVISIONAL, lang)
    status_words = {key: C.word(C.DAY_STATUS, key, lang) for key in C.DAY_STATUS}
    explained: dict[tuple[str, int], tuple[str, dict[str, str]]] = {}
    loads = json.loads
    out: list[DetailRow] = []
    append = out.append
    with translation.override(lang):
        for (
            no,
            name,
            dept,
            tz_name,
            day,
            shift_code,
            status,
            provisional,
            finalised,
            worked,
            slots_text,
            notes_text,
        ) in rows.iterator(chunk_size=5000):
            tz = zones.get(tz_name)
            if tz is None:
                tz = zones[tz_name] = ZoneInfo(zone_names(tz_name))
            slots = loads(slots_text) if slots_text and slots_text != "[]" else []
            segments = len({s.get("segment") for s in slots}) or 1
            key = (notes_text or "", segments)
            explanation = explained.get(key)
            if explanation is None:
                explanation = explained[key] = _explain(notes_text, segments, lang)
            text, exempt_kinds = explanation
            pending = bool(provisional and not finalised)
            word = status_words.get(status, status)
            append(
                DetailRow(
                    employee_no=no,
                    name=name,
                    department=dept or "",
                    date=day,
                    weekday=weekdays[day.weekday()],
                    shift=shift_names.get(shift_code, shift_code) if shift_code else "",
                    status=f"{word} ({provisional_word})" if pending else word,
                    status_key=status,
                    provisional=pending,
                    slots={
                        s["key"]: _slot_text(s, exempt_kinds.get(s["key"]), tz, lang) for s in slots
                    },
                    worked_minutes=worked,
                    explanation=text,
                    segments=segments,
                )
            )
    return out


def max_segments(rows: Iterable[DetailRow]) -> int:
    return max((r.segments for r in rows), default=1)
