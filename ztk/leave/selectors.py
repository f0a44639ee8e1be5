"""Reads of leave: balances and their ledger, requests, who is away."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from ztk.org.models import Employee

from .models import BalanceAccount, LeaveType, LedgerEntry


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
    return qs.order_by("leave_type__order", "effective", "pk")
