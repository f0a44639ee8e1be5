"""Reads for the early warnings and the weekly digest: the rows of ``warning_checks``
(set-based: one query per kind of row, one per seven-day window), the heads a warning goes
to, and the warnings for the pages and the API.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Q, QuerySet, Value, When

from ztk.approvals.digest import waiting_steps
from ztk.attendance.models import AttendanceDay, DayStatus
from ztk.corrections.models import COUNTED_STATUSES, CorrectionRequest
from ztk.devices.selectors import silent_terminals
from ztk.engine.periods import period_of
from ztk.org import rules
from ztk.org.models import Department, Employee
from ztk.org.roles import AUDITOR, HR
from ztk.org.rules import employee_of, is_auditor, is_hr
from ztk.org.selectors import period_start_day

from . import checks
from .models import EarlyWarning, WarningState
from .selectors import monthly_limits
from .warning_checks import OverdueRow, QuotaRow, SilentRow, WindowCount

User = get_user_model()

ANOMALY = (DayStatus.ABNORMAL, DayStatus.ABSENT)
WORKING = (DayStatus.NORMAL, DayStatus.ABNORMAL, DayStatus.ABSENT)


def week_of(day: date) -> tuple[date, date]:
    """The calendar week (Monday–Sunday) holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


# --- rows ---------------------------------------------------------------------------------


def quota_rows(today: date) -> list[QuotaRow]:
    """Each active employee's requests counted against the limit in the current period
    (pending and approved requests that count, as ``corrections`` counts them), with their
    group's monthly limit (``selectors.monthly_limits``: the group's correction policy)."""
    start, end = period_of(today, period_start_day())
    limits = monthly_limits()
    by_employee: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    group_of: dict[int, int | None] = {}
    for pk, employee_id, gid, created in (
        CorrectionRequest.objects.filter(
            period_start=start,
            status__in=COUNTED_STATUSES,
            counts_against_quota=True,
            employee__active=True,
        )
        .order_by("created_at", "pk")
        .values_list("pk", "employee_id", "employee__attendance_group_id", "created_at")
    ):
        by_employee[employee_id].append((pk, created))
        group_of[employee_id] = gid
    return [
        QuotaRow(
            employee_id=pk,
            period_start=start,
            period_end=end,
            limit=limits.get(group_of[pk], 0),
            request_ids=tuple(r for r, _at in requests),
            request_times=tuple(at for _r, at in requests),
        )
        for pk, requests in by_employee.items()
    ]


def windows_before(last: date, count: int) -> list[tuple[date, date]]:
    """``count`` seven-day windows, oldest first, the last one ending on ``last``."""
    return [
        (last - timedelta(days=7 * back + 6), last - timedelta(days=7 * back))
        for back in range(count - 1, -1, -1)
    ]


def department_windows(windows: list[tuple[date, date]]) -> dict[int, list[WindowCount]]:
    """Per department (the employee's own, not the ones above it): anomalies and working
    days in each window, oldest first; one grouped query per window."""
    out: dict[int, list[WindowCount]] = defaultdict(lambda: [WindowCount()] * len(windows))
    for index, (first, last) in enumerate(windows):
        for department, anomalies, days in (
            AttendanceDay.objects.filter(
                day__gte=first, day__lte=last, employee__department_id__isnull=False
            )
            .values("employee__department_id")
            .annotate(
                a=Count("pk", filter=Q(status__in=ANOMALY)),
                d=Count("pk", filter=Q(status__in=WORKING)),
            )
            .values_list("employee__department_id", "a", "d")
        ):
            out[department][index] = WindowCount(anomalies, days)
    return dict(out)


def anomaly_days(first: date, last: date) -> dict[int, list[tuple[int, date]]]:
    """(employee, day) of every abnormal or absent day in the range, by department."""
    out: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for employee, day, department in AttendanceDay.objects.filter(
        day__gte=first, day__lte=last, status__in=ANOMALY, employee__department_id__isnull=False
    ).values_list("employee_id", "day", "employee__department_id"):
        out[department].append((employee, day))
    return dict(out)


def overdue_rows(now: datetime) -> list[OverdueRow]:
    """Every step past its deadline, per user it waits for (the approvers' queue rule:
    ``approvals.digest.waiting_steps``, the same as the daily digest's)."""
    rows = []
    for user_id, entries in waiting_steps(now).items():
        for entry, _line in entries:
            if entry.deadline is not None and now >= entry.deadline:
                rows.append(
                    OverdueRow(
                        user_id=user_id,
                        request_id=entry.pk,
                        deadline=entry.deadline,
                        is_correction=isinstance(entry.item, CorrectionRequest),
                    )
                )
    return rows


def silent_rows(now: datetime) -> list[SilentRow]:
    """The terminals ``devices`` calls silent now (approved, unheard of in working hours)."""
    return [
        SilentRow(d.pk, d.serial, d.last_seen, now.astimezone(d.zone).date())
        for d in silent_terminals(now)
    ]


# --- who is told --------------------------------------------------------------------------


class Heads:
    """The departments' heads, read once: the head a warning about an employee, a
    department or an approver goes to (never the subject themselves: then the head above)."""

    def __init__(self) -> None:
        self.parent: dict[int, int | None] = {}
        self.head: dict[int, int | None] = {}
        for pk, parent, head in Department.objects.values_list("pk", "parent_id", "head_id"):
            self.parent[pk], self.head[pk] = parent, head

    def of_department(self, department: int | None, *, not_: int | None = None) -> int | None:
        seen: set[int] = set()
        node = department
        while node is not None and node not in seen:
            seen.add(node)
            boss = self.head.get(node)
            if boss is not None and boss != not_:
                return boss
            node = self.parent.get(node)
        return None


def hr_users() -> list[Any]:
    return list(User.objects.filter(groups__name=HR, is_active=True).distinct().order_by("pk"))


def digest_users() -> list[Any]:
    """HR and the auditors (the weekly digest's readers)."""
    return list(
        User.objects.filter(groups__name__in=[HR, AUDITOR], is_active=True)
        .distinct()
        .order_by("pk")
    )


# --- warnings for the pages and the API ---------------------------------------------------


def can_see_warnings(user: Any) -> bool:
    """HR and auditors see every warning; a department head the ones sent to them."""
    return bool(rules.can_see_warnings(user))


def visible_q(user: Any) -> Q:
    if is_hr(user) or is_auditor(user):
        return Q()
    me = employee_of(user)
    return Q(head_id=me.pk) if me is not None else Q(pk__in=[])


def warning_list(*, user: Any, kind: str = "", state: str = "") -> QuerySet[EarlyWarning]:
    """The warnings the user may see, open ones first, the severe first, newest first."""
    qs = EarlyWarning.objects.select_related(
        "employee", "department", "user", "device", "head", "handled_by"
    ).filter(visible_q(user))
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by(
        Case(When(state=WarningState.OPEN, then=Value(0)), default=Value(1)),
        Case(
            When(severity=checks.HIGH, then=Value(0)),
            When(severity=checks.MEDIUM, then=Value(1)),
            default=Value(2),
        ),
        "-raised_at",
        "-pk",
    )


def open_counts(user: Any) -> dict[str, int]:
    return {
        row["kind"]: row["n"]
        for row in EarlyWarning.objects.filter(visible_q(user), state=WarningState.OPEN)
        .values("kind")
        .annotate(n=Count("pk"))
    }


def employees_by_pk(ids: Iterable[int]) -> dict[int, Employee]:
    return Employee.objects.in_bulk(list(ids))
