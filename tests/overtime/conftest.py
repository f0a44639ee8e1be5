"""Overtime test helpers: a 09:00–18:00 week (Mon–Fri) and punches on any day."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

SH = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 23)
TUE = date(2026, 11, 24)
SAT = date(2026, 11, 28)
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=SH)  # the Monday after
REASON = "赶项目上线"


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def week(org, clock):
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group,
        effective_from=date(2026, 1, 1),
        monday_shift=shift,
        tuesday_shift=shift,
        wednesday_shift=shift,
        thursday_shift=shift,
        friday_shift=shift,
        default_workday_shift=shift,
    )
    return org


def punch(employee, *moments: datetime) -> None:
    record_punches(
        [
            PunchInput(
                at=moment,
                source="device",
                employee_id=employee.pk,
                device_sn="SN1",
                pin=employee.employee_no,
            )
            for moment in moments
        ]
    )
