"""Reads for the attendance pages: month calendar, day detail and the team grid.

Each function runs a fixed number of queries whatever the number of days, punches or
people (the pages are the hot paths, and tests assert it). Times are turned into text in
the employee's attendance-group time zone here, so templates never convert them again.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ztk.core import parse
from ztk.org.models import Department, Employee
from ztk.org.rules import employee_of
from ztk.org.selectors import employee_matches, employees_visible_to
from ztk.org.zones import employee_zone
from ztk.punches.geofence_selectors import active_fences
from ztk.punches.models import Punch, PunchSettings

from .explain import EXEMPT_STATUS, SLOT_STATUS, render_notes, slot_label
from .models import AttendanceDay, DayStatus
from .quick_punch import quick_punch_due
from .selectors import month_bounds, punches_between, punches_for_day
from .services import pending_dates
from .slot_checks import SlotCheck, checks_for
from .slot_requests import SlotRequest, requests_for

ANOMALY_STATUSES = (DayStatus.ABNORMAL, DayStatus.ABSENT)
# A compact mark per day status, so the grids do not rely on colour alone.
STATUS_MARK: dict[str, str] = {
    DayStatus.NORMAL: "✓",
    DayStatus.ABNORMAL: "!",
    DayStatus.ABSENT: "✕",
    DayStatus.LEAVE: "○",
    DayStatus.REST: "–",
    DayStatus.HOLIDAY: "–",
}
SLOT_PROBLEMS = frozenset({"late", "early", "missing"})
TEAM_PAGE_SIZE = 50


def local_today(employee: Employee | None, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(employee_zone(employee)).date()


def parse_month(value: str | None, default: date) -> tuple[int, int]:
    """'2026-11' → (2026, 11); anything unusable → the default's month."""
    return parse.parse_month(value) or (default.year, default.month)


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


# --------------------------------------------------------------------------- day cells


@dataclass(frozen=True)
class DayCell:
    """One date of a calendar or team grid."""

    day: date
    in_month: bool
    is_today: bool
    is_future: bool
    row: AttendanceDay | None
    # A correction request of one of the day's slots waits for approval (审批中).
    pending: bool = False

    @property
    def status(self) -> str:
        return self.row.status if self.row is not None else ""

    @property
    def status_label(self) -> str:
        return str(DayStatus(self.row.status).label) if self.row is not None else ""

    @property
    def anomaly(self) -> bool:
        return self.row is not None and self.row.status in ANOMALY_STATUSES

    @property
    def provisional(self) -> bool:
        return self.row is not None and self.row.provisional and not self.row.finalised

    @property
    def mark(self) -> str:
        return STATUS_MARK.get(self.row.status, "") if self.row is not None else ""

    @property
    def weekend(self) -> bool:
        return self.day.weekday() >= 5

    @property
    def css(self) -> str:
        if not self.in_month:  # neighbouring months' days are shown, not judged
            return "is-outside"
        classes = [f"st-{self.status}" if self.status else "st-none"]
        if self.provisional:
            classes.append("is-provisional")
        if self.anomaly:
            classes.append("is-anomaly")
        if self.pending:
            classes.append("is-pending")
        if self.is_today:
            classes.append("is-today")
        if self.weekend:
            classes.append("is-weekend")
        return " ".join(classes)


@dataclass
class MonthSummary:
    normal_days: int = 0
    anomaly_days: int = 0
    absent_days: Decimal = Decimal(0)
    late_count: int = 0
    late_minutes: int = 0
    early_count: int = 0
    early_minutes: int = 0
    missing_count: int = 0
    leave_days: int = 0

    def add(self, row: AttendanceDay) -> None:
        if row.status == DayStatus.NORMAL:
            self.normal_days += 1
        elif row.status in ANOMALY_STATUSES:
            self.anomaly_days += 1
        elif row.status == DayStatus.LEAVE:
            self.leave_days += 1
        self.absent_days += row.absent_days or 0
        self.late_count += row.late_count
        self.late_minutes += row.late_minutes
        self.early_count += row.early_count
        self.early_minutes += row.early_minutes
        self.missing_count += row.missing_in_count + row.missing_out_count


@dataclass(frozen=True)
class MonthSlot:
    """A red slot of the month (late, early, missing) with what can be done about it."""

    day: date
    slot: SlotView


@dataclass
class MonthCalendar:
    employee: Employee
    year: int
    month: int
    first: date
    last: date
    today: date
    weeks: list[list[DayCell]]
    summary: MonthSummary
    prev: str
    next: str
    current: str
    # The month's red slots with the correction rules' verdict (only when asked for).
    red_slots: list[MonthSlot] = field(default_factory=list)

    @property
    def selectable(self) -> list[MonthSlot]:
        return [s for s in self.red_slots if s.slot.can_apply]

    @property
    def param(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_calendar(
    *,
    employee: Employee,
    year: int,
    month: int,
    now: datetime | None = None,
    actor: Any = None,
) -> MonthCalendar:
    """The employee's month as weeks (Monday first) of day cells, each marked when one of
    its slots has a correction request waiting for approval. Two queries; with `actor`,
    also the month's red slots, each with the correction rules' verdict for a correction
    `actor` would file now (``slot_checks``)."""
    first, last = month_bounds(year, month)
    today = local_today(employee, now)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    requests = requests_for([employee.pk], first, last)
    pending_days = {day for (_employee, day, _slot), req in requests.items() if req.pending}
    rows = {
        row.day: row
        for row in AttendanceDay.objects.filter(
            employee=employee, day__gte=weeks[0][0], day__lte=weeks[-1][-1]
        ).defer("notes", "exempt_minutes", "outside_punch_ids")
    }
    summary = MonthSummary()
    for day, row in rows.items():
        if first <= day <= last:
            summary.add(row)
    grid = [
        [
            DayCell(
                day=d,
                in_month=d.month == month,
                is_today=d == today,
                is_future=d > today,
                row=rows.get(d),
                pending=d in pending_days,
            )
            for d in week
        ]
        for week in weeks
    ]
    red_slots = (
        _red_slots(employee, rows, first, last, requests, actor, now) if actor is not None else []
    )
    prev_y, prev_m = shift_month(year, month, -1)
    next_y, next_m = shift_month(year, month, 1)
    return MonthCalendar(
        employee=employee,
        year=year,
        month=month,
        first=first,
        last=last,
        today=today,
        weeks=grid,
        summary=summary,
        prev=f"{prev_y:04d}-{prev_m:02d}",
        next=f"{next_y:04d}-{next_m:02d}",
        current=f"{today.year:04d}-{today.month:02d}",
        red_slots=red_slots,
    )


def _red_slots(
    employee: Employee,
    rows: Mapping[date, AttendanceDay],
    first: date,
    last: date,
    requests: Mapping[tuple[int, date, str], SlotRequest],
    actor: Any,
    now: datetime | None,
) -> list[MonthSlot]:
    tz = employee_zone(employee)
    red = {
        day: row
        for day, row in sorted(rows.items())
        if first <= day <= last and any(s.get("status") in SLOT_PROBLEMS for s in row.slots)
    }
    checks = checks_for(actor, employee, list(red), now) if red else {}
    out = []
    for day, row in red.items():
        on_day = {key: req for (_e, d, key), req in requests.items() if d == day}
        mine = {key: check for (d, key), check in checks.items() if d == day}
        for view in _slot_views(row, tz, on_day, mine):
            if view.problem:
                out.append(MonthSlot(day=day, slot=view))
    return out


# --------------------------------------------------------------------------- day detail


@dataclass(frozen=True)
class SlotView:
    key: str
    label: str
    kind: str
    segment: int
    expected: str
    expected_next_day: bool
    window: str
    punch_time: str
    punch_id: int | None
    punch_source: str
    status: str
    status_label: str
    minutes: int
    serious: bool
    half_day_absent: bool
    # The slot's pending or approved correction request (补卡), with its page.
    request: SlotRequest | None = None
    # Whether a correction can be filed now, and if not why (``slot_checks``).
    check: SlotCheck | None = None

    @property
    def problem(self) -> bool:
        return self.status in SLOT_PROBLEMS

    @property
    def can_apply(self) -> bool:
        """Offer the correction form: a problem slot without a request under way that the
        correction rules allow now (without a verdict: a missing punch, as before)."""
        if not self.problem or self.request is not None:
            return False
        if self.check is None:
            return self.status == "missing"
        return self.check.correctable

    @property
    def blocked(self) -> SlotCheck | None:
        """The verdict of a problem slot that cannot be corrected now (no request under
        way: that one is shown as the request instead)."""
        if not self.problem or self.request is not None or self.check is None:
            return None
        return None if self.check.correctable else self.check

    @property
    def pending(self) -> bool:
        """A correction of this slot waits for approval (审批中): no new request."""
        return self.request is not None and self.request.pending


@dataclass(frozen=True)
class PunchView:
    punch: Punch
    time: str
    other_day: str
    source_label: str
    voided: bool
    void_reason: str
    field_punch: bool
    used_for: str


@dataclass
class DayDetail:
    employee: Employee
    day: date
    row: AttendanceDay | None
    slots: list[SlotView]
    punches: list[PunchView]
    explanation: list[str]
    missing_slots: list[SlotView] = field(default_factory=list)
    # Punches of a large upload wait in the recompute queue: the result may still change.
    updating: bool = False
    # Why nothing of a day without a result can be corrected (e.g. a day still to come).
    day_reasons: tuple[str, ...] = ()

    @property
    def blocked_slots(self) -> list[SlotView]:
        return [s for s in self.slots if s.blocked is not None]

    @property
    def status_label(self) -> str:
        return str(DayStatus(self.row.status).label) if self.row is not None else ""

    @property
    def provisional(self) -> bool:
        return self.row is not None and self.row.provisional and not self.row.finalised

    @property
    def anomaly(self) -> bool:
        return self.row is not None and self.row.status in ANOMALY_STATUSES


def _local(value: str | None, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def _clock(moment: datetime | None, day: date) -> str:
    """HH:MM, with the date when it is not the attendance date (night shifts)."""
    if moment is None:
        return ""
    if moment.date() == day:
        return moment.strftime("%H:%M")
    return moment.strftime("%m-%d %H:%M")


def segments_of(row: AttendanceDay) -> int:
    """How many work segments the day's shift has (slot labels number them when > 1)."""
    return len({s.get("segment") for s in row.slots}) or 1


def _slot_views(
    row: AttendanceDay,
    tz: ZoneInfo,
    requests: Mapping[str, SlotRequest] | None = None,
    checks: Mapping[str, SlotCheck] | None = None,
) -> list[SlotView]:
    segments = segments_of(row)
    requests = requests or {}
    checks = checks or {}
    views = []
    covered: dict[Any, Any] = {}  # slot key -> what exempts it (leave, outing, trip)
    if any(s.get("status") == "exempt" for s in row.slots):  # notes may be deferred: ask once
        covered = {
            n.get("slot"): (n.get("params") or {}).get("kind")
            for n in (row.notes or [])
            if isinstance(n, dict) and n.get("code") == "exempt"
        }
    for slot in row.slots:
        expected = _local(slot.get("expected"), tz)
        start, end = _local(slot.get("window_start"), tz), _local(slot.get("window_end"), tz)
        status = slot.get("status", "")
        views.append(
            SlotView(
                key=slot.get("key", ""),
                label=slot_label(slot.get("key"), segments),
                kind=slot.get("kind", ""),
                segment=slot.get("segment", 0),
                expected=expected.strftime("%H:%M") if expected else "",
                expected_next_day=expected is not None and expected.date() != row.day,
                window=f"{_clock(start, row.day)}–{_clock(end, row.day)}" if start and end else "",
                punch_time=_clock(_local(slot.get("punch_at"), tz), row.day),
                punch_id=slot.get("punch_id"),
                punch_source=slot.get("punch_source") or "",
                status=status,
                status_label=str(
                    EXEMPT_STATUS.get(covered.get(slot.get("key")) or "", SLOT_STATUS["exempt"])
                    if status == "exempt"
                    else SLOT_STATUS.get(status, status)
                ),
                minutes=slot.get("minutes") or 0,
                serious=bool(slot.get("serious")),
                half_day_absent=bool(slot.get("half_day_absent")),
                request=requests.get(slot.get("key", "")),
                check=checks.get(slot.get("key", "")),
            )
        )
    return views


def day_detail(
    *, employee: Employee, day: date, actor: Any = None, now: datetime | None = None
) -> DayDetail:
    """Expected slots, matched punches, every punch of the day and the explanation.

    Four queries: the stored day, its punches (with their voids), the recompute queue and
    the slots' correction requests; with `actor`, the correction rules' verdict on each
    slot for a correction `actor` would file now (``slot_checks``: a few more). A problem
    slot is offered for a correction (`missing_slots`) only when those rules allow it and
    no request is under way; otherwise the page says why (`blocked_slots`) or shows the
    request.
    """
    tz = employee_zone(employee)
    updating = bool(pending_dates(employee.pk, day, day))
    row = AttendanceDay.objects.filter(employee=employee, day=day).first()
    # The verdicts cost a few queries: asked only where there is something to say (a red
    # slot, or a day still to come).
    wanted = actor is not None and (
        any(s.get("status") in SLOT_PROBLEMS for s in row.slots)
        if row is not None
        else day > local_today(employee, now)
    )
    checks = (
        {key: check for (_day, key), check in checks_for(actor, employee, [day], now).items()}
        if wanted
        else {}
    )
    if row is None:
        punches = list(punches_between(employee=employee, start=day, end=day))
        views = _punch_views(punches, {}, tz, day)
        reasons = next((c.reasons[:1] for c in checks.values() if not c.correctable), ())
        return DayDetail(employee, day, None, [], views, [], updating=updating, day_reasons=reasons)
    requests = {
        slot: req for (_employee, _day, slot), req in requests_for([employee.pk], day, day).items()
    }
    slots = _slot_views(row, tz, requests, checks)
    used = {s.punch_id: s.label for s in slots if s.punch_id}
    return DayDetail(
        employee=employee,
        day=day,
        row=row,
        slots=slots,
        punches=_punch_views(punches_for_day(row), used, tz, day),
        explanation=render_notes(row.notes, segments_of(row)),
        missing_slots=[s for s in slots if s.can_apply],
        updating=updating,
    )


def _punch_views(
    punches: list[Punch], used: dict[int, str], tz: ZoneInfo, day: date
) -> list[PunchView]:
    views = []
    for punch in punches:
        local = punch.at.astimezone(tz)
        void = getattr(punch, "void", None)  # select_related: no extra query
        views.append(
            PunchView(
                punch=punch,
                time=local.strftime("%H:%M:%S"),
                other_day=local.strftime("%m-%d") if local.date() != day else "",
                source_label=str(punch.get_source_display()),
                voided=void is not None,
                void_reason=void.reason if void is not None else "",
                field_punch=punch.field_punch,
                used_for=used.get(punch.pk, ""),
            )
        )
    return views


# --------------------------------------------------------------------------- punch card


@dataclass(frozen=True)
class PunchContext:
    """What the punch button needs to know before the first tap."""

    enabled: bool
    has_geofences: bool
    quick: bool = False  # 极速打卡: punch on opening, now (a check-in window is open)


def punch_context(
    *, employee: Employee, today: DayDetail | None = None, now: datetime | None = None
) -> PunchContext:
    """Two small queries: the group's punch settings and whether it has active geofences."""
    group_id = employee.attendance_group_id
    settings_row = PunchSettings.objects.filter(group_id=group_id).first() if group_id else None
    enabled = settings_row is None or settings_row.web_punch_enabled
    fences = group_id is not None and bool(active_fences(group_id))
    quick = (
        enabled
        and fences
        and settings_row is not None
        and settings_row.quick_punch
        and quick_punch_due(today.row if today is not None else None, now or timezone.now())
    )
    return PunchContext(enabled, fences, quick)


def today_slots(
    *, employee: Employee, now: datetime | None = None, shown: MonthCalendar | None = None
) -> DayDetail | None:
    """Today's expected slots and what has been punched so far (no punch list).

    When the calendar being shown contains today, its row is used; otherwise one query.
    """
    day = local_today(employee, now)
    cells = [c for week in shown.weeks for c in week if c.day == day] if shown else []
    if cells:
        row = cells[0].row
    else:
        row = AttendanceDay.objects.filter(employee=employee, day=day).first()
    if row is None:
        return None
    return DayDetail(employee, day, row, _slot_views(row, employee_zone(employee)), [], [])


# --------------------------------------------------------------------------- team grid


@dataclass
class TeamRow:
    employee: Employee
    cells: list[DayCell]
    anomaly_days: int = 0
    late_count: int = 0
    missing_count: int = 0
    absent_days: Decimal = Decimal(0)


@dataclass
class TeamMonth:
    days: list[date]
    rows: list[TeamRow]
    departments: list[Department]
    page: Any
    today: date


def team_members(user: Any) -> QuerySet[Employee]:
    """Everyone whose attendance `user` may see, except themselves."""
    qs = employees_visible_to(user)
    me = employee_of(user)
    if me is not None:
        qs = qs.exclude(pk=me.pk)
    return qs


def team_month(
    *,
    user: Any,
    year: int,
    month: int,
    search: str = "",
    department: str = "",
    anomalies_only: bool = False,
    page: int | str | None = 1,
    now: datetime | None = None,
) -> TeamMonth:
    """People × days for one month. Queries: count, page of people, their days, departments."""
    from django.core.paginator import Paginator

    first, last = month_bounds(year, month)
    members = team_members(user).filter(
        Q(hire_date__isnull=True) | Q(hire_date__lte=last),
        Q(leave_date__isnull=True) | Q(leave_date__gte=first),
    )
    departments = list(
        Department.objects.filter(pk__in=members.values("department_id")).order_by("code")
    )
    if search:
        members = members.filter(employee_matches(search))
    if department:
        members = members.filter(department__code=department)
    if anomalies_only:
        members = members.filter(
            Exists(
                AttendanceDay.objects.filter(
                    employee=OuterRef("pk"),
                    day__gte=first,
                    day__lte=last,
                    status__in=ANOMALY_STATUSES,
                )
            )
        )
    members = members.order_by("department__code", "employee_no")
    paginator = Paginator(members, TEAM_PAGE_SIZE)
    current = paginator.get_page(page)
    people = list(current.object_list)
    by_person: dict[int, dict[date, AttendanceDay]] = defaultdict(dict)
    for row in AttendanceDay.objects.filter(
        employee_id__in=[p.pk for p in people], day__gte=first, day__lte=last
    ).only(
        "employee_id",
        "day",
        "status",
        "provisional",
        "finalised",
        "late_count",
        "missing_in_count",
        "missing_out_count",
        "absent_days",
    ):
        by_person[row.employee_id][row.day] = row
    today = local_today(people[0] if people else employee_of(user), now)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rows = []
    for person in people:
        own = by_person.get(person.pk, {})
        team_row = TeamRow(
            employee=person,
            cells=[
                DayCell(
                    day=d, in_month=True, is_today=d == today, is_future=d > today, row=own.get(d)
                )
                for d in days
            ],
        )
        for row in own.values():
            if row.status in ANOMALY_STATUSES:
                team_row.anomaly_days += 1
            team_row.late_count += row.late_count
            team_row.missing_count += row.missing_in_count + row.missing_out_count
            team_row.absent_days += row.absent_days or 0
        rows.append(team_row)
    return TeamMonth(days=days, rows=rows, departments=departments, page=current, today=today)
