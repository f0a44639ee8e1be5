"""Correction test helpers: a 09:00–18:00 week, a day with a missing check-in, submitting."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from ztk.corrections.models import ReasonCategory
from ztk.corrections.services import ItemIn, correction_submit
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

SH = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 23)
TUE = date(2026, 11, 24)
WED = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SH)  # Wednesday morning
REASON = "早上忘记打卡了"


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def categories(db):
    """The seeded categories (re-created when a transactional test flushed them)."""
    for code, name, order in [("forgot", "忘记打卡", 10), ("device", "设备故障", 30)]:
        ReasonCategory.objects.get_or_create(
            policy=None, code=code, defaults={"name": name, "order": order}
        )


@pytest.fixture
def week(org, clock, categories):
    """09:00–18:00 Monday to Friday for the org's group."""
    return week_for(org)


def week_for(org):
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


def only_checkout(employee, *days: date) -> None:
    """The employee left at 18:02 but never checked in: check-in missing on each day."""
    record_punches(
        [
            PunchInput(
                at=at(day, 18, 2),
                source="device",
                employee_id=employee.pk,
                device_sn="SN1",
                pin=employee.employee_no,
            )
            for day in days
        ]
    )


def item(day: date = MON, slot: str = "in1", hh: int = 8, mm: int = 58, **kwargs) -> ItemIn:
    values = {"category": "forgot", "reason": REASON}
    values.update(kwargs)
    return ItemIn(day=day, slot_key=slot, requested_time=at(day, hh, mm), **values)


def submit(actor, employee, *items: ItemIn, **kwargs):
    return correction_submit(
        actor=actor, employee=employee, items=list(items) or [item()], **kwargs
    )
