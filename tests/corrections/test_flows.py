"""End-to-end flows through the real services: submit → steps → punch → the day is fixed."""

from __future__ import annotations

from datetime import datetime

import pytest

from ztk.approvals.models import ActionKind
from ztk.attendance.models import AttendanceDay
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.corrections.models import ApprovalStepConfig, ChainPreset, CorrectionPolicy, Status
from ztk.corrections.services import (
    correction_approve,
    correction_reject,
    correction_resubmit,
    correction_withdraw,
)
from ztk.punches.models import Punch

from .conftest import MON, at, item, only_checkout, submit

pytestmark = pytest.mark.django_db


def set_preset(org, preset):
    return CorrectionPolicy.objects.update_or_create(
        group=org.group, defaults={"chain_preset": preset}
    )[0]


def slot_status(employee, day, key="in1"):
    row = AttendanceDay.objects.get(employee=employee, day=day)
    return row.status, {s["key"]: s["status"] for s in row.slots}[key]


def test_multi_level_supervisor_then_hr_fixes_the_day(week):
    # given: the employee forgot to check in on Monday
    org = week
    only_checkout(org.employee, MON)
    assert slot_status(org.employee, MON) == ("abnormal", "missing")

    # when: the employee asks, the supervisor approves, then HR approves
    (req,) = submit(org.employee.user, org.employee)
    assert req.status == Status.PENDING and req.current_step == 1
    assert [s["kind"] for s in req.chain] == ["supervisor", "hr"]
    assert req.chain[0]["approvers"] == [org.supervisor.user_id]

    req = correction_approve(actor=org.supervisor.user, request=req)
    assert req.status == Status.PENDING and req.current_step == 2 and req.current_kind == "hr"

    req = correction_approve(actor=org.hr.user, request=req)

    # then: approved, a correction punch exists and the slot is 补卡
    assert req.status == Status.APPROVED
    punch = Punch.objects.get(pk=req.punch_id)
    assert (punch.source, punch.at, punch.correction_id) == ("correction", at(MON, 8, 58), req.pk)
    assert slot_status(org.employee, MON) == ("normal", "corrected")
    assert [a.action for a in req.actions.all()] == ["submit", "approve", "approve"]


def test_single_level_needs_only_the_supervisor(week):
    org = week
    set_preset(org, ChainPreset.SINGLE)
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    assert [s["kind"] for s in req.chain] == ["supervisor"]
    req = correction_approve(actor=org.supervisor.user, request=req)
    assert req.status == Status.APPROVED
    assert slot_status(org.employee, MON) == ("normal", "corrected")


def test_flat_goes_to_hr_only(week):
    org = week
    set_preset(org, ChainPreset.FLAT)
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    assert [s["kind"] for s in req.chain] == ["hr"]
    with pytest.raises(PermissionDeniedError):
        correction_approve(actor=org.supervisor.user, request=req)
    req = correction_approve(actor=org.hr.user, request=req)
    assert req.status == Status.APPROVED


def test_custom_chain_with_department_head(week):
    org = week
    policy = set_preset(org, ChainPreset.CUSTOM)
    ApprovalStepConfig.objects.create(policy=policy, position=1, approver_kind="department_head")
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    assert req.chain[0]["approvers"] == [org.head.user_id]
    assert correction_approve(actor=org.head.user, request=req).status == Status.APPROVED


def test_an_approver_who_is_the_applicant_is_skipped(week):
    # given: the supervisor files on the employee's behalf under supervisor → HR
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.supervisor.user, org.employee)

    # then: the supervisor step is skipped (recorded) and HR decides
    assert req.on_behalf
    assert [s["skipped"] for s in req.chain] == [True, False]
    assert req.current_step == 2
    skip = req.actions.get(action=ActionKind.SKIP)
    assert skip.step == 1
    assert correction_approve(actor=org.hr.user, request=req).status == Status.APPROVED


def test_single_level_with_the_supervisor_filing_goes_to_hr(week):
    org = week
    set_preset(org, ChainPreset.SINGLE)
    only_checkout(org.employee, MON)
    (req,) = submit(org.supervisor.user, org.employee)
    assert [(s["kind"], s["skipped"]) for s in req.chain] == [("supervisor", True), ("hr", False)]
    with pytest.raises(PermissionDeniedError):
        correction_approve(actor=org.supervisor.user, request=req)
    assert correction_approve(actor=org.hr.user, request=req).status == Status.APPROVED


def test_hr_filing_on_behalf_under_flat_is_final_at_once(week):
    org = week
    set_preset(org, ChainPreset.FLAT)
    only_checkout(org.employee, MON)
    (req,) = submit(org.hr.user, org.employee)
    assert req.status == Status.APPROVED
    assert slot_status(org.employee, MON) == ("normal", "corrected")


def test_no_supervisor_routes_to_hr(week):
    # given: the colleague has no supervisor any more
    org = week
    set_preset(org, ChainPreset.SINGLE)
    org.colleague.supervisor = None
    org.colleague.save()
    only_checkout(org.colleague, MON)

    (req,) = submit(org.colleague.user, org.colleague)

    assert req.chain[0]["kind"] == "hr" and req.chain[0]["fallback"]
    assert req.chain[0]["approvers"] == [org.hr.user_id]
    assert correction_approve(actor=org.hr.user, request=req).status == Status.APPROVED


def test_vacant_department_head_walks_up(week):
    from tests.factories import DepartmentFactory

    org = week
    parent = DepartmentFactory(code="HQ", name="总部", head=org.stranger)
    org.department.parent = parent
    org.department.head = None
    org.department.save()
    policy = set_preset(org, ChainPreset.CUSTOM)
    ApprovalStepConfig.objects.create(policy=policy, position=1, approver_kind="department_head")
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    assert req.chain[0]["approvers"] == [org.stranger.user_id]


def test_withdraw_frees_the_place(week):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    with pytest.raises(PermissionDeniedError):
        correction_withdraw(actor=org.supervisor.user, request=req)
    req = correction_withdraw(actor=org.employee.user, request=req)
    assert req.status == Status.WITHDRAWN
    assert req.current_step is None and not req.current_approvers.exists()
    with pytest.raises(DomainError) as refused:
        correction_approve(actor=org.supervisor.user, request=req)
    assert refused.value.code == "not_pending"
    # the slot is free again: a new request is accepted
    (again,) = submit(org.employee.user, org.employee)
    assert again.status == Status.PENDING


def test_reject_needs_a_reason_and_resubmit_links_back(week):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    with pytest.raises(DomainError) as refused:
        correction_reject(actor=org.supervisor.user, request=req, reason=" ")
    assert refused.value.code == "reason_required"
    req = correction_reject(actor=org.supervisor.user, request=req, reason="那天你请假了")
    assert req.status == Status.REJECTED

    again = correction_resubmit(
        actor=org.employee.user, request=req, reason="确实在公司，门禁记录可查"
    )
    assert again.resubmission_of_id == req.pk
    assert (again.slot_key, again.requested_time) == (req.slot_key, req.requested_time)
    assert again.status == Status.PENDING


def test_resubmit_is_refused_once_the_window_closed(week, time_machine):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    correction_reject(actor=org.supervisor.user, request=req, reason="请补充说明")
    time_machine.move_to(at(MON.replace(day=27), 9), tick=False)  # Friday: MON + 4 days
    with pytest.raises(DomainError) as refused:
        correction_resubmit(actor=org.employee.user, request=req)
    assert refused.value.code == "window_expired"


def test_adjusted_time_is_used_shown_and_audited(week):
    org = week
    set_preset(org, ChainPreset.SINGLE)
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee, item(hh=8, mm=30))

    req = correction_approve(
        actor=org.supervisor.user, request=req, adjusted_time=at(MON, 8, 55), comment="按门禁"
    )

    assert (req.requested_time, req.original_requested_time) == (at(MON, 8, 55), at(MON, 8, 30))
    adjust = req.actions.get(action=ActionKind.ADJUST_TIME)
    assert (adjust.old_time, adjust.new_time) == (at(MON, 8, 30), at(MON, 8, 55))
    event = AuditEvent.objects.get(action="corrections.request.adjust_time")
    before, after = event.changes["before"], event.changes["after"]
    assert datetime.fromisoformat(before["requested_time"]) == at(MON, 8, 30)
    assert datetime.fromisoformat(after["requested_time"]) == at(MON, 8, 55)
    assert Punch.objects.get(pk=req.punch_id).at == at(MON, 8, 55)


def test_adjusted_time_outside_the_window_is_refused(week):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    with pytest.raises(DomainError) as refused:
        correction_approve(actor=org.supervisor.user, request=req, adjusted_time=at(MON, 15))
    assert refused.value.code == "time_outside_slot_window"
