"""Shifts and a group pattern built through the real services, for the scheduling tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import pytest
from django.utils import translation

from ztk.scheduling import services
from ztk.scheduling.models import Shift


def seg(start: str, end: str, **extra) -> dict:
    return {"start": time.fromisoformat(start), "end": time.fromisoformat(end), **extra}


@dataclass
class Shifts:
    day: Shift
    split: Shift
    night: Shift
    flexible: Shift
    saturday: Shift


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in their English source form whatever the default language."""
    with translation.override("en"):
        yield


@pytest.fixture
def hr_user(org):
    return org.hr.user


@pytest.fixture
def shifts(hr_user) -> Shifts:
    def make(code, name, segments, **kw):
        return services.shift_create(actor=hr_user, code=code, name=name, segments=segments, **kw)[
            0
        ]

    return Shifts(
        day=make("DAY", "白班", [seg("09:00", "18:00")]),
        split=make("SPLIT", "两段班", [seg("09:00", "12:00"), seg("13:00", "18:00")]),
        night=make("NIGHT", "夜班", [seg("22:00", "06:00")]),
        flexible=make(
            "FLEX",
            "弹性班",
            [seg("07:00", "22:00")],
            kind=Shift.Kind.FLEXIBLE,
            arrive_from=time(8, 0),
            arrive_until=time(10, 0),
            required_minutes=540,
        ),
        saturday=make("SAT", "周六半天", [seg("09:00", "12:00")]),
    )


@pytest.fixture
def office_week(org, hr_user, shifts):
    """The small org's group works DAY Monday–Friday and rests at weekends."""
    d = shifts.day
    pattern, _ = services.pattern_set(
        actor=hr_user, group=org.group, shifts=[d, d, d, d, d, None, None]
    )
    return pattern
