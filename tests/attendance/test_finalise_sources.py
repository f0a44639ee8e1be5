"""A day is made final before its grace period once every source of the group's punches
(today: its approved terminals, registered by the devices app in
`ztk.attendance.sources`) has reported after the day's windows closed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.attendance.page_data import at, punch, store_day
from ztk.attendance.finalise import finalise_due
from ztk.attendance.models import AttendanceDay
from ztk.attendance.sources import all_reported_after
from ztk.devices.models import Device, DeviceStatus

from .test_pages import D5

pytestmark = pytest.mark.django_db
# Days are finalised from the day after (in local time): with the default grace of two hours
# the early path only matters for windows that close late; a long grace makes it visible.
NEXT_MORNING = at(D5 + timedelta(days=1), 0, 10)


@pytest.fixture(autouse=True)
def _long_grace(monkeypatch):
    monkeypatch.setattr("ztk.attendance.finalise.FINALISE_GRACE", timedelta(hours=12))


def _provisional_day(org) -> datetime:
    punch(org.employee, at(D5, 8, 50))
    punch(org.employee, at(D5, 18, 5))
    store_day(org.employee, D5, as_of=at(D5, 18, 10))
    row = AttendanceDay.objects.get(employee=org.employee, day=D5)
    assert not row.finalised
    end = max(datetime.fromisoformat(s["window_end"]) for s in row.slots if s.get("window_end"))
    assert end < NEXT_MORNING < end + timedelta(hours=12)  # windows closed, grace not over
    return end


def _terminal(org, serial: str, last_seen: datetime | None) -> Device:
    return Device.objects.create(
        serial=serial,
        status=DeviceStatus.APPROVED,
        attendance_group=org.group,
        last_seen=last_seen,
    )


def _finalised(org) -> bool:
    return AttendanceDay.objects.get(employee=org.employee, day=D5).finalised


def test_without_terminals_only_the_grace_period_finalises(org):
    end = _provisional_day(org)
    assert not all_reported_after(org.group.pk, end)
    finalise_due(now=NEXT_MORNING, lookback_days=60)
    assert not _finalised(org)


def test_a_stale_terminal_holds_the_day_open(org):
    end = _provisional_day(org)
    _terminal(org, "FRESH1", end + timedelta(minutes=5))
    _terminal(org, "STALE1", end - timedelta(hours=1))
    assert all_reported_after(org.group.pk, end) is False
    finalise_due(now=NEXT_MORNING, lookback_days=60)
    assert not _finalised(org)


def test_every_terminal_reported_after_the_day_ended_finalises_it_early(org):
    end = _provisional_day(org)
    _terminal(org, "FRESH1", end + timedelta(minutes=5))
    _terminal(org, "FRESH2", end + timedelta(minutes=1))
    Device.objects.create(
        serial="PENDING1", status=DeviceStatus.PENDING, attendance_group=org.group
    )
    assert all_reported_after(org.group.pk, end) is True
    finalise_due(now=NEXT_MORNING, lookback_days=60)
    assert _finalised(org)
