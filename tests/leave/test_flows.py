"""Absence requests end to end: submit → chain → exemptions and balance → cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from ztk.attendance.models import AttendanceDay
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.leave.absence_services import (
    absence_approve,
    absence_cancel,
    absence_reject,
    absence_submit,
    absence_withdraw,
)
from ztk.leave.models import AbsencePolicy, LeaveType
from ztk.leave.selectors import balance_of
from ztk.notifications.models import Notification
from ztk.scheduling.models import Exemption

from .conftest import MON, SH, TUE, WED, approve_all, at, commits, grant, leave, night_shift

pytestmark = pytest.mark.django_db


def day_row(employee, day):
    row = AttendanceDay.objects.get(employee=employee, day=day)
    return row.status, {s["key"]: s["status"] for s in row.slots}


def test_annual_leave_approved_becomes_exempt_day_and_debits_the_balance(week):
    org = week
    grant(org.employee, "5")
    with commits():
        req = leave(org.employee, MON, TUE)
    assert req.amount == Decimal("2") and req.status == "pending"
    assert [s["kind"] for s in req.chain] == ["supervisor", "hr"]
    assert Notification.objects.filter(
        recipient=org.supervisor.user, kind="absence_submitted"
    ).exists()
    req = approve_all(org, req)
    assert req.status == "approved"
    assert balance_of(org.employee, "annual") == Decimal("3")
    assert day_row(org.employee, MON) == ("leave", {"in1": "exempt", "out1": "exempt"})
    assert day_row(org.employee, TUE)[0] == "leave"
    assert req.exemptions.count() == 2
    assert AuditEvent.objects.filter(action="leave.request.approve").count() == 2


def test_half_day_morning_exempts_the_check_in_only(week):
    org = week
    grant(org.employee, "5")
    req = leave(org.employee, MON, start_part="am")
    assert req.amount == Decimal("0.5")
    req = approve_all(org, req)
    status, slots = day_row(org.employee, MON)
    assert slots["in1"] == "exempt" and slots["out1"] != "exempt"
    assert balance_of(org.employee, "annual") == Decimal("4.5")


def test_cancel_after_approval_restores_day_and_balance_exactly(week):
    org = week
    grant(org.employee, "5")
    with commits():
        pass
    before = day_row(org.employee, MON) if AttendanceDay.objects.filter(
        employee=org.employee, day=MON).exists() else None  # fmt: skip
    req = approve_all(org, leave(org.employee, MON))
    assert balance_of(org.employee, "annual") == Decimal("4")
    cancellation = absence_cancel(actor=org.employee.user, request=req, reason="提前回来了")
    assert cancellation.status == "pending" and cancellation.cancels_id == req.pk
    cancellation = approve_all(org, cancellation)
    req.refresh_from_db()
    assert (cancellation.status, req.status) == ("approved", "cancelled")
    assert balance_of(org.employee, "annual") == Decimal("5")
    assert not Exemption.objects.filter(employee=org.employee, voided_at__isnull=True).exists()
    status, slots = day_row(org.employee, MON)
    assert status == "absent" and set(slots.values()) == {"missing"}
    if before is not None:
        assert (status, slots) == before
    kinds = list(
        org.employee.leave_accounts.get().entries.order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["grant", "deduction", "restoration"]


def test_exceeding_the_balance_is_refused_with_the_balance_shown(week):
    org = week
    grant(org.employee, "1")
    with pytest.raises(DomainError) as refused:
        leave(org.employee, MON, TUE)
    assert refused.value.code == "insufficient_balance"
    assert refused.value.details["balance"] == "1.00"
    # a pending request holds its amount: a second one cannot count on the same day
    leave(org.employee, MON)
    with pytest.raises(DomainError) as refused:
        leave(org.employee, TUE)
    assert refused.value.code == "insufficient_balance"


def test_negative_allowed_when_the_type_says_so(week):
    org = week
    LeaveType.objects.filter(code="annual").update(allow_negative=True)
    req = approve_all(org, leave(org.employee, MON, TUE))
    assert req.status == "approved"
    assert balance_of(org.employee, "annual") == Decimal("-2")


def test_refusal_codes(week):
    org = week
    grant(org.employee, "5")
    leave(org.employee, MON)
    with pytest.raises(DomainError) as refused:
        leave(org.employee, MON)
    assert refused.value.code == "overlaps_existing"
    with pytest.raises(DomainError) as refused:
        leave(org.employee, WED, code="personal")  # one day's notice, asked on the day
    assert refused.value.code == "notice_too_short"
    with pytest.raises(DomainError) as refused:
        leave(org.employee, TUE, code="sick")
    assert refused.value.code == "attachment_required"
    with pytest.raises(DomainError) as refused:
        leave(org.employee, MON - timedelta(days=2))  # a Saturday
    assert refused.value.code == "no_working_time"


def test_period_closed_is_refused(week):
    from ztk.attendance.models import AttendancePeriod, PeriodStatus

    org = week
    grant(org.employee, "5")
    AttendancePeriod.objects.create(
        group=org.group, start=MON.replace(day=1), end=MON.replace(day=30),
        status=PeriodStatus.CLOSED,
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        leave(org.employee, MON)
    assert refused.value.code == "period_closed"


def test_withdraw_and_reject(week):
    org = week
    grant(org.employee, "5")
    req = leave(org.employee, MON)
    with pytest.raises(NotFoundError):  # a colleague does not even see it
        absence_withdraw(actor=org.colleague.user, request=req)
    req = absence_withdraw(actor=org.employee.user, request=req)
    assert req.status == "withdrawn"
    req = leave(org.employee, MON)
    with pytest.raises(PermissionDeniedError):
        absence_approve(actor=org.employee.user, request=req)
    req = absence_reject(actor=org.supervisor.user, request=req, reason="项目上线")
    assert req.status == "rejected"
    assert balance_of(org.employee, "annual") == Decimal("5")


def test_hr_filing_on_behalf_is_final_at_once(week):
    org = week
    LeaveType.objects.filter(code="sick").update(attachment_required=False)
    AbsencePolicy.objects.create(group=org.group, chain_preset="flat")
    with commits():
        req = leave(org.employee, MON, code="sick", actor=org.hr.user)
    assert req.status == "approved"
    assert day_row(org.employee, MON)[0] == "leave"


def test_outing_with_field_punches_creates_no_exemption(week):
    org = week
    AbsencePolicy.objects.create(group=org.group, outing_mode="field", chain_preset="single")
    req = absence_submit(actor=org.employee.user, employee=org.employee, kind="outing",
                         start_date=MON, start_at=at(MON, 14), end_at=at(MON, 18),
                         destination="客户现场", purpose="安装调试")  # fmt: skip
    assert req.amount == Decimal("4")
    with commits():
        req = absence_approve(actor=org.supervisor.user, request=req)
    assert req.status == "approved" and req.exemptions.count() == 0


def test_trip_exempts_whole_days(week):
    org = week
    req = absence_submit(
        actor=org.employee.user, employee=org.employee, kind="trip",
        start_date=MON, end_date=TUE, destination="北京", purpose="客户会议",
    )  # fmt: skip
    req = approve_all(org, req)
    assert [e.kind for e in req.exemptions.all()] == ["trip", "trip"]
    assert day_row(org.employee, MON)[0] == "leave"


def test_night_shift_leave_runs_across_midnight(week):
    org = week
    grant(org.employee, "5")
    night_shift(org, MON)
    req = leave(org.employee, MON)
    start, end, day = req.intervals[0]
    assert (datetime.fromisoformat(start), datetime.fromisoformat(end), day) == (
        at(MON, 22), at(TUE, 6), MON.isoformat())  # fmt: skip
    req = approve_all(org, req)
    assert day_row(org.employee, MON)[0] == "leave"


def test_hours_of_compensatory_leave(week):
    org = week
    grant(org.employee, "3", code="compensatory")
    req = absence_submit(actor=org.employee.user, employee=org.employee, kind="leave",
                         leave_type=LeaveType.objects.get(code="compensatory"),
                         start_date=MON, start_at=at(MON, 9), end_at=at(MON, 11))  # fmt: skip
    assert req.amount == Decimal("2")
    approve_all(org, req)
    assert balance_of(org.employee, "compensatory") == Decimal("1")
    assert at(MON, 9).astimezone(SH).hour == 9
