"""A night shift followed by an early day shift: the windows of the two dates are cut at
the middle of the gap between the shifts, in stored results and when a schedule changes."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from ztk.attendance.models import AttendanceDay
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling import services

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MON, TUE = date(2026, 11, 23), date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SH)


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


@pytest.fixture
def night_monday(org, time_machine):
    """09:00–18:00 on weekdays; Monday rostered to the night shift 22:00–06:00, whose
    check-out window reaches Tuesday 10:00 while Tuesday's check-in window opens at 07:00:
    both are cut at 07:30."""
    time_machine.move_to(NOW, tick=False)
    hr = org.hr.user
    seg = {"in_earliest": 120, "out_latest": 240}
    day = services.shift_create(
        actor=hr, code="D9", name="白班", segments=[{"start": time(9), "end": time(18), **seg}]
    )[0]
    night = services.shift_create(
        actor=hr, code="N", name="夜班", segments=[{"start": time(22), "end": time(6), **seg}]
    )[0]
    services.pattern_set(actor=hr, group=org.group, shifts=[day] * 5 + [None, None])
    services.roster_set(actor=hr, employees=[org.employee], start=MON, end=MON, shift=night)
    org.shifts = {"day": day, "night": night}
    return org


def punch_week(org) -> None:
    record_punches(
        [
            PunchInput(at=moment, source="device", employee_id=org.employee.pk, device_sn="SN1",
                       pin=org.employee.employee_no)
            for moment in (at(MON, 21, 58), at(TUE, 6, 3), at(TUE, 8, 52), at(TUE, 18, 5))
        ],
        now=NOW,
    )  # fmt: skip


def slots(org, day: date) -> dict[str, tuple[str, str | None]]:
    row = AttendanceDay.objects.get(employee=org.employee, day=day)
    return {s["key"]: (s["status"], s["punch_at"] and s["punch_at"][11:16]) for s in row.slots}


def test_the_next_mornings_check_in_is_not_the_nights_check_out(night_monday):
    org = night_monday
    punch_week(org)
    # Without the cut, 08:52 was the latest punch of the night's check-out window (until
    # 10:00): the night's check-out, and Tuesday's check-in went missing.
    assert slots(org, MON) == {"in1": ("normal", "21:58"), "out1": ("normal", "06:03")}
    assert slots(org, TUE) == {"in1": ("normal", "08:52"), "out1": ("normal", "18:05")}
    monday = AttendanceDay.objects.get(employee=org.employee, day=MON)
    assert monday.slots[1]["window_end"] == at(TUE, 7, 30).isoformat()
    assert (monday.status, monday.worked_minutes) == ("normal", 480)


def test_a_schedule_change_recomputes_the_neighbouring_dates(
    night_monday, django_capture_on_commit_callbacks
):
    """Tuesday starts as a rostered rest day (nothing to cut: 08:52 is the night's
    check-out); rostering Tuesday's day shift cuts Monday's windows too, so Monday is
    recomputed with Tuesday."""
    org = night_monday
    hr = org.hr.user
    services.roster_set(actor=hr, employees=[org.employee], start=TUE, end=TUE, shift=None)
    punch_week(org)
    assert slots(org, MON)["out1"] == ("normal", "08:52")
    with django_capture_on_commit_callbacks(execute=True):
        services.roster_set(
            actor=hr, employees=[org.employee], start=TUE, end=TUE, shift=org.shifts["day"]
        )
    assert slots(org, TUE) == {"in1": ("normal", "08:52"), "out1": ("normal", "18:05")}
    assert slots(org, MON) == {"in1": ("normal", "21:58"), "out1": ("normal", "06:03")}
