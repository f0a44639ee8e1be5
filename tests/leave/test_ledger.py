"""The balance ledger: credits, debits, idempotency, opening balances and the CSV import."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.leave.models import BalanceAccount, LeaveType, LedgerEntry, Movement
from ztk.leave.selectors import balance_of
from ztk.leave.services import (
    balance_set_opening,
    balances_import,
    ledger_credit,
    ledger_debit,
)

pytestmark = pytest.mark.django_db


def test_default_types_are_seeded():
    codes = set(LeaveType.objects.values_list("code", flat=True))
    assert {"annual", "sick", "personal", "marriage", "maternity", "bereavement",
            "compensatory"} <= codes  # fmt: skip
    comp = LeaveType.objects.get(code="compensatory")
    assert comp.unit == "hour" and comp.balance_tracked and not comp.allow_negative


def test_overtime_credit_is_idempotent_per_source(org):
    e = org.employee
    first = ledger_credit(employee=e, leave_type="compensatory", amount="3", source="overtime:1")
    again = ledger_credit(employee=e, leave_type="compensatory", amount="3", source="overtime:1")
    assert first.pk == again.pk
    assert first.kind == Movement.OVERTIME_CREDIT
    assert balance_of(e, "compensatory") == Decimal("3")
    ledger_credit(employee=e, leave_type="compensatory", amount="1.5", source="overtime:2",
                  effective=date(2026, 12, 10))  # fmt: skip
    assert balance_of(e, "compensatory") == Decimal("4.5")
    assert balance_of(e, "compensatory", at=date(2026, 12, 9)) == Decimal("3")


def test_debit_below_zero_is_refused_with_the_balance(org):
    e = org.employee
    ledger_credit(employee=e, leave_type="compensatory", amount="2", source="overtime:1")
    with pytest.raises(DomainError) as refused:
        ledger_debit(employee=e, leave_type="compensatory", amount="3", source="x:1")
    assert refused.value.code == "insufficient_balance"
    assert refused.value.details["balance"] == "2.00"
    assert balance_of(e, "compensatory") == Decimal("2")
    assert LedgerEntry.objects.filter(employee=e).count() == 1


def test_account_balance_is_the_sum_of_its_ledger(org):
    e = org.employee
    ledger_credit(employee=e, leave_type="annual", amount="5", source="g", kind=Movement.GRANT)
    ledger_debit(employee=e, leave_type="annual", amount="1.5", source="d",
                 kind=Movement.DEDUCTION)  # fmt: skip
    account = BalanceAccount.objects.get(employee=e, leave_type__code="annual")
    total = sum(x.amount for x in LedgerEntry.objects.filter(account=account))
    assert account.balance == total == Decimal("3.5")
    assert list(LedgerEntry.objects.filter(account=account).values_list("balance_after",
                                                                          flat=True)) == [
        Decimal("5"), Decimal("3.5")]  # fmt: skip


def test_only_hr_sets_opening_balances(org):
    with pytest.raises(PermissionDeniedError):
        balance_set_opening(actor=org.employee.user, employee=org.employee,
                            leave_type="annual", balance="5")  # fmt: skip
    balance_set_opening(actor=org.hr.user, employee=org.employee, leave_type="annual",
                        balance="7")  # fmt: skip
    assert balance_of(org.employee, "annual") == Decimal("7")
    assert balance_set_opening(actor=org.hr.user, employee=org.employee, leave_type="annual",
                               balance="7") is None  # fmt: skip
    balance_set_opening(actor=org.hr.user, employee=org.employee, leave_type="annual",
                        balance="4")  # fmt: skip
    assert balance_of(org.employee, "annual") == Decimal("4")


def test_csv_import_is_all_or_nothing(org):
    bad = "employee_no,type,balance\n1002,annual,5\n9999,annual,3\n1003,sick,2\n"
    with pytest.raises(DomainError) as refused:
        balances_import(actor=org.hr.user, content=bad)
    assert [d["line"] for d in refused.value.details] == [3, 4]
    assert balance_of(org.employee, "annual") == 0
    good = "\ufeffemployee_no,type,balance\n1002,annual,5\n1003,compensatory,8\n"
    result = balances_import(actor=org.hr.user, content=good.encode())
    assert result.applied == 2
    assert balance_of(org.colleague, "compensatory") == Decimal("8")
