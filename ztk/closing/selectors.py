"""Reads of the month close: the period of a day, the checklist, the overview.

A period runs from the company's period start day (``org.selectors.period_start_day``;
the arithmetic is ``ztk.engine.periods``) to the day before the next start, per
attendance group. The stored row (``attendance.AttendancePeriod``) is created, open, the
first time a period is looked at (``period_for``): an open period with no row and an
open row are the same thing, and a row must exist before a close can lock it.

Facts of lower apps come through their public selectors: the pending correction requests
(``corrections.selectors.pending_for_period``) and the terminal punches held for nobody
(``devices.selectors.held_count_between``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from ztk.attendance.models import AttendanceDay, AttendancePeriod, DayStatus, PeriodStatus
from ztk.corrections.selectors import pending_for_period
from ztk.devices.selectors import held_count_between
from ztk.engine.periods import period_of
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.selectors import period_start_day
from ztk.org.zones import group_zone

from .refusals import (
    ALREADY_CLOSED,
    BAD_PERIOD,
    PENDING_CORRECTIONS,
    PERIOD_NOT_OVER,
    UNFINALISED_DAYS,
    refusal,
)

SAMPLE = 20


# --- periods --------------------------------------------------------------------------------


def period_bounds(day: date) -> tuple[date, date]:
    """First and last day of the attendance period containing `day` (company start day)."""
    return period_of(day, period_start_day())


def group_today(group: AttendanceGroup, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(group_zone(group)).date()


def period_for(group: AttendanceGroup, day: date) -> AttendancePeriod:
    """The group's period containing `day`: the stored row, created (open) when missing."""
    found = (
        AttendancePeriod.objects.filter(group=group, start__lte=day, end__gte=day)
        .order_by("-start")
        .first()
    )
    if found is not None:
        return found
    start, end = period_bounds(day)
    period, _created = AttendancePeriod.objects.get_or_create(
        group=group, start=start, defaults={"end": end}
    )
    return period


def period_at(group: AttendanceGroup, start: date) -> AttendancePeriod:
    """The group's period that starts on `start` (refused when no period starts then)."""
    period = period_for(group, start)
    if period.start != start:
        raise refusal(BAD_PERIOD, start=start)
    return period


# --- the checklist --------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySample:
    employee_no: str
    name: str
    day: date
    status: str


@dataclass(frozen=True)
class MissingSample:
    employee_no: str
    name: str
    days: int


@dataclass
class Checklist:
    """What stands between a period and its close; `ok` when nothing is outstanding."""

    period: AttendancePeriod
    today: date
    pending_corrections: list[Any] = field(default_factory=list)
    unfinalised_days: int = 0  # provisional stored days plus days never computed
    unfinalised_sample: list[DaySample] = field(default_factory=list)
    missing_days: int = 0  # of unfinalised_days: employee-days with no stored result yet
    missing_sample: list[MissingSample] = field(default_factory=list)
    held_punches: int = 0

    @property
    def over(self) -> bool:
        return self.today > self.period.end

    @property
    def closed(self) -> bool:
        return self.period.status == PeriodStatus.CLOSED

    @property
    def ok(self) -> bool:
        return not self.pending_corrections and not self.unfinalised_days and not self.held_punches

    @property
    def blocking(self) -> list[str]:
        """Codes that refuse the close as things stand (pending ones may be cancelled)."""
        codes = []
        if self.closed:
            codes.append(ALREADY_CLOSED)
        if not self.over:
            codes.append(PERIOD_NOT_OVER)
        if self.pending_corrections:
            codes.append(PENDING_CORRECTIONS)
        if self.unfinalised_days:
            codes.append(UNFINALISED_DAYS)
        return codes

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.period.group.code,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "pending_corrections": [r.pk for r in self.pending_corrections],
            "unfinalised_days": self.unfinalised_days,
            "missing_days": self.missing_days,
            "held_punches": self.held_punches,
            "ok": self.ok,
        }


def _employment_days(
    first: date, last: date, hire: date | None, leave: date | None
) -> tuple[date, date] | None:
    lo = max(first, hire) if hire else first
    hi = min(last, leave) if leave else last
    return (lo, hi) if lo <= hi else None


def expected_days(
    group: AttendanceGroup, first: date, last: date
) -> dict[int, tuple[str, str, date, date]]:
    """Active employees of the group (by pk) with their number, name and the span of
    [first, last] they were employed."""
    out = {}
    for pk, no, name, hire, leave in Employee.objects.filter(
        attendance_group=group, active=True
    ).values_list("pk", "employee_no", "name", "hire_date", "leave_date"):
        span = _employment_days(first, last, hire, leave)
        if span is not None:
            out[pk] = (no, name, *span)
    return out


def held_punches(group: AttendanceGroup, start: date, end: date) -> int:
    """Terminal punches of the period's days (group time) still held for nobody."""
    tz = group_zone(group)
    return held_count_between(
        group=group,
        start=datetime.combine(start, time.min, tzinfo=tz),
        end=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def period_checklist(
    *, group: AttendanceGroup, start: date, now: datetime | None = None
) -> Checklist:
    """Pending corrections (each), days not final (count and a sample, including days never
    computed), held terminal punches of the period (count). Reads only, except that the
    period row is created when missing."""
    period = period_at(group, start)
    today = group_today(group, now)
    checklist = Checklist(period=period, today=today)
    checklist.pending_corrections = list(pending_for_period(group=group, period_start=period.start))
    last = min(period.end, today - timedelta(days=1))
    in_period = AttendanceDay.objects.filter(
        employee__attendance_group=group, day__gte=period.start, day__lte=period.end
    )
    provisional = in_period.filter(finalised=False)
    stored_unfinal = provisional.count()
    checklist.unfinalised_sample = [
        DaySample(*row)
        for row in provisional.order_by("day", "employee__employee_no").values_list(
            "employee__employee_no", "employee__name", "day", "status"
        )[:SAMPLE]
    ]
    if last >= period.start:
        expected = expected_days(group, period.start, last)
        stored = dict(
            in_period.filter(employee__active=True, day__lte=last)
            .filter(Q(employee__hire_date__isnull=True) | Q(day__gte=F("employee__hire_date")))
            .filter(Q(employee__leave_date__isnull=True) | Q(day__lte=F("employee__leave_date")))
            .values("employee_id")
            .order_by()
            .annotate(n=Count("id"))
            .values_list("employee_id", "n")
        )
        missing = []
        for pk, (no, name, lo, hi) in sorted(expected.items(), key=lambda kv: kv[1][0]):
            gap = (hi - lo).days + 1 - stored.get(pk, 0)
            if gap > 0:
                missing.append(MissingSample(no, name, gap))
        checklist.missing_days = sum(m.days for m in missing)
        checklist.missing_sample = missing[:SAMPLE]
    checklist.unfinalised_days = stored_unfinal + checklist.missing_days
    checklist.held_punches = held_punches(group, period.start, period.end)
    return checklist


# --- the close confirmation -------------------------------------------------------------------

REVIEW_SAMPLE = 10  # anomaly days listed per department (the counts are always complete)


@dataclass(frozen=True)
class OpenDay:
    """A stored day of the period that still shows an anomaly (nobody corrected it)."""

    employee_no: str
    name: str
    day: date
    status: str
    late: int
    early: int
    missing: int
    absent: bool


@dataclass
class DepartmentOpen:
    """What is still open in one department (the employees' current department)."""

    code: str
    name: str
    missing_days: int = 0  # days (not absent) with a missing check-in or check-out (缺卡)
    absent_days: int = 0  # days counted absent (旷工), whole or half
    late_days: int = 0  # days late or left early
    pending_requests: int = 0
    sample: list[OpenDay] = field(default_factory=list)
    days: set[tuple[str, date]] = field(default_factory=set, repr=False)

    @property
    def anomaly_days(self) -> int:
        return len(self.days)


@dataclass
class CloseReview:
    """The close confirmation: the checklist plus what is still open, per department, and
    the token a close must quote (``period_close(confirm=…)``). The token is a digest of
    everything listed, so a close confirmed on a page that has gone stale is refused."""

    checklist: Checklist
    departments: list[DepartmentOpen]
    token: str

    @property
    def open_days(self) -> int:
        return sum(d.anomaly_days for d in self.departments)

    @property
    def pending_requests(self) -> int:
        return len(self.checklist.pending_corrections)

    @property
    def held_punches(self) -> int:
        return self.checklist.held_punches

    @property
    def anything_open(self) -> bool:
        return bool(self.open_days or self.pending_requests or self.held_punches)


NO_DEPARTMENT = ""


def close_review(
    *, group: AttendanceGroup, start: date, now: datetime | None = None
) -> CloseReview:
    """What the close would seal while still open: per current department, the days whose
    stored result still shows 缺卡, 旷工, late or early (no correction filled them), the
    pending correction requests; for the group, the held terminal punches. Counts are
    complete, each department lists up to ``REVIEW_SAMPLE`` days."""
    checklist = period_checklist(group=group, start=start, now=now)
    period = checklist.period
    by_code: dict[str, DepartmentOpen] = {}

    def department(code: str | None, name: str | None) -> DepartmentOpen:
        key = code or NO_DEPARTMENT
        if key not in by_code:
            by_code[key] = DepartmentOpen(code=key, name=name or "")
        return by_code[key]

    digest = hashlib.sha256(f"{period.pk}|{period.status}".encode())
    rows = (
        AttendanceDay.objects.filter(
            employee__attendance_group=group, day__gte=period.start, day__lte=period.end
        )
        .filter(
            Q(missing_in_count__gt=0)
            | Q(missing_out_count__gt=0)
            | Q(absent_days__gt=0)
            | Q(late_count__gt=0)
            | Q(early_count__gt=0)
            | Q(status=DayStatus.ABSENT)
        )
        .order_by("employee__department__code", "employee__employee_no", "day")
        .values_list(
            "pk",
            "employee__department__code",
            "employee__department__name",
            "employee__employee_no",
            "employee__name",
            "day",
            "status",
            "late_count",
            "early_count",
            "missing_in_count",
            "missing_out_count",
            "absent_days",
            "computed_at",
        )
    )
    for pk, code, dname, no, name, day, status, late, early, m_in, m_out, absent, at in rows:
        digest.update(
            f"|d{pk}:{at.isoformat()}:{status}:{late}:{early}:{m_in}:{m_out}:{absent}".encode()
        )
        dept = department(code, dname)
        dept.days.add((no, day))
        missing = m_in + m_out
        is_absent = bool(absent) or status == DayStatus.ABSENT
        dept.missing_days += 1 if missing and not is_absent else 0
        dept.absent_days += 1 if is_absent else 0
        dept.late_days += 1 if (late or early) else 0
        if len(dept.sample) < REVIEW_SAMPLE:
            dept.sample.append(OpenDay(no, name, day, status, late, early, missing, is_absent))
    for request in checklist.pending_corrections:
        digest.update(f"|r{request.pk}".encode())
        employee = request.employee
        dept_obj = employee.department
        department(
            dept_obj.code if dept_obj else None, dept_obj.name if dept_obj else None
        ).pending_requests += 1
    digest.update(f"|h{checklist.held_punches}|u{checklist.unfinalised_days}".encode())
    departments = sorted(by_code.values(), key=lambda d: (d.code == NO_DEPARTMENT, d.code))
    return CloseReview(checklist=checklist, departments=departments, token=digest.hexdigest()[:20])


# --- the overview page ------------------------------------------------------------------------


def recent_periods(*, groups: list[AttendanceGroup], today: date, count: int = 3) -> list[dict]:
    """For each group: its last `count` periods up to the one containing `today`, stored or
    not (a missing row is an open period), newest first. Two queries."""
    start_day = period_start_day()
    starts: list[tuple[date, date]] = []
    day = today
    for _i in range(count):
        start, end = period_of(day, start_day)
        starts.append((start, end))
        day = start - timedelta(days=1)
    stored = {
        (p.group_id, p.start): p
        for p in AttendancePeriod.objects.filter(
            group__in=groups, start__in=[s for s, _e in starts]
        ).select_related("closed_by")
    }
    return [
        {
            "group": group,
            "periods": [
                stored.get((group.pk, s))
                or AttendancePeriod(group=group, start=s, end=e, status=PeriodStatus.OPEN)
                for s, e in starts
            ],
        }
        for group in groups
    ]
