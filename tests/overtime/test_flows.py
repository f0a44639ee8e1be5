"""Overtime requests on the approval machinery, and what the stored day counts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ztk.attendance.models import AttendanceDay, AttendancePeriod, PeriodStatus
from ztk.attendance.services import recompute
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.leave.selectors import balance_of
from ztk.notifications.models import Notification
from ztk.overtime import services
from ztk.overtime.models import Compensation, Status

from .conftest import MON, REASON, SAT, TUE, at, punch

pytestmark = pytest.mark.django_db


def day(employee, when):
    return AttendanceDay.objects.get(employee=employee, day=when)


def submit(org, start, end, **kwargs):
    return services.overtime_submit(
        actor=kwargs.pop("actor", org.employee.user),
        employee=org.employee,
        start=start,
        end=end,
        reason=REASON,
        **kwargs,
    )


def approve_all(org, req):
    req = services.overtime_approve(actor=org.supervisor.user, request=req)
    return services.overtime_approve(actor=org.hr.user, request=req)


def test_saturday_overtime_counts_only_once_approved_at_the_rest_rate(week):
    org = week
    punch(org.employee, at(SAT, 9), at(SAT, 17, 40))
    saturday = day(org.employee, SAT)
    assert (saturday.kind, saturday.overtime_minutes, saturday.overtime_counted_minutes) == (
        "rest",
        510,  # 8 h 40 min, rounded down to the 30-minute unit
        0,
    )

    req = submit(org, at(SAT, 9), at(SAT, 18))
    assert (req.status, req.kind, req.date, req.minutes) == ("pending", "rest", SAT, 540)
    assert Notification.objects.filter(recipient=org.supervisor.user, kind="overtime_submitted")
    req = services.overtime_approve(actor=org.supervisor.user, request=req)
    assert req.status == Status.PENDING  # HR is the second step
    assert day(org.employee, SAT).overtime_counted_minutes == 0
    req = services.overtime_approve(actor=org.hr.user, request=req)
    assert req.status == Status.APPROVED
    assert day(org.employee, SAT).overtime_counted_minutes == 510
    assert Notification.objects.filter(recipient=org.employee.user, kind="overtime_approved")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"overtime.request.submit", "overtime.request.approve"} <= actions


def test_weekday_overtime_after_the_end_counts_the_approved_part(week):
    org = week
    punch(org.employee, at(MON, 8, 58), at(MON, 21, 5))
    assert day(org.employee, MON).overtime_minutes == 180
    approve_all(org, submit(org, at(MON, 18), at(MON, 20)))
    assert day(org.employee, MON).overtime_counted_minutes == 120


def test_request_before_the_fact_counts_when_the_punches_come(week, time_machine):
    org = week
    time_machine.move_to(at(MON, 12), tick=False)
    req = approve_all(org, submit(org, at(MON, 18), at(MON, 20)))
    assert req.status == Status.APPROVED
    time_machine.move_to(at(MON, 21), tick=False)
    punch(org.employee, at(MON, 9), at(MON, 20, 10))
    assert day(org.employee, MON).overtime_counted_minutes == 120


def test_group_policy_without_request_counts_computed_overtime(week):
    org = week
    punch(org.employee, at(TUE, 9), at(TUE, 19, 30))
    assert day(org.employee, TUE).overtime_counted_minutes == 0
    with pytest.raises(PermissionDeniedError):
        services.policy_update(actor=org.supervisor.user, group=org.group, needs_request=False)
    services.policy_update(actor=org.hr.user, group=org.group, needs_request=False)
    assert day(org.employee, TUE).overtime_counted_minutes == 90
    event = AuditEvent.objects.get(action="overtime.policy.update")
    assert "needs_request" in str(event.changes)


def test_overlapping_request_is_refused(week):
    org = week
    first = submit(org, at(MON, 18), at(MON, 20))
    with pytest.raises(DomainError) as refused:
        submit(org, at(MON, 19), at(MON, 21))
    assert refused.value.code == "overlaps_existing"
    services.overtime_withdraw(actor=org.employee.user, request=first)
    assert submit(org, at(MON, 19), at(MON, 21)).status == Status.PENDING


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (at(MON, 20), at(MON, 18), "bad_span"),
        (at(MON, 0), at(TUE, 1), "too_long"),
    ],
)
def test_bad_spans_are_refused(week, start, end, code):
    with pytest.raises(DomainError) as refused:
        submit(week, start, end)
    assert refused.value.code == code


def test_closed_period_refuses_requests(week):
    org = week
    AttendancePeriod.objects.create(
        group=org.group, start=MON.replace(day=1), end=MON.replace(day=30),
        status=PeriodStatus.CLOSED,
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        submit(org, at(MON, 18), at(MON, 20))
    assert refused.value.code == "period_closed"


def test_strangers_cannot_file_or_decide(week):
    org = week
    with pytest.raises(PermissionDeniedError):
        submit(org, at(MON, 18), at(MON, 20), actor=org.stranger.user)
    req = submit(org, at(MON, 18), at(MON, 20))
    with pytest.raises((PermissionDeniedError, Exception)):
        services.overtime_approve(actor=org.colleague.user, request=req)
    with pytest.raises(PermissionDeniedError):
        services.overtime_approve(actor=org.hr.user, request=req)  # step 1 is the supervisor's


def test_reject_needs_a_reason_and_ends_the_request(week):
    org = week
    req = submit(org, at(MON, 18), at(MON, 20))
    with pytest.raises(DomainError):
        services.overtime_reject(actor=org.supervisor.user, request=req, reason="")
    req = services.overtime_reject(actor=org.supervisor.user, request=req, reason="不需要加班")
    assert req.status == Status.REJECTED
    assert Notification.objects.filter(recipient=org.employee.user, kind="overtime_rejected")


def test_time_off_is_credited_once_the_day_is_final(week):
    """调休: the day's counted overtime goes to the leave ledger when the day is final
    (cancelling it: tests/overtime/test_cancellation.py)."""
    org = week
    punch(org.employee, at(SAT, 9), at(SAT, 12))
    req = approve_all(org, submit(org, at(SAT, 9), at(SAT, 12), compensation=Compensation.TIME_OFF))
    req.refresh_from_db()
    assert (req.status, req.credited_minutes, req.settled_at) == ("approved", 0, None)
    assert balance_of(org.employee, "compensatory") == 0  # the day is not final yet

    recompute([(org.employee.pk, SAT)], finalise=True)
    assert services.settle_due() == 1
    assert services.settle_due() == 0  # once
    req.refresh_from_db()
    assert req.credited_minutes == 180 and req.settled_at is not None
    assert balance_of(org.employee, "compensatory") == Decimal("3.00")
