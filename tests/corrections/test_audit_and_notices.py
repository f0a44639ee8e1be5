"""Every state change is audited with before/after, people are told, nothing on rollback;
overdue steps are announced once; closing a period cancels what is pending."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from ztk.audit.models import AuditEvent
from ztk.audit.selectors import audit_verify
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.corrections.models import ChainPreset, CorrectionPolicy, Status
from ztk.corrections.services import (
    correction_approve,
    correction_comment,
    correction_reject,
    correction_transfer,
    correction_withdraw,
    corrections_cancel_for_period,
    corrections_notify_overdue,
    delegation_create,
)
from ztk.notifications.models import Notification

from .conftest import MON, SH, TUE, WED, item, only_checkout, submit

pytestmark = pytest.mark.django_db


def events(prefix="corrections.request."):
    return {
        e.action.removeprefix(prefix): e.changes
        for e in AuditEvent.objects.filter(action__startswith=prefix).order_by("seq")
    }


def inbox(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_every_state_change_is_audited_with_before_and_after(week):
    org = week
    only_checkout(org.employee, MON, TUE)
    first, second = submit(org.employee.user, org.employee, item(MON), item(TUE))

    correction_approve(actor=org.supervisor.user, request=first, adjusted_time=first.requested_time
                       - timedelta(minutes=3))  # fmt: skip
    correction_transfer(actor=org.hr.user, request=first, to_user=org.head.user, comment="请复核")
    correction_approve(actor=org.head.user, request=first)
    correction_reject(actor=org.supervisor.user, request=second, reason="与门禁记录不符")

    audited = events()
    assert set(audited) >= {"submit", "adjust_time", "approve", "transfer", "reject"}
    submitted = AuditEvent.objects.filter(action="corrections.request.submit").first()
    assert submitted.changes["after"]["status"] == "pending"
    approvals = AuditEvent.objects.filter(action="corrections.request.approve").order_by("seq")
    assert [(a.changes["before"]["current_step"], a.changes["after"]["current_step"])
            for a in approvals] == [(1, 2), (2, None)]  # fmt: skip
    assert approvals.last().changes["after"]["status"] == "approved"
    rejected = AuditEvent.objects.get(action="corrections.request.reject")
    assert (rejected.changes["before"]["status"], rejected.changes["after"]["status"]) == (
        "pending",
        "rejected",
    )
    transfer = AuditEvent.objects.get(action="corrections.request.transfer")
    assert transfer.changes["before"]["approvers"] == [org.hr.user_id]
    assert transfer.changes["after"]["approvers"] == [org.head.user_id]
    assert AuditEvent.objects.filter(action="corrections.punch").count() == 1
    assert audit_verify().ok


def test_withdraw_cancel_and_comment_are_audited(week):
    org = week
    only_checkout(org.employee, MON, TUE)
    first, second = submit(org.employee.user, org.employee, item(MON), item(TUE))
    correction_comment(actor=org.supervisor.user, request=first, comment="请补充门禁截图")
    correction_withdraw(actor=org.employee.user, request=first)
    count = corrections_cancel_for_period(
        actor=org.hr.user, group=org.group, period_start=date(2026, 11, 1), reason="十一月已结账"
    )
    assert count == 1
    audited = events()
    assert audited["withdraw"]["after"]["status"] == "withdrawn"
    assert audited["cancel"]["before"]["status"] == "pending"
    assert audited["cancel"]["after"]["status"] == "cancelled"
    assert audited["comment"]["comment"] == "请补充门禁截图"
    second.refresh_from_db()
    assert second.status == Status.CANCELLED
    assert second.actions.filter(action="cancel", comment="十一月已结账").exists()
    assert "correction_cancelled" in inbox(org.employee.user)
    assert "correction_comment" in inbox(org.employee.user)


def test_cancel_for_period_is_for_hr_only(week):
    with pytest.raises(PermissionDeniedError):
        corrections_cancel_for_period(
            actor=week.supervisor.user, group=week.group, period_start=date(2026, 11, 1)
        )


def test_approvers_and_employee_are_notified(week):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee, item(expedited=True, justification="月底算薪"))
    assert inbox(org.supervisor.user) == ["correction_submitted"]
    note = Notification.objects.get(recipient=org.supervisor.user)
    assert note.data["correction_id"] == req.pk
    assert "加急" in note.title or "Expedited" in note.title
    assert inbox(org.hr.user) == []  # not yet: HR is step 2
    correction_approve(actor=org.supervisor.user, request=req)
    assert inbox(org.hr.user) == ["correction_submitted"]
    correction_approve(actor=org.hr.user, request=req)
    assert inbox(org.employee.user) == ["correction_approved"]


def test_a_refused_submission_leaves_nothing(week):
    org = week
    only_checkout(org.employee, MON)
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError):
        submit(org.employee.user, org.employee, item(MON), item(MON))  # same slot twice
    assert AuditEvent.objects.count() == before
    assert not Notification.objects.exists()


def test_delegation_is_audited_and_the_delegate_told(week):
    delegation_create(
        actor=week.supervisor.user,
        approver=week.supervisor.user,
        delegate=week.head.user,
        start=WED,
        end=WED,
    )
    event = AuditEvent.objects.get(action="corrections.delegation.create")
    assert event.changes["after"]["delegate_id"] == week.head.user_id
    assert inbox(week.head.user) == ["correction_delegation"]


def test_overdue_steps_are_announced_once_per_step(week, time_machine):
    org = week
    CorrectionPolicy.objects.create(group=org.group, chain_preset=ChainPreset.MULTI)
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)  # Wednesday 10:00, supervisor: 2 days
    # Friday evening: still within Thursday + Friday
    assert corrections_notify_overdue(now=datetime(2026, 11, 27, 23, 0, tzinfo=SH)) == 0
    # Saturday: past the end of the 2nd working day after Wednesday
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=SH)
    assert corrections_notify_overdue(now=saturday) == 1
    assert corrections_notify_overdue(now=saturday + timedelta(hours=1)) == 0
    assert inbox(org.supervisor.user) == ["approval_overdue", "correction_submitted"]
    assert "approval_overdue" in inbox(org.hr.user)
    # the next step gets its own notice
    time_machine.move_to(saturday, tick=False)
    correction_approve(actor=org.supervisor.user, request=req)
    monday = datetime(2026, 11, 30, 12, 0, tzinfo=SH)
    assert corrections_notify_overdue(now=monday) == 0  # HR: 1 working day → end of Monday
    assert corrections_notify_overdue(now=monday + timedelta(days=1)) == 1
