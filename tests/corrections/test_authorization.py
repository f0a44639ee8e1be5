"""Who sees and who decides: employees never approve, supervisors see their reports only,
HR sees everything, delegates act while the delegation is in force, strangers get 404."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.corrections.models import Status
from ztk.corrections.rules import may_act, may_view
from ztk.corrections.selectors import correction_get, corrections_for
from ztk.corrections.services import (
    correction_approve,
    correction_reject,
    correction_transfer,
    delegation_create,
)

from .conftest import MON, WED, only_checkout, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_requests(week):
    only_checkout(week.employee, MON)
    only_checkout(week.colleague, MON)
    (mine,) = submit(week.employee.user, week.employee)
    (theirs,) = submit(week.colleague.user, week.colleague)
    return mine, theirs


def test_an_employee_cannot_approve_own_or_anyone_elses(week, two_requests):
    mine, theirs = two_requests
    with pytest.raises(PermissionDeniedError):
        correction_approve(actor=week.employee.user, request=mine)
    with pytest.raises(NotFoundError):  # not even visible
        correction_approve(actor=week.employee.user, request=theirs)
    with pytest.raises(PermissionDeniedError):
        correction_reject(actor=week.employee.user, request=mine, reason="不批")


def test_hr_cannot_approve_the_supervisor_step(week, two_requests):
    mine, _theirs = two_requests
    assert may_view(week.hr.user, mine)
    with pytest.raises(PermissionDeniedError):
        correction_approve(actor=week.hr.user, request=mine)


def test_hr_never_approves_their_own_correction(week):
    only_checkout(week.hr, MON)
    (req,) = submit(week.hr.user, week.hr)
    assert req.status == Status.PENDING
    # the only HR admin, no superuser: flagged for the oversight page (tests/corrections/
    # test_routing.py has the fallbacks to another HR admin and to a superuser)
    assert req.current_kind == "oversight" and req.step()["approvers"] == []
    assert not may_act(week.hr.user, req)
    with pytest.raises(PermissionDeniedError):
        correction_approve(actor=week.hr.user, request=req)


def test_supervisor_sees_only_reports_and_hr_sees_all(week, two_requests):
    mine, theirs = two_requests
    only_checkout(week.stranger, MON)
    (other,) = submit(week.stranger.user, week.stranger)
    assert set(corrections_for(week.supervisor.user, scope="all")) == {mine, theirs}
    assert set(corrections_for(week.hr.user, scope="all")) == {mine, theirs, other}
    assert set(corrections_for(week.head.user, scope="all")) == {mine, theirs}
    assert list(corrections_for(week.employee.user, scope="all")) == [mine]
    assert list(corrections_for(week.stranger.user, scope="all")) == [other]
    assert list(corrections_for(week.hr.user, scope="all", employee="1003")) == [theirs]
    assert list(corrections_for(week.hr.user, scope="all", status="approved")) == []
    with pytest.raises(NotFoundError):
        correction_get(week.stranger.user, mine.pk)
    assert correction_get(week.employee.user, mine.pk) == mine


def test_a_delegate_acts_while_the_delegation_is_in_force(week, two_requests, time_machine):
    mine, _theirs = two_requests
    # given: the supervisor is away and delegates to the department head for two days
    with pytest.raises(PermissionDeniedError):
        delegation_create(
            actor=week.employee.user,
            approver=week.supervisor.user,
            delegate=week.employee.user,
            start=WED,
            end=WED,
        )
    delegation_create(
        actor=week.supervisor.user,
        approver=week.supervisor.user,
        delegate=week.colleague.user,
        start=WED,
        end=WED + timedelta(days=1),
        reason="出差",
    )
    # then: the delegate sees it waiting and may approve it
    assert list(corrections_for(week.colleague.user, scope="to_approve")) == [mine]
    assert may_act(week.colleague.user, mine)
    # but not their own request (delegation never lets anyone approve themselves)
    theirs = _theirs
    assert not may_act(week.colleague.user, theirs)
    # after the delegation ends, the delegate can no longer act
    time_machine.move_to(WED + timedelta(days=2), tick=False)
    assert not may_act(week.colleague.user, mine)
    assert list(corrections_for(week.colleague.user, scope="to_approve")) == []


def test_delegate_approval_moves_the_step(week, two_requests):
    mine, _theirs = two_requests
    delegation_create(
        actor=week.hr.user,
        approver=week.supervisor.user,
        delegate=week.head.user,
        start=WED,
        end=WED,
    )
    req = correction_approve(actor=week.head.user, request=mine)
    assert req.current_step == 2
    assert req.actions.filter(action="approve", actor=week.head.user).exists()


def test_bad_delegations_are_refused(week):
    with pytest.raises(DomainError) as refused:
        delegation_create(
            actor=week.supervisor.user,
            approver=week.supervisor.user,
            delegate=week.supervisor.user,
            start=WED,
            end=WED,
        )
    assert refused.value.code == "bad_delegation"
    with pytest.raises(DomainError):
        delegation_create(
            actor=week.supervisor.user,
            approver=week.supervisor.user,
            delegate=week.head.user,
            start=WED,
            end=WED - timedelta(days=1),
        )


def test_transfer_only_to_someone_else_than_the_employee(week, two_requests):
    mine, _theirs = two_requests
    with pytest.raises(DomainError) as refused:
        correction_transfer(actor=week.supervisor.user, request=mine, to_user=week.employee.user)
    assert refused.value.code == "bad_transfer"
    req = correction_transfer(actor=week.supervisor.user, request=mine, to_user=week.head.user)
    assert list(req.current_approvers.all()) == [week.head.user]
    assert may_view(week.head.user, req)
    assert not may_act(week.supervisor.user, req)


def test_filing_for_someone_needs_the_right(week):
    only_checkout(week.colleague, MON)
    with pytest.raises(PermissionDeniedError):
        submit(week.employee.user, week.colleague)
    with pytest.raises(PermissionDeniedError):
        submit(week.stranger.user, week.colleague)
    (by_head,) = submit(week.head.user, week.colleague)
    assert by_head.on_behalf and by_head.applicant == week.head.user


def test_a_named_approver_who_transferred_still_sees_the_request(week):
    from ztk.corrections.models import ApprovalStepConfig, CorrectionPolicy

    policy = CorrectionPolicy.objects.create(group=week.group, chain_preset="custom")
    ApprovalStepConfig.objects.create(
        policy=policy, position=1, approver_kind="user", user=week.stranger.user
    )
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    assert req.chain[0]["approvers"] == [week.stranger.user_id]
    assert may_act(week.stranger.user, req)
    req = correction_transfer(actor=week.stranger.user, request=req, to_user=week.auditor.user)
    assert may_view(week.stranger.user, req) and not may_act(week.stranger.user, req)
    assert may_act(week.auditor.user, req)
    assert correction_approve(actor=week.auditor.user, request=req).status == Status.APPROVED
