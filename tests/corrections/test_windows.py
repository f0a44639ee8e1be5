"""The requested time must lie in the slot's window — the window the engine matches
punches with, cut where a night shift meets the next morning's shift."""

from __future__ import annotations

from datetime import time

import pytest

from ztk.core.errors import DomainError
from ztk.corrections.services import ItemIn, correction_approve
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling import services as scheduling

from .conftest import MON, REASON, TUE, at, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def night_monday(week):
    """Monday rostered to a night shift (22:00–06:00, check-out window until Tuesday 10:00
    uncut) before Tuesday's 09:00 shift (check-in window from 07:00): cut at 07:30. The
    employee checked in on Monday evening and never checked out."""
    org = week
    night = scheduling.shift_create(
        actor=org.hr.user, code="N", name="夜班", segments=[{"start": time(22), "end": time(6)}]
    )[0]
    scheduling.roster_set(
        actor=org.hr.user, employees=[org.employee], start=MON, end=MON, shift=night
    )
    record_punches(
        [PunchInput(at=at(MON, 21, 58), source="device", employee_id=org.employee.pk,
                    device_sn="SN1", pin=org.employee.employee_no)]
    )  # fmt: skip
    return org


def check_out(hh: int, mm: int = 0) -> ItemIn:
    return ItemIn(
        day=MON,
        slot_key="out1",
        requested_time=at(TUE, hh, mm),
        category="forgot",
        reason=REASON,
    )


def test_a_time_after_the_cut_is_outside_the_nights_check_out_window(night_monday):
    org = night_monday
    with pytest.raises(DomainError) as refused:
        submit(org.employee.user, org.employee, check_out(8))
    (detail,) = refused.value.details
    assert detail["code"] == "time_outside_slot_window"
    assert detail["params"]["end"] == "2026-11-24 07:30"
    with pytest.raises(DomainError):
        submit(org.employee.user, org.employee, check_out(7, 30))  # the cut itself: Tuesday's
    (request,) = submit(org.employee.user, org.employee, check_out(6, 5))
    assert request.requested_time == at(TUE, 6, 5)


def test_an_approver_cannot_move_the_time_past_the_cut(night_monday):
    org = night_monday
    (request,) = submit(org.employee.user, org.employee, check_out(6, 5))
    with pytest.raises(DomainError) as refused:
        correction_approve(actor=org.supervisor.user, request=request, adjusted_time=at(TUE, 8))
    assert refused.value.code == "time_outside_slot_window"


def test_the_window_is_the_plans_even_before_the_stored_day_is_recomputed(week):
    """Tuesday was a rest day when Monday's row was stored (its check-out window then ran
    until 10:00); Tuesday is rostered to work before that row is recomputed: the check
    reads the window from the plans, as the engine will, not from the stale row."""
    org = week
    hr = org.hr.user
    night = scheduling.shift_create(
        actor=hr, code="N", name="夜班", segments=[{"start": time(22), "end": time(6)}]
    )[0]
    scheduling.roster_set(actor=hr, employees=[org.employee], start=MON, end=MON, shift=night)
    scheduling.roster_set(actor=hr, employees=[org.employee], start=TUE, end=TUE, shift=None)
    record_punches(
        [PunchInput(at=at(MON, 21, 58), source="device", employee_id=org.employee.pk,
                    device_sn="SN1", pin=org.employee.employee_no)]
    )  # fmt: skip
    from ztk.attendance.models import AttendanceDay

    stored = AttendanceDay.objects.get(employee=org.employee, day=MON)
    assert stored.slots[1]["window_end"] == at(TUE, 10).isoformat()
    day_shift = org.group.weekly_patterns.get().tuesday_shift
    scheduling.roster_set(  # its recompute runs on commit, which this test never reaches
        actor=hr, employees=[org.employee], start=TUE, end=TUE, shift=day_shift
    )
    with pytest.raises(DomainError) as refused:
        submit(org.employee.user, org.employee, check_out(8))
    assert refused.value.details[0]["code"] == "time_outside_slot_window"
