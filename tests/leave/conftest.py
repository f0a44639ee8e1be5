"""Leave test helpers: the corrections' 09:00–18:00 week, a night shift, submitting."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest
from django.test import TestCase

from tests.api.conftest import keys  # noqa: F401 - the API keys fixture
from tests.corrections.conftest import MON, NOW, SH, TUE, WED, at, week_for  # noqa: F401
from ztk.leave.absence_services import absence_approve, absence_submit
from ztk.leave.models import LeaveType
from ztk.leave.services import ledger_credit
from ztk.scheduling.models import RosterEntry, Shift, ShiftSegment

THU = date(2026, 11, 26)
FRI = date(2026, 11, 27)
SAT = date(2026, 11, 28)


def seed_types() -> None:
    """The default leave types (the data migration's), again after a transactional test
    flushed the tables."""
    import importlib

    defaults = importlib.import_module("ztk.leave.migrations.0002_default_leave_types")
    from django.apps import apps

    defaults.seed(apps, None)


@pytest.fixture(autouse=True)
def leave_types(request):
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        seed_types()


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def week(org, clock):
    return week_for(org)


def commits():
    """Run the on-commit callbacks (the recompute after an exemption) inside a test."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def annual() -> LeaveType:
    return LeaveType.objects.get(code="annual")


def grant(employee, amount="5", code="annual"):
    return ledger_credit(employee=employee, leave_type=code, amount=Decimal(amount),
                         source=f"test-grant:{employee.pk}:{code}", kind="grant")  # fmt: skip


def leave(employee, day=MON, end=None, code="annual", actor=None, **kw):
    return absence_submit(
        actor=actor or employee.user,
        employee=employee,
        kind="leave",
        leave_type=LeaveType.objects.get(code=code),
        start_date=day,
        end_date=end or day,
        **kw,
    )


def approve_all(org, req):
    with commits():
        req = absence_approve(actor=org.supervisor.user, request=req)
        if req.status == "pending":
            req = absence_approve(actor=org.hr.user, request=req)
    return req


def night_shift(org, day):
    """A 22:00–06:00 night shift rostered on `day` for the employee."""
    shift = Shift.objects.create(code="N22", name="夜班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(22), end=time(6))
    RosterEntry.objects.create(employee=org.employee, date=day, shift=shift)
    return shift
