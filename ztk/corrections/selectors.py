"""Reads of the correction flow, shared by the API and the pages."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, datetime, timedelta
from typing import Any, overload

from django.db.models import F, Prefetch, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ztk import engine
from ztk.approvals.rules import waiting_q
from ztk.approvals.selectors import QueueEntry, queue_order
from ztk.approvals.sla import Deadlines
from ztk.attendance.days import closed_days, day_preview, employee_zone
from ztk.attendance.models import AttendanceDay
from ztk.attendance.slot_requests import SlotKey, SlotRequest
from ztk.core.errors import DomainError, NotFoundError
from ztk.engine.periods import period_of
from ztk.org.models import Employee
from ztk.org.rules import employee_of, is_hr, is_sysadmin
from ztk.org.selectors import employees_visible_to

from . import policy as p
from .models import (
    COUNTED_STATUSES,
    ApprovalAction,
    Attachment,
    CorrectionRequest,
    ReasonCategory,
    Status,
)
from .rules import may_view
from .services import (
    categories_for,
    check_day,
    deadline_for,
    in_zone,
    policy_for,
    policy_row_for,
    used_in_period,
    working_days_after,
)

SCOPES = ("mine", "to_approve", "all")


def _base() -> QuerySet[CorrectionRequest]:
    return CorrectionRequest.objects.select_related(
        "employee__department",
        "employee__user",
        "applicant",
        "category",
    )


def to_approve_q(user: Any, day: date | None = None) -> Q:
    """Pending requests whose current step `user` may act on (as approver, delegate, HR)."""
    query = waiting_q(user, day)
    return (
        Q(status=Status.PENDING)
        & Q(pk__in=CorrectionRequest.objects.filter(query).values("pk"))
        & ~Q(employee__user=user)
        & ~Q(applicant=user)
    )


def corrections_for(
    user: Any,
    *,
    scope: str = "mine",
    employee: Employee | str | None = None,
    status: str | None = None,
) -> QuerySet[CorrectionRequest]:
    """Requests `user` may list, newest first, with what a list shows in one query.

    mine: filed by or for the user. to_approve: waiting for the user (or someone who
    delegated to them; any HR admin on an HR step) — a filter only: the queue's order is
    ``approval_queue``'s. all: HR and system admins see every
    request; others see those of the employees they may see (themselves, their reports,
    their departments) plus those waiting for them.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return CorrectionRequest.objects.none()
    if scope not in SCOPES:
        raise DomainError("bad_scope", "scope must be mine, to_approve or all")
    qs = _base()
    if scope == "mine":
        me = employee_of(user)
        query = Q(applicant=user)
        if me is not None:
            query |= Q(employee=me)
        qs = qs.filter(query)
    elif scope == "to_approve":
        qs = qs.filter(to_approve_q(user))
    elif not (is_hr(user) or is_sysadmin(user)):
        visible = employees_visible_to(user).values("pk")
        qs = qs.filter(Q(employee__in=visible) | Q(applicant=user) | to_approve_q(user))
    if employee is not None:
        if isinstance(employee, Employee):
            qs = qs.filter(employee=employee)
        else:
            qs = qs.filter(employee__employee_no=employee)
    if status:
        qs = qs.filter(status=status)
    if scope == "to_approve":  # approval_queue gives the queue's order (overdue first)
        return qs.order_by("-expedited", "step_started_at", "pk")
    return qs.order_by("-created_at", "-pk")


class ApprovalQueue:
    """Requests waiting for an approver in the one queue order (``approvals.selectors``):
    overdue first, then expedited (加急), then the longest waiting. The order needs each
    step's deadline (working days), so the queue is read and ordered in memory once; a
    slice gives requests, ``len``/``count`` the size (a Paginator accepts it)."""

    def __init__(self, qs: QuerySet[CorrectionRequest], now: datetime) -> None:
        requests = list(qs.select_related("employee__attendance_group"))
        deadlines = Deadlines((r.step_started_at for r in requests), now)
        zones: dict[int | None, Any] = {}
        entries = []
        for req in requests:
            group = req.employee.attendance_group_id
            if group not in zones:
                zones[group] = employee_zone(req.employee)
            step = req.step() or {}
            due = deadlines.of(
                req.step_started_at, int(step.get("deadline_working_days") or 1), zones[group]
            )
            entries.append(QueueEntry(req, req.pk, req.expedited, req.step_started_at, due))
        self.items: list[CorrectionRequest] = queue_order(entries, now)

    def __len__(self) -> int:
        return len(self.items)

    def count(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[CorrectionRequest]:
        return iter(self.items)

    @overload
    def __getitem__(self, index: int) -> CorrectionRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[CorrectionRequest]: ...
    def __getitem__(self, index: int | slice) -> CorrectionRequest | list[CorrectionRequest]:
        return self.items[index]


def approval_queue(
    user: Any,
    *,
    within: QuerySet[CorrectionRequest] | None = None,
    employee: Employee | str | None = None,
    now: datetime | None = None,
) -> ApprovalQueue:
    """Every request waiting for `user` — as approver, delegate or HR — in the one order
    the inbox page and the API list it. `within`: ``corrections_for(user,
    scope="to_approve")`` narrowed further (a search, dates) by the caller."""
    if within is None:
        within = corrections_for(user, scope="to_approve", employee=employee)
    return ApprovalQueue(within, now or timezone.now())


def correction_get(user: Any, pk: int) -> CorrectionRequest:
    """One request with its trail and attachments, or 404 for anyone who may not see it."""
    req = (
        _base()
        .select_related("resubmission_of", "decided_by")
        .prefetch_related(
            Prefetch(
                "actions",
                queryset=ApprovalAction.objects.select_related(
                    "actor__employee", "from_user", "to_user"
                ),
            ),
            Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at", "pk")),
        )
        .filter(pk=pk)
        .first()
    )
    if req is None or not may_view(user, req):
        raise NotFoundError()
    return req


def attachment_for(user: Any, pk: int) -> Attachment:
    """An attachment for download: 404 unless `user` may see its request."""
    attachment = (
        Attachment.objects.select_related("request__employee__user", "request__employee")
        .filter(pk=pk)
        .first()
    )
    if attachment is None or not may_view(user, attachment.request):
        raise NotFoundError()
    return attachment


def quota_for(
    employee: Employee, period: date | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """The employee's limit in the period containing `period` (default: today), what is
    used, and the anomalies that could still be corrected with their last day to apply."""
    now = now or timezone.now()
    if period is not None:
        check_day(period)
    tz = employee_zone(employee)
    today = now.astimezone(tz).date()
    row = policy_row_for(employee.attendance_group)
    policy = policy_for(row, categories_for(row))
    start, end = period_of(period or today, policy.period_start_day)
    used = used_in_period(employee, start, row)
    limit = policy.monthly_limit
    requested = set(
        CorrectionRequest.objects.filter(
            employee=employee, date__gte=start, date__lte=end, status__in=COUNTED_STATUSES
        ).values_list("date", "slot_key")
    )
    working = working_days_after(start - timedelta(days=1), (end - start).days + 100)
    anomalies = []
    rows = AttendanceDay.objects.filter(
        employee=employee, day__gte=start, day__lte=min(end, today)
    ).order_by("day")
    closed = closed_days(employee.attendance_group_id, [start])
    for row_day in [] if closed else rows:
        for slot in row_day.slots:
            if slot.get("status") not in policy.correctable:
                continue
            if (row_day.day, slot["key"]) in requested:
                continue
            last = p.apply_deadline(policy, row_day.day, working)
            if last is None or last < today:
                continue
            anomalies.append(
                {
                    "day": row_day.day,
                    "slot": slot["key"],
                    "status": slot["status"],
                    "expected": slot.get("expected"),
                    "last_day_to_apply": last,
                }
            )
    return {
        "employee": employee.employee_no,
        "period_start": start,
        "period_end": end,
        "used": used,
        "limit": limit,
        "remaining": max(limit - used, 0) if limit else None,
        "open_anomalies": anomalies,
    }


def correction_preview(
    target: CorrectionRequest | Any,
    *,
    employee: Employee | None = None,
    now: datetime | None = None,
) -> engine.DayResult | None:
    """The day as the engine would give it with the requested time added as a correction
    punch (pure: nothing is written). `target` is a request, or an ``ItemIn`` together
    with `employee`. Approvers see the same preview as the applicant."""
    if isinstance(target, CorrectionRequest):
        employee = target.employee
        day, at = target.date, target.requested_time
        if target.punch_id is not None:  # approved: the punch is stored already
            return day_preview(employee, day, now=now)
    else:
        if employee is None:
            raise ValueError("correction_preview: an item needs its employee")
        check_day(target.day)
        check_day(target.requested_time.date())
        day, at = target.day, in_zone(target.requested_time, employee_zone(employee))
    fake = engine.PunchIn("preview", at, "correction")
    return day_preview(employee, day, [fake], now=now)


def pending_for_period(*, group: Any, period_start: date) -> QuerySet[CorrectionRequest]:
    """The group's requests of the period starting `period_start` still pending, in the
    order the month close lists them (day, employee number)."""
    return (
        CorrectionRequest.objects.filter(
            employee__attendance_group=group, period_start=period_start, status=Status.PENDING
        )
        .select_related("employee", "employee__department", "category")
        .order_by("date", "employee__employee_no", "pk")
    )


def deadlines_for(employees: Collection[Employee], day: date) -> dict[int, date | None]:
    """Each employee's last day to apply for a correction of `day`, under their group's
    policy (one policy read per group, not per person); registered with
    ``ztk.attendance.slot_requests`` for the missed-punch alert."""
    by_group: dict[int | None, date | None] = {}
    found: dict[int, date | None] = {}
    for employee in employees:
        group_id = employee.attendance_group_id
        if group_id not in by_group:
            row = policy_row_for(employee.attendance_group)
            by_group[group_id] = deadline_for(policy_for(row, categories_for(row)), day)
        found[employee.pk] = by_group[group_id]
    return found


def slot_requests(
    employee_ids: Collection[int], start: date, end: date
) -> dict[SlotKey, SlotRequest]:
    """The pending or approved request of each slot of these employees' days from `start`
    to `end`, with its page: what the day page, the month calendar and the missed-punch
    alert show instead of "apply" (registered in ``ztk.attendance.slot_requests``). One
    query; a pending request wins over an older approved one."""
    found: dict[SlotKey, SlotRequest] = {}
    rows = (
        CorrectionRequest.objects.filter(
            employee_id__in=list(employee_ids),
            date__gte=start,
            date__lte=end,
            status__in=COUNTED_STATUSES,
        )
        .order_by("pk")
        .values_list("pk", "employee_id", "date", "slot_key", "status")
    )
    for pk, employee_id, day, slot_key, status in rows:
        key = (employee_id, day, slot_key)
        if key in found and found[key].pending:
            continue
        try:
            url = reverse("requests:detail", args=[pk])
        except NoReverseMatch:  # pages not mounted (an API-only deployment)
            url = ""
        found[key] = SlotRequest(pk=pk, status=str(status), url=url)
    return found


def reason_categories(
    *, active: bool | None = None, group: str | None = None
) -> QuerySet[ReasonCategory]:
    """Every reason category as configured, for integrators: the global ones (policy
    empty: offered to every group) first, then each group's own, in their order. `group`
    (a group code) keeps the global ones and that group's; `active` filters by the switch."""
    rows = ReasonCategory.objects.select_related("policy__group")
    if active is not None:
        rows = rows.filter(active=active)
    if group:
        rows = rows.filter(Q(policy__isnull=True) | Q(policy__group__code=group))
    return rows.order_by(F("policy__group__code").asc(nulls_first=True), "order", "code", "pk")
