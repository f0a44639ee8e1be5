"""Properties of approval routing through the real services: every request someone can
decide (or it is flagged because literally nobody else exists), and nobody decides their
own request. (The pure rule, ``routing.route_step`` on random organisations of user ids, is
tested in tests/approvals/test_routing_properties.py.)

The real services on random small organisations
(HR admins 0–2, a superuser or not, a supervisor present, missing, deactivated or away
with the delegation pointing back at the employee, applicants of every role, approvers
leaving while the request waits), driven until the request is decided.
"""

from __future__ import annotations

import random
from datetime import date, time

import pytest
from django.db import transaction
from django.test import TestCase
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from tests import factories
from ztk.approvals import routing
from ztk.corrections.models import ChainPreset, CorrectionPolicy, Status
from ztk.corrections.rules import may_act
from ztk.corrections.services import correction_approve, delegation_create
from ztk.org.services import employee_deactivate

from .conftest import MON, WED, item, only_checkout, submit

# --- the real services on random small organisations --------------------------------------

SUPERVISOR = ("present", "absent", "inactive", "away_to_employee")
APPLICANTS = ("self", "supervisor", "head", "hr")


@pytest.fixture
def base(db, clock, categories):
    """One 09:00–18:00 group for every example (each example rolls its people back)."""
    from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    group = factories.AttendanceGroupFactory(code="PROP", name="属性组")
    WeeklyPattern.objects.create(
        group=group,
        effective_from=date(2026, 1, 1),
        monday_shift=shift,
        tuesday_shift=shift,
        wednesday_shift=shift,
        thursday_shift=shift,
        friday_shift=shift,
        default_workday_shift=shift,
    )
    group.sysadmin = factories.UserFactory(username="sysadmin")  # deactivates who leaves
    factories.add_to_group(group.sysadmin, "sysadmin")
    return group


class Rollback(Exception):
    """Raised at the end of an example to undo its organisation."""


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hr_count=st.integers(0, 2),
    superuser=st.booleans(),
    supervisor=st.sampled_from(SUPERVISOR),
    employee_is_hr=st.booleans(),
    applicant=st.sampled_from(APPLICANTS),
    preset=st.sampled_from([ChainPreset.MULTI, ChainPreset.SINGLE, ChainPreset.FLAT]),
    leaves=st.booleans(),
    pick=st.randoms(use_true_random=False),
)
# The cases of the issue, always run: the only HR admin's own correction with and without a
# superuser (the demo has one), a supervisor away with the delegation back at the employee.
@example(0, False, "absent", True, "self", ChainPreset.MULTI, False, random.Random(0))
@example(0, True, "present", True, "self", ChainPreset.MULTI, False, random.Random(0))
@example(0, True, "absent", True, "self", ChainPreset.FLAT, False, random.Random(0))
@example(1, False, "away_to_employee", False, "self", ChainPreset.SINGLE, False, random.Random(0))
@example(0, True, "inactive", False, "self", ChainPreset.SINGLE, True, random.Random(0))
def test_every_request_is_decided_and_never_by_its_applicant(
    base, hr_count, superuser, supervisor, employee_is_hr, applicant, preset, leaves, pick
):
    try:
        with transaction.atomic():
            _example(base, hr_count, superuser, supervisor, employee_is_hr, applicant, preset,
                     leaves, pick)  # fmt: skip
            raise Rollback
    except Rollback:
        pass


def _example(
    group, hr_count, superuser, supervisor, employee_is_hr, applicant, preset, leaves, pick
):
    dept = factories.DepartmentFactory(code="PD", name="属性部")
    n = iter(range(100))

    def person(boss=None, *, hr=False):
        i = next(n)
        someone = factories.EmployeeFactory(
            user=factories.UserFactory(username=f"p{i}"),
            employee_no=f"P{i:03d}",
            department=dept,
            attendance_group=group,
            supervisor=boss,
        )
        if hr:
            factories.add_to_group(someone.user, "hr")
        return someone

    head = person()
    dept.head = head
    dept.save()
    boss = person(head) if supervisor != "absent" else None
    employee = person(boss, hr=employee_is_hr)
    hrs = [person(head, hr=True) for _ in range(hr_count)]
    if employee_is_hr:
        hrs.append(employee)
    admin = factories.UserFactory(username="root", is_superuser=True) if superuser else None
    CorrectionPolicy.objects.update_or_create(group=group, defaults={"chain_preset": preset})
    if supervisor == "inactive":
        boss.active = False
        boss.save()
    if supervisor == "away_to_employee":
        delegation_create(
            actor=boss.user, approver=boss.user, delegate=employee.user, start=WED, end=WED
        )
    filer = {
        "self": employee.user,
        "supervisor": boss.user if boss is not None and boss.active else None,
        "head": head.user,
        "hr": next((h.user for h in hrs if h != employee), None),
    }[applicant]
    assume(filer is not None)
    only_checkout(employee, MON)

    (req,) = submit(filer, employee, item(MON))

    everyone = [u for u in (head.user, employee.user, *(h.user for h in hrs), admin) if u]
    if boss is not None:
        everyone.append(boss.user)
    participants = {filer.pk, employee.user_id}
    decided_by = []
    rounds = 0
    while req.status == Status.PENDING:
        rounds += 1
        assert rounds <= 5, req.chain
        deciders = [u for u in everyone if may_act(u, req)]
        assert not {u.pk for u in deciders} & participants
        if not deciders:
            # flagged, and literally nobody else: no other HR admin, no superuser
            assert req.current_kind == routing.OVERSIGHT, req.chain
            assert admin is None and all(h.user_id in participants for h in hrs), req.chain
            event("flagged: nobody else")
            return
        if leaves and rounds == 1 and deciders[0].pk not in {h.user_id for h in hrs}:
            # the approver leaves while the request waits: it moves on to someone else
            leaving = deciders[0]
            if getattr(leaving, "employee", None) is not None:
                with TestCase.captureOnCommitCallbacks(execute=True):
                    employee_deactivate(actor=group.sysadmin, employee=leaving.employee)
                req.refresh_from_db()
                everyone.remove(leaving)
                event("an approver left while it waited")
                continue
        chosen = pick.choice(deciders)
        decided_by.append(chosen.pk)
        req = correction_approve(actor=chosen, request=req)
    assert req.status == Status.APPROVED
    assert not set(decided_by) & participants
    event(f"approved after {len(decided_by)} decision(s)")
    if admin is not None and admin.pk in decided_by:
        event("a superuser decided")
