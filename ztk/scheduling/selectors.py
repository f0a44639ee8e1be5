"""Reads for schedule pages and the API (writes are in services.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from ztk.org.models import Employee

from . import calendar_data
from .hooks import ScheduleChange
from .models import (
    PATTERN,
    REST,
    CalendarYear,
    Exemption,
    RosterEntry,
    Shift,
    ShiftSegment,
    WeeklyPattern,
    WorkCalendarDay,
)
from .plans import build_plans

CALENDAR_FALLBACK = "calendar_fallback"
# From this month on, HR is also warned about next year (the State Council usually
# publishes the next year's arrangement in November or December).
NEXT_YEAR_WARNING_MONTH = 11


@dataclass(frozen=True)
class CalendarWarning:
    """A visible notice for HR pages; ``message`` is a lazy translation."""

    year: int
    code: str
    message: Any

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "code": self.code, "message": force_str(self.message)}


def calendar_warnings(years: Iterable[int]) -> list[CalendarWarning]:
    """A warning for each year without an official arrangement (seeded or imported).

    Such a year has no holidays or make-up workdays, so plans follow the weekly patterns
    (normally Monday–Friday) until HR imports the arrangement or enters days by hand.
    One query.
    """
    wanted = sorted(set(years))
    if not wanted:
        return []
    official = set(
        CalendarYear.objects.filter(year__in=wanted)
        .exclude(status=CalendarYear.Status.FALLBACK)
        .values_list("year", flat=True)
    )
    return [
        CalendarWarning(
            year=year,
            code=CALENDAR_FALLBACK,
            message=_(
                "%(year)d has no official holiday arrangement yet: days follow the weekly "
                "pattern (Monday–Friday). Import the arrangement or enter the holidays and "
                "make-up workdays by hand on the holiday calendar page."
            )
            % {"year": year},
        )
        for year in wanted
        if year not in official
    ]


def current_calendar_warnings(today: date | None = None) -> list[CalendarWarning]:
    """Warnings for the HR pages now: this year, and next year from November on."""
    today = today or timezone.localdate()
    years = [today.year]
    if today.month >= NEXT_YEAR_WARNING_MONTH:
        years.append(today.year + 1)
    return calendar_warnings(years)


@dataclass(frozen=True)
class CalendarCell:
    day: date | None  # None: padding before the 1st or after the last day of the month
    entry: WorkCalendarDay | None = None

    @property
    def weekend(self) -> bool:
        return self.day is not None and self.day.weekday() >= 5


@dataclass(frozen=True)
class CalendarMonth:
    month: int
    weeks: list[list[CalendarCell]]  # Monday first


@dataclass(frozen=True)
class HolidayYear:
    """One year of the work calendar as the settings page and the API show it."""

    year: int
    status: str  # CalendarYear.Status; "fallback" when the year was never set up
    note: str
    package_covers: bool  # the installed chinese-calendar has data for the year
    package_range: tuple[int, int]
    days: list[WorkCalendarDay]

    @property
    def has_official_data(self) -> bool:
        return self.status != CalendarYear.Status.FALLBACK

    @property
    def status_label(self) -> Any:
        return CalendarYear.Status(self.status).label

    @property
    def holidays(self) -> int:
        return sum(1 for d in self.days if d.kind == WorkCalendarDay.Kind.HOLIDAY)

    @property
    def workdays(self) -> int:
        return sum(1 for d in self.days if d.kind == WorkCalendarDay.Kind.WORKDAY)

    @property
    def statutory(self) -> int:
        """Holidays that are festival days of the law (法定节假日: overtime 3×)."""
        return sum(1 for d in self.days if d.statutory)

    def months(self) -> list[CalendarMonth]:
        by_date = {d.date: d for d in self.days}
        months = []
        for month in range(1, 13):
            first = date(self.year, month, 1)
            following = date(self.year + (month == 12), month % 12 + 1, 1)
            cells = [CalendarCell(None)] * first.weekday()
            day = first
            while day < following:
                cells.append(CalendarCell(day, by_date.get(day)))
                day += timedelta(days=1)
            cells += [CalendarCell(None)] * (-len(cells) % 7)
            months.append(CalendarMonth(month, [cells[i : i + 7] for i in range(0, len(cells), 7)]))
        return months


def holiday_year(year: int) -> HolidayYear:
    """The year's holidays and make-up workdays with where they came from (two queries)."""
    row = CalendarYear.objects.filter(year=year).first()
    first, last = calendar_data.package_years()
    days = list(
        WorkCalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
    )
    return HolidayYear(
        year=year,
        status=row.status if row else CalendarYear.Status.FALLBACK,
        note=row.note if row else "",
        package_covers=first <= year <= last,
        package_range=(first, last),
        days=days,
    )


def working_days_between(start: date, end: date) -> list[date]:
    """Working days in [start, end] by the company work calendar: Monday–Friday, minus
    statutory holidays, plus make-up working days (调休)."""
    if end < start:
        return []
    marked = dict(
        WorkCalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "kind")
    )
    days = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        kind = marked.get(day)
        if kind == WorkCalendarDay.Kind.WORKDAY or (
            kind != WorkCalendarDay.Kind.HOLIDAY and day.weekday() < 5
        ):
            days.append(day)
    return days


def calendar_days(start: date, end: date) -> QuerySet[WorkCalendarDay]:
    return WorkCalendarDay.objects.filter(date__gte=start, date__lte=end).order_by("date")


def calendar_years() -> QuerySet[CalendarYear]:
    return CalendarYear.objects.order_by("year")


def shift_list(*, active: bool | None = None) -> QuerySet[Shift]:
    qs = Shift.objects.prefetch_related(
        Prefetch("segments", queryset=ShiftSegment.objects.order_by("position"))
    ).order_by("code")
    if active is not None:
        qs = qs.filter(active=active)
    return qs


def pattern_versions(group_id: int) -> QuerySet[WeeklyPattern]:
    return (
        WeeklyPattern.objects.filter(group_id=group_id)
        .select_related(
            "monday_shift",
            "tuesday_shift",
            "wednesday_shift",
            "thursday_shift",
            "friday_shift",
            "saturday_shift",
            "sunday_shift",
            "default_workday_shift",
        )
        .order_by("effective_from")
    )


def roster_entries(
    employee_ids: Sequence[int] | None, start: date, end: date, *, group_id: int | None = None
) -> QuerySet[RosterEntry]:
    qs = RosterEntry.objects.filter(date__gte=start, date__lte=end).select_related(
        "employee", "shift"
    )
    if employee_ids is not None:
        qs = qs.filter(employee_id__in=employee_ids)
    if group_id is not None:
        qs = qs.filter(employee__attendance_group_id=group_id)
    return qs.order_by("employee__employee_no", "date")


def exemption_list(
    *,
    employee_ids: Sequence[int] | None = None,
    start: date | None = None,
    end: date | None = None,
    include_voided: bool = False,
) -> QuerySet[Exemption]:
    """Exemptions overlapping [start, end] (dates in the server's zone; bounds optional)."""
    qs = Exemption.objects.select_related("employee", "created_by", "voided_by")
    if employee_ids is not None:
        qs = qs.filter(employee_id__in=employee_ids)
    if not include_voided:
        qs = qs.filter(voided_at__isnull=True)
    if start is not None:
        qs = qs.filter(end__gt=timezone.make_aware(datetime.combine(start, time.min)))
    if end is not None:
        after_end = datetime.combine(end + timedelta(days=1), time.min)
        qs = qs.filter(start__lt=timezone.make_aware(after_end))
    return qs.order_by("-start")


def affected_pairs(
    changes: Iterable[ScheduleChange], *, lower: date, upper: date
) -> set[tuple[int, date]]:
    """Resolve changes to concrete (employee id, date) pairs within [lower, upper].

    "Every employee" resolves to the active employees (one query, only when needed).
    """
    changes = list(changes)
    everyone: list[int] = []
    if any(change.employee_ids is None for change in changes):
        everyone = list(Employee.objects.filter(active=True).values_list("pk", flat=True))
    pairs: set[tuple[int, date]] = set()
    for change in changes:
        pairs.update(change.pairs(lower=lower, upper=upper, all_employee_ids=everyone))
    return pairs


def shift_get(code: str) -> Shift | None:
    """One shift by code, with its segments in order (None when there is none)."""
    return shift_list().filter(code=code).first()


@dataclass(frozen=True)
class ShiftUsage:
    """Where a shift is planned from ``today`` on: the attendance groups whose weekly
    pattern (the version in force, or a later one) names it, and roster entries."""

    groups: tuple[str, ...] = ()
    roster_days: int = 0

    @property
    def in_use(self) -> bool:
        return bool(self.groups or self.roster_days)


def shift_usage(today: date | None = None) -> dict[int, ShiftUsage]:
    """Usage by shift id (shifts used nowhere are absent). Two queries."""
    today = today or timezone.localdate()
    versions = pattern_versions_all()
    current: dict[int, date] = {}
    for pattern in versions:
        if pattern.effective_from <= today:
            current[pattern.group_id] = pattern.effective_from
    groups: dict[int, set[str]] = {}
    for pattern in versions:
        if pattern.effective_from < current.get(pattern.group_id, pattern.effective_from):
            continue  # an older version, no longer in force
        for shift_id in pattern.shift_ids():
            groups.setdefault(shift_id, set()).add(pattern.group.name)
    rosters = dict(
        RosterEntry.objects.filter(date__gte=today, shift__isnull=False)
        .values("shift_id")
        .annotate(n=Count("pk"))
        .values_list("shift_id", "n")
    )
    return {
        shift_id: ShiftUsage(tuple(sorted(groups.get(shift_id, ()))), rosters.get(shift_id, 0))
        for shift_id in {*groups, *rosters}
    }


def pattern_versions_all() -> list[WeeklyPattern]:
    """Every pattern version of every group, with its group, by group and date."""
    return list(
        WeeklyPattern.objects.select_related("group").order_by("group_id", "effective_from")
    )


# --------------------------------------------------------------------------- roster grid

MAX_GRID_EMPLOYEES = 300


@dataclass(frozen=True)
class GridCell:
    """One employee-date of the roster grid.

    ``kind``: "work", "rest", "holiday" (the plan), "none" (no plan at all: no roster entry
    and no weekly pattern in force) or "out" (before hire or after leave). ``override``:
    a roster entry decides the date (else the weekly pattern and the calendar do).
    ``value``: the entry as the forms and the CSV name it (shift code, "rest"), "" when
    the date follows the pattern.
    """

    day: date
    kind: str
    code: str
    override: bool
    value: str


@dataclass
class GridRow:
    employee: Employee
    cells: list[GridCell]

    @property
    def unplanned(self) -> list[date]:
        return [cell.day for cell in self.cells if cell.kind == "none"]


def month_bounds(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def roster_people(
    *, group_id: int | None = None, department_id: int | None = None, start: date, end: date
) -> QuerySet[Employee]:
    """Active employees of a group or a department employed at some time in [start, end]."""
    qs = Employee.objects.filter(active=True).exclude(hire_date__gt=end)
    qs = qs.exclude(leave_date__lt=start)
    if group_id is not None:
        qs = qs.filter(attendance_group_id=group_id)
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return qs.select_related("attendance_group", "department").order_by("employee_no")


def roster_grid(employees: Sequence[Employee], start: date, end: date) -> list[GridRow]:
    """Every employee × every date of [start, end] with the plan (``build_plans``: the one
    rule of the day's plan) and whether a roster entry or the pattern decides it.

    A fixed number of queries whatever the size: the plans (at most six), the roster
    entries and the groups' pattern versions.
    """
    employees = list(employees)
    if not employees or end < start:
        return []
    plans = build_plans(employees, start, end)
    ids = [e.pk for e in employees]
    entries: dict[tuple[int, date], str] = {}
    query = RosterEntry.objects.filter(date__gte=start, date__lte=end)
    if len(ids) <= 900:
        query = query.filter(employee_id__in=ids)
    wanted = set(ids)
    for employee_id, day, code in query.values_list("employee_id", "date", "shift__code"):
        if employee_id in wanted:
            entries[(employee_id, day)] = code or REST
    group_ids = {e.attendance_group_id for e in employees if e.attendance_group_id}
    first_pattern: dict[int, date] = {}
    for group_id, effective_from in (
        WeeklyPattern.objects.filter(group_id__in=group_ids, effective_from__lte=end)
        .order_by("group_id", "effective_from")
        .values_list("group_id", "effective_from")
    ):
        first_pattern.setdefault(group_id, effective_from)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    rows = []
    for employee in employees:
        cells = []
        since = first_pattern.get(employee.attendance_group_id or 0)
        for day in days:
            value = entries.get((employee.pk, day))
            plan = plans[(employee.pk, day)]
            code = plan.shift.code if plan.shift is not None else ""
            if (employee.hire_date and day < employee.hire_date) or (
                employee.leave_date and day > employee.leave_date
            ):
                kind = "out"
            elif value is None and (since is None or day < since):
                kind = "none"
            else:
                kind = plan.kind
            cells.append(
                GridCell(
                    day=day,
                    kind=kind,
                    code=code,
                    override=value is not None,
                    value=value if value is not None else PATTERN,
                )
            )
        rows.append(GridRow(employee=employee, cells=cells))
    return rows
