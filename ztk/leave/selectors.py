"""Reads of leave: balances and their ledger, requests, who is away."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum

from ztk.approvals.rules import waiting_q
from ztk.core.errors import DomainError, NotFoundError
from ztk.org.models import Employee
from ztk.org.rules import employee_of, is_hr, is_sysadmin
from ztk.org.selectors import employees_visible_to

from .models import (
    AbsenceAction,
    AbsenceRequest,
    BalanceAccount,
    LeaveType,
    LedgerEntry,
    Status,
)
from .rules import may_view

SCOPES = ("mine", "to_approve", "all")


def balance_of(
    employee: Employee | int, leave_type: LeaveType | str, at: date | None = None
) -> Decimal:
    """The employee's balance of the type (in its unit): now, or as of the end of `at`
    (the sum of the ledger's movements effective on or before that day)."""
    employee_id = employee if isinstance(employee, int) else employee.pk
    if isinstance(leave_type, str):
        type_filter: dict[str, Any] = {"leave_type__code": leave_type}
    else:
        type_filter = {"leave_type": leave_type}
    if at is None:
        found = (
            BalanceAccount.objects.filter(employee_id=employee_id, **type_filter)
            .values_list("balance", flat=True)
            .first()
        )
        return found if found is not None else Decimal("0")
    total = LedgerEntry.objects.filter(
        employee_id=employee_id, effective__lte=at, **type_filter
    ).aggregate(s=Sum("amount"))["s"]
    return total if total is not None else Decimal("0")


def balances_for(employee: Employee) -> list[tuple[LeaveType, Decimal]]:
    """Every active balance-tracked type with the employee's balance now."""
    accounts = dict(
        BalanceAccount.objects.filter(employee=employee).values_list("leave_type_id", "balance")
    )
    return [
        (t, accounts.get(t.pk, Decimal("0")))
        for t in LeaveType.objects.filter(balance_tracked=True, active=True)
    ]


def ledger_of(employee: Employee, leave_type: LeaveType | None = None) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.filter(employee=employee).select_related("leave_type", "created_by")
    if leave_type is not None:
        qs = qs.filter(leave_type=leave_type)
    return qs.order_by("leave_type__order", "pk")  # as recorded: balance_after follows


# --------------------------------------------------------------------------- requests


def _base() -> QuerySet[AbsenceRequest]:
    return AbsenceRequest.objects.select_related(
        "employee__user", "employee__department", "employee__attendance_group",
        "applicant__employee", "leave_type",
    )  # fmt: skip


def to_approve_q(user: Any, day: date | None = None) -> Q:
    """Pending requests whose current step `user` may decide (approver, delegate, HR)."""
    return (
        Q(status=Status.PENDING)
        & Q(pk__in=AbsenceRequest.objects.filter(waiting_q(user, day)).values("pk"))
        & ~Q(employee__user=user)
        & ~Q(applicant=user)
    )


def absences_for(
    user: Any,
    *,
    scope: str = "mine",
    employee: Employee | str | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> QuerySet[AbsenceRequest]:
    """Requests `user` may list (mine / waiting for me / all I may see), newest first;
    the queue (to_approve) longest waiting first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return AbsenceRequest.objects.none()
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
    if kind:
        qs = qs.filter(kind=kind)
    if scope == "to_approve":
        return qs.order_by("step_started_at", "pk")
    return qs.order_by("-created_at", "-pk")


def absence_get(user: Any, pk: int) -> AbsenceRequest:
    """One request with its trail, or 404 for anyone who may not see it."""
    req = (
        _base()
        .select_related("decided_by", "cancels")
        .prefetch_related(
            Prefetch("actions", queryset=AbsenceAction.objects.select_related("actor__employee")),
            "attachments",
            "cancellations",
        )
        .filter(pk=pk)
        .first()
    )
    if req is None or not may_view(user, req):
        raise NotFoundError()
    return req


def away(
    user: Any, start: date, end: date, employees: QuerySet[Employee] | None = None
) -> list[AbsenceRequest]:
    """Approved (and pending) leave, outings and trips of the people `user` may see that
    touch [start, end]: the team calendar of who is away."""
    qs = _base().filter(
        status__in=(Status.APPROVED, Status.PENDING),
        cancels__isnull=True,
        start_date__lte=end,
        end_date__gte=start,
    )
    if not (is_hr(user) or is_sysadmin(user)):
        qs = qs.filter(employee__in=employees_visible_to(user).values("pk"))
    if employees is not None:
        qs = qs.filter(employee__in=employees.values("pk"))
    return list(qs.order_by("employee__employee_no", "start_date", "pk"))


def balances_table(
    department: str | None = None,
) -> tuple[list[LeaveType], list[dict[str, Any]]]:
    """The balances report: every active employee (of a department) with their balance of
    each active balance-tracked type, in employee-number order (one query per table)."""
    types = list(LeaveType.objects.filter(balance_tracked=True, active=True))
    people = Employee.objects.select_related("department").order_by("employee_no")
    if department:
        people = people.filter(department__code=department)
    people = people.filter(active=True)
    held: dict[tuple[int, int], Decimal] = {
        (e, t): b
        for e, t, b in BalanceAccount.objects.filter(employee__in=people.values("pk")).values_list(
            "employee_id", "leave_type_id", "balance"
        )
    }
    rows = [
        {"employee": e, "values": [held.get((e.pk, t.pk), Decimal("0")) for t in types]}
        for e in people
    ]
    return types, rows
