"""The accrual rules: yearly grant, monthly accrual, carry-over with expiry; idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ztk.leave.models import AbsencePolicy, LeaveType
from ztk.leave.selectors import balance_of
from ztk.leave.services import accrue

from .conftest import leave, week_for

pytestmark = pytest.mark.django_db


def test_yearly_grant_once_and_monthly_accrual(org):
    LeaveType.objects.filter(code="compensatory").update(monthly_accrual=Decimal("2"))
    accrue(today=date(2026, 3, 5))
    accrue(today=date(2026, 3, 20))  # the same day again: nothing new
    assert balance_of(org.employee, "annual") == Decimal("5")
    assert balance_of(org.employee, "compensatory") == Decimal("2")
    accrue(today=date(2026, 4, 1))
    assert balance_of(org.employee, "annual") == Decimal("5")
    assert balance_of(org.employee, "compensatory") == Decimal("4")


def test_carry_over_capped_then_unused_part_expires(org, time_machine):
    time_machine.move_to("2026-12-01T10:00:00+08:00", tick=False)
    LeaveType.objects.filter(code="annual").update(yearly_grant=Decimal("10"),
                                                   carry_over_max=Decimal("4"),
                                                   carry_over_expiry_months=3)  # fmt: skip
    accrue(today=date(2026, 1, 1))
    assert balance_of(org.employee, "annual") == Decimal("10")
    # 2027: 4 of the 10 left carry over, 10 new; then 1 day taken in February
    accrue(today=date(2027, 1, 1))
    assert balance_of(org.employee, "annual") == Decimal("14")
    accrue(today=date(2027, 1, 2))
    assert balance_of(org.employee, "annual") == Decimal("14")
    week_for(org)
    AbsencePolicy.objects.create(group=org.group, chain_preset="flat")
    time_machine.move_to("2027-02-01T10:00:00+08:00", tick=False)
    leave(org.employee, date(2027, 2, 2), actor=org.hr.user)
    assert balance_of(org.employee, "annual") == Decimal("13")
    # on 1 April the 3 carried-over days not used expire, once
    accrue(today=date(2027, 4, 1))
    accrue(today=date(2027, 4, 2))
    assert balance_of(org.employee, "annual") == Decimal("10")
