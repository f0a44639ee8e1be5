"""Cancelling approved overtime (撤销) is a request approved on the same chain, like 销假."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ztk.attendance.models import AttendanceDay, AttendancePeriod, PeriodStatus
from ztk.attendance.services import recompute
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.leave import services as leave
from ztk.leave.models import LeaveType, Movement
from ztk.leave.selectors import balance_of
from ztk.notifications.models import Notification
from ztk.overtime import services
from ztk.overtime.models import Compensation, OvertimeRequest, Status

from .conftest import REASON, SAT, at, punch

pytestmark = pytest.mark.django_db


def counted(org) -> int:
    return AttendanceDay.objects.get(employee=org.employee, day=SAT).overtime_counted_minutes


def approve_all(org, req):
    req = services.overtime_approve(actor=org.supervisor.user, request=req)
    return services.overtime_approve(actor=org.hr.user, request=req)


def approved_saturday(org, **kwargs) -> OvertimeRequest:
    punch(org.employee, at(SAT, 9), at(SAT, 12))
    req = services.overtime_submit(
        actor=org.employee.user,
        employee=org.employee,
        start=at(SAT, 9),
        end=at(SAT, 12),
        reason=REASON,
        **kwargs,
    )
    return approve_all(org, req)


def credited_saturday(org) -> OvertimeRequest:
    """Approved as 调休 and settled: 3 h on the balance."""
    req = approved_saturday(org, compensation=Compensation.TIME_OFF)
    recompute([(org.employee.pk, SAT)], finalise=True)
    assert services.settle_due() == 1
    req.refresh_from_db()
    assert balance_of(org.employee, "compensatory") == Decimal("3.00")
    return req


def ask(org, req, actor=None, reason="搞错了"):
    return services.overtime_cancel(actor=actor or org.employee.user, request=req, reason=reason)


def test_cancellation_is_a_request_on_the_chain_and_counts_until_approved(week):
    org = week
    original = approved_saturday(org)
    assert counted(org) == 180
    cancel = ask(org, original)
    assert (cancel.status, cancel.cancels_id, cancel.current_step) == ("pending", original.pk, 1)
    assert cancel.is_cancellation
    original.refresh_from_db()
    assert original.status == Status.APPROVED and counted(org) == 180  # nothing yet
    note = Notification.objects.get(recipient=org.supervisor.user, data__overtime_id=cancel.pk)
    assert "撤销" in note.title or "cancel" in note.title.lower()
    with pytest.raises(DomainError) as twice:
        ask(org, original)
    assert twice.value.code == "already_cancelling"

    cancel = services.overtime_approve(actor=org.supervisor.user, request=cancel)
    assert cancel.status == Status.PENDING and counted(org) == 180  # HR's step next
    cancel = services.overtime_approve(actor=org.hr.user, request=cancel)
    original.refresh_from_db()
    assert (cancel.status, original.status) == (Status.APPROVED, Status.CANCELLED)
    assert counted(org) == 0
    assert Notification.objects.filter(recipient=org.employee.user, kind="overtime_cancelled")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"overtime.request.cancel_submit", "overtime.request.cancelled"} <= actions
    # The cancelled span is free again; the cancellation itself never holds it.
    again = services.overtime_submit(
        actor=org.employee.user, employee=org.employee, start=at(SAT, 9), end=at(SAT, 11),
        reason=REASON,
    )  # fmt: skip
    assert again.status == Status.PENDING


def test_rejected_cancellation_changes_nothing(week):
    org = week
    original = credited_saturday(org)
    cancel = ask(org, original)
    services.overtime_reject(actor=org.supervisor.user, request=cancel, reason="确实加班了")
    original.refresh_from_db()
    assert original.status == Status.APPROVED and original.credited_minutes == 180
    assert counted(org) == 180
    assert balance_of(org.employee, "compensatory") == Decimal("3.00")
    assert Notification.objects.filter(recipient=org.employee.user, kind="overtime_rejected")


def test_approved_cancellation_takes_back_the_time_off(week):
    org = week
    original = credited_saturday(org)
    cancel = approve_all(org, ask(org, original))
    assert cancel.status == Status.APPROVED
    original.refresh_from_db()
    assert (original.status, original.credited_minutes) == (Status.CANCELLED, 0)
    assert balance_of(org.employee, "compensatory") == 0
    assert counted(org) == 0


def use_two_hours(org):
    leave.ledger_debit(
        employee=org.employee, leave_type="compensatory", amount="2", source="test:taken",
        kind=Movement.DEDUCTION,
    )  # fmt: skip


def test_time_off_already_taken_refuses_the_cancellation(week):
    org = week
    original = credited_saturday(org)
    use_two_hours(org)
    with pytest.raises(DomainError) as refused:
        ask(org, original)
    assert refused.value.code == "time_off_used"
    assert not original.cancellations.exists()


def test_time_off_taken_while_the_cancellation_waits_refuses_its_approval(week):
    org = week
    original = credited_saturday(org)
    cancel = services.overtime_approve(actor=org.supervisor.user, request=ask(org, original))
    use_two_hours(org)
    with pytest.raises(DomainError) as refused:
        services.overtime_approve(actor=org.hr.user, request=cancel)
    assert refused.value.code == "time_off_used"
    cancel.refresh_from_db()
    original.refresh_from_db()
    assert cancel.status == Status.PENDING and original.status == Status.APPROVED
    assert balance_of(org.employee, "compensatory") == Decimal("1.00")
    assert counted(org) == 180


def test_negative_allowed_type_lets_the_cancellation_through(week):
    org = week
    LeaveType.objects.filter(code="compensatory").update(allow_negative=True)
    original = credited_saturday(org)
    use_two_hours(org)
    approve_all(org, ask(org, original))
    assert balance_of(org.employee, "compensatory") == Decimal("-2.00")


def test_refusals_and_who_may_ask(week):
    org = week
    original = approved_saturday(org)
    with pytest.raises((PermissionDeniedError, Exception)):
        ask(org, original, actor=org.stranger.user)
    with pytest.raises(DomainError) as short:
        ask(org, original, reason="x")
    assert short.value.code == "reason_required"
    pending = services.overtime_submit(
        actor=org.employee.user, employee=org.employee, start=at(SAT, 13), end=at(SAT, 14),
        reason=REASON,
    )  # fmt: skip
    with pytest.raises(DomainError) as not_approved:
        ask(org, pending)
    assert not_approved.value.code == "not_approved"
    AttendancePeriod.objects.create(
        group=org.group, start=SAT.replace(day=1), end=SAT.replace(day=30),
        status=PeriodStatus.CLOSED,
    )  # fmt: skip
    with pytest.raises(DomainError) as closed:
        ask(org, original)
    assert closed.value.code == "period_closed"


def test_hr_on_the_employees_behalf_is_routed_and_audited(week):
    org = week
    original = approved_saturday(org)
    cancel = ask(org, original, actor=org.hr.user)
    assert (cancel.on_behalf, cancel.applicant_id) == (True, org.hr.user.pk)
    event = AuditEvent.objects.get(action="overtime.request.cancel_submit")
    assert event.actor_id == org.hr.user.pk
    while cancel.status == Status.PENDING:  # the chain's remaining steps decide it
        approver = org.supervisor.user if cancel.current_kind == "supervisor" else org.hr.user
        cancel = services.overtime_approve(actor=approver, request=cancel)
    original.refresh_from_db()
    assert (cancel.status, original.status) == ("approved", "cancelled")
    assert counted(org) == 0
