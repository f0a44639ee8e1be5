"""No request is ever undecidable: every step someone can decide, or it falls back — to
another HR admin, then a superuser, then the oversight page — and nobody ever approves
their own request.

The small org (tests/factories.py) has one HR admin (陈人事, no supervisor) and no
superuser; the week is 09:00–18:00 and it is Wednesday 25 November 2026, 10:00.
"""

from __future__ import annotations

import pytest
from django.test import Client, TestCase

from tests import factories
from ztk.approvals import routing
from ztk.approvals.models import ActionKind
from ztk.audit.models import AuditEvent
from ztk.core.errors import PermissionDeniedError
from ztk.corrections.models import ChainPreset, CorrectionPolicy, Status
from ztk.corrections.rules import may_act
from ztk.corrections.services import (
    correction_approve,
    correction_transfer,
    corrections_reroute,
    delegation_create,
)
from ztk.hrdesk import oversight
from ztk.notifications.models import Notification
from ztk.org.services import employee_deactivate

from .conftest import MON, WED, only_checkout, submit

pytestmark = pytest.mark.django_db


def superuser(username="admin"):
    return factories.UserFactory(username=username, is_staff=True, is_superuser=True)


def second_hr(org, username="hr2", number="4009"):
    person = factories.EmployeeFactory(
        user=factories.UserFactory(username=username),
        employee_no=number,
        name="吴人事",
        department=org.hr.department,
        attendance_group=org.group,
    )
    factories.add_to_group(person.user, "hr")
    return person


def hr_own(org):
    """陈人事's own correction of their missing Monday check-in."""
    only_checkout(org.hr, MON)
    (req,) = submit(org.hr.user, org.hr)
    return req


def after_commit():
    """Run the on-commit work (signals re-route after the change commits)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


# --- the only HR admin's own correction ---------------------------------------------------


def test_the_only_hr_admins_own_correction_goes_to_a_superuser(week):
    # given: 陈人事 is the only HR admin and has no supervisor; there is one superuser
    admin = superuser()

    # when: 陈人事 asks for their own missing check-in
    req = hr_own(week)

    # then: the step falls back to the superuser, who approves; HR never approves it
    (step, hr_step) = req.chain
    assert (step["kind"], step["approvers"], step["fallback_to"]) == (
        "superuser",
        [admin.pk],
        "superuser",
    )
    assert step["fallback_reason"] == routing.MISSING
    assert hr_step["skipped"] and hr_step["skip_reason"] == "duplicate"
    submitted = AuditEvent.objects.get(action="corrections.request.submit", object_id=str(req.pk))
    assert submitted.changes["chain"][0]["fallback_to"] == "superuser"
    assert submitted.changes["chain"][0]["fallback_reason"] == "missing"
    assert not may_act(week.hr.user, req)
    with pytest.raises(PermissionDeniedError):
        correction_approve(actor=week.hr.user, request=req)
    assert correction_approve(actor=admin, request=req).status == Status.APPROVED


def test_with_a_supervisor_the_hr_step_of_the_only_hr_admin_goes_to_a_superuser(week):
    # given: 陈人事 reports to 王部长; still the only HR admin
    week.hr.supervisor = week.head
    week.hr.save()
    admin = superuser()

    req = hr_own(week)

    # then: 王部长, then (instead of HR, the applicant) the superuser
    assert [(s["kind"], s["approvers"]) for s in req.chain] == [
        ("supervisor", [week.head.user_id]),
        ("superuser", [admin.pk]),
    ]
    assert req.chain[1]["fallback_reason"] == routing.APPLICANT
    req = correction_approve(actor=week.head.user, request=req)
    assert req.current_kind == "superuser" and not may_act(week.hr.user, req)
    assert correction_approve(actor=admin, request=req).status == Status.APPROVED


def test_another_hr_admin_comes_before_a_superuser(week):
    other = second_hr(week)
    superuser()

    req = hr_own(week)

    assert (req.chain[0]["kind"], req.chain[0]["approvers"]) == ("hr", [other.user_id])
    assert not may_act(week.hr.user, req)
    assert correction_approve(actor=other.user, request=req).status == Status.APPROVED


def test_flat_chain_the_only_hr_admins_own_correction(week):
    CorrectionPolicy.objects.create(group=week.group, chain_preset=ChainPreset.FLAT)
    admin = superuser()

    req = hr_own(week)

    assert [(s["kind"], s["approvers"], s["skipped"]) for s in req.chain] == [
        ("superuser", [admin.pk], False)
    ]
    assert correction_approve(actor=admin, request=req).status == Status.APPROVED


def test_transfer_of_a_superuser_step_to_the_applicant_is_refused(week):
    admin = superuser()
    req = hr_own(week)
    with pytest.raises(Exception) as refused:
        correction_transfer(actor=admin, request=req, to_user=week.hr.user)
    assert getattr(refused.value, "code", "") == "bad_transfer"
    moved = correction_transfer(actor=admin, request=req, to_user=week.head.user)
    assert correction_approve(actor=week.head.user, request=moved).status == Status.APPROVED


# --- nobody at all: flagged on the oversight page -------------------------------------------


def test_nobody_else_at_all_flags_the_request_for_the_oversight_page(week, client):
    # given: no other HR admin, no superuser
    req = hr_own(week)

    # then: flagged; HR (the applicant) still may not decide it; listed first on oversight
    assert req.current_kind == routing.OVERSIGHT and req.chain[0]["fallback_to"] == "oversight"
    assert not may_act(week.hr.user, req)
    only_checkout(week.employee, MON)
    (other,) = submit(week.employee.user, week.employee)
    rows = oversight.pending_oversight()
    assert [r.request.pk for r in rows][0] == req.pk and rows[0].flagged
    assert not next(r for r in rows if r.request.pk == other.pk).flagged
    client.force_login(week.hr.user)
    page = client.get("/hr/oversight/").content.decode()
    assert 'data-flagged="1"' in page and "flagged-notice" in page


def test_a_superuser_added_later_decides_a_flagged_request_and_the_sweep_tells_them(week, client):
    req = hr_own(week)
    admin = superuser()

    # the superuser may decide at once (a flagged step belongs to HR and superusers) …
    assert may_act(admin, req)
    client.force_login(admin)
    assert client.get("/hr/oversight/").status_code == 200
    assert f"/requests/{req.pk}/" in client.get("/approvals/").content.decode()

    # … and the sweep routes it to them by name and tells them
    assert corrections_reroute() == 1
    req.refresh_from_db()
    assert (req.current_kind, req.step()["approvers"]) == ("superuser", [admin.pk])
    assert Notification.objects.filter(recipient=admin, kind="correction_submitted").exists()
    assert corrections_reroute() == 0  # nothing left to move
    assert correction_approve(actor=admin, request=req).status == Status.APPROVED


def test_the_routing_form_says_why_and_to_whom(week, client):
    superuser()
    req = hr_own(week)
    client.force_login(week.hr.user)

    page = client.get(f"/requests/{req.pk}/", headers={"Accept-Language": "en"})

    text = page.content.decode()
    assert "step-fallback" in text
    assert "没有人担任" in text or "Nobody holds this approver" in text
    trail = req.actions.get(action=ActionKind.REROUTE)
    assert trail.step == 1 and trail.actor is None


# --- approvers who leave, go away or lose the role while a request waits ------------------


def test_the_supervisor_leaving_while_a_request_waits_reroutes_it_to_hr(week):
    # given: the employee's request waits for 李主管
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    assert req.current_kind == "supervisor"

    # when: HR deactivates 李主管 (they left)
    with after_commit():
        employee_deactivate(actor=week.hr.user, employee=week.supervisor)

    # then: HR decides now; the trail, the audit log and HR's inbox say so
    req.refresh_from_db()
    assert (req.current_step, req.current_kind, req.step()["approvers"]) == (
        1,
        "hr",
        [week.hr.user_id],
    )
    assert req.step()["fallback_reason"] == routing.INACTIVE
    assert req.step()["rerouted_from"] == [week.supervisor.user_id]
    assert req.actions.filter(action=ActionKind.REROUTE, step=1).exists()
    event = AuditEvent.objects.get(action="corrections.request.reroute")
    assert event.changes["before"]["approvers"] == [week.supervisor.user_id]
    assert event.changes["after"] == {"kind": "hr", "approvers": [week.hr.user_id]}
    assert event.changes["reason"] == "inactive"
    assert Notification.objects.filter(recipient=week.hr.user, kind="correction_submitted").exists()
    assert not may_act(week.supervisor.user, req)
    assert correction_approve(actor=week.hr.user, request=req).current_step == 2


def test_an_account_deactivated_in_the_admin_is_routed_around(week):
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    with after_commit():
        week.supervisor.user.is_active = False
        week.supervisor.user.save()
    req.refresh_from_db()
    assert req.current_kind == "hr"


def test_the_last_hr_admin_losing_the_role_sends_the_hr_step_to_a_superuser(week):
    # given: the request waits at HR's step
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    req = correction_approve(actor=week.supervisor.user, request=req)
    admin = superuser()

    with after_commit():
        week.hr.user.groups.clear()

    req.refresh_from_db()
    assert (req.current_kind, req.step()["approvers"]) == ("superuser", [admin.pk])
    assert req.step()["fallback_reason"] == routing.MISSING
    assert not may_act(week.hr.user, req)  # no longer HR: the stored snapshot gives nothing


def test_the_next_step_is_checked_when_the_request_reaches_it(week):
    # given: the request was routed supervisor → HR; the HR admin left meanwhile
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    admin = superuser()
    week.hr.user.is_active = False  # no on-commit run: the step is still named
    week.hr.user.save()

    req = correction_approve(actor=week.supervisor.user, request=req)

    assert (req.current_step, req.current_kind, req.step()["approvers"]) == (
        2,
        "superuser",
        [admin.pk],
    )


def test_a_delegation_back_to_the_applicant_reroutes_to_hr(week):
    # given: the employee's request waits for 李主管
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)

    # when: 李主管 goes away and delegates to … the employee
    delegation_create(
        actor=week.supervisor.user,
        approver=week.supervisor.user,
        delegate=week.employee.user,
        start=WED,
        end=WED,
    )

    # then: the employee still may not decide it; HR does
    req.refresh_from_db()
    assert (req.current_kind, req.step()["fallback_reason"]) == ("hr", routing.AWAY)
    assert not may_act(week.employee.user, req)
    assert may_act(week.hr.user, req)


def test_a_delegation_chain_reaches_a_delegate_of_a_delegate(week):
    # 李主管 → 王部长 (away too) → 赵六: 赵六 decides for 李主管; no fallback
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    for approver, delegate in [(week.supervisor, week.head), (week.head, week.stranger)]:
        delegation_create(
            actor=week.hr.user, approver=approver.user, delegate=delegate.user, start=WED, end=WED
        )
    req.refresh_from_db()
    assert req.current_kind == "supervisor"
    assert may_act(week.stranger.user, req)
    assert correction_approve(actor=week.stranger.user, request=req).current_step == 2


def test_a_delegation_loop_falls_back(week):
    # 李主管 → 王部长 → 李主管: both away, nobody present decides step 1
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    delegation_create(
        actor=week.hr.user,
        approver=week.head.user,
        delegate=week.supervisor.user,
        start=WED,
        end=WED,
    )
    delegation_create(
        actor=week.hr.user,
        approver=week.supervisor.user,
        delegate=week.head.user,
        start=WED,
        end=WED,
    )
    req.refresh_from_db()
    assert (req.current_kind, req.step()["fallback_reason"]) == ("hr", routing.AWAY)


# --- the demo ---------------------------------------------------------------------------------


def test_in_the_demo_hr_files_a_correction_and_someone_approves_it(categories, time_machine):
    """The demo has exactly one HR admin (`hr`, reporting to the head of 人事行政部) and
    the superuser `admin`."""
    from django.contrib.auth import get_user_model

    from ztk.org.demo import load_demo
    from ztk.org.models import Employee

    from .conftest import NOW, week_for

    load_demo()
    hr = Employee.objects.select_related("user", "attendance_group").get(user__username="hr")
    time_machine.move_to(NOW, tick=False)
    week_for(type("Org", (), {"group": hr.attendance_group})())
    only_checkout(hr, MON)

    (req,) = submit(hr.user, hr)

    users = list(get_user_model().objects.filter(is_active=True))
    while req.status == Status.PENDING:
        deciders = [u for u in users if may_act(u, req)]
        assert deciders, req.chain
        assert hr.user not in deciders
        req = correction_approve(actor=deciders[0], request=req)
    assert req.status == Status.APPROVED
    approvers = set(req.actions.filter(action="approve").values_list("actor__username", flat=True))
    assert "hr" not in approvers and "admin" in approvers


def test_the_oversight_page_is_closed_to_others(week, client):
    for user in (week.employee.user, week.supervisor.user, week.auditor.user, week.sysadmin):
        client.force_login(user)
        assert client.get("/hr/oversight/").status_code == 403
    client.force_login(superuser())
    page = client.get("/hr/oversight/")
    assert page.status_code == 200
    assert (
        "oversight:escalate" not in page.content.decode()
        and "escalate/" not in page.content.decode()
    )


def test_anonymous_client_is_sent_to_log_in(week):
    assert Client().get("/hr/oversight/").status_code == 302
