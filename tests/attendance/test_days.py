"""The public day API (ztk.attendance.days) and the one zone rule (ztk.org.zones)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import override_settings

from ztk import engine
from ztk.attendance import days
from ztk.attendance.models import AttendanceDay, AttendancePeriod, PeriodStatus
from ztk.attendance.selectors import punches_between
from ztk.org.models import AttendanceGroup, Company
from ztk.org.zones import EmployeeZones, ZoneNames, employee_zone, group_zone, zone_names
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling import services

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MON, TUE = date(2026, 11, 23), date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SH)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


# --------------------------------------------------------------------------- the zone rule


def without_group(employee):
    employee.attendance_group = None
    employee.save(update_fields=["attendance_group"])
    return employee


@override_settings(TIME_ZONE="Asia/Tokyo")
def test_an_employee_without_group_and_no_company_is_in_settings_time_zone(org):
    employee = without_group(org.employee)
    assert Company.objects.count() == 0
    assert employee_zone(employee) == ZoneInfo("Asia/Tokyo")
    assert group_zone(None) == ZoneInfo("Asia/Tokyo")


@override_settings(TIME_ZONE="Asia/Tokyo")
def test_an_employee_without_group_is_in_the_companys_zone(org):
    Company.objects.create(name="ACME", time_zone="America/New_York")
    employee = without_group(org.employee)
    assert employee_zone(employee) == ZoneInfo("America/New_York")
    assert days.employee_zone(employee) == ZoneInfo("America/New_York")


@override_settings(TIME_ZONE="Asia/Tokyo")
@pytest.mark.parametrize("name", ["", "Nowhere/Atlantis"])
def test_a_group_without_a_usable_zone_falls_back_to_the_companys(org, name):
    Company.objects.create(name="ACME", time_zone="America/New_York")
    AttendanceGroup.objects.filter(pk=org.group.pk).update(time_zone=name)
    org.employee.refresh_from_db()
    assert employee_zone(org.employee) == ZoneInfo("America/New_York")


@override_settings(TIME_ZONE="Asia/Tokyo")
def test_an_unusable_company_zone_falls_back_to_settings(org):
    Company.objects.create(name="ACME", time_zone="")
    assert employee_zone(without_group(org.employee)) == ZoneInfo("Asia/Tokyo")


def test_the_groups_zone_wins(org):
    Company.objects.create(name="ACME", time_zone="America/New_York")
    AttendanceGroup.objects.filter(pk=org.group.pk).update(time_zone="Europe/Berlin")
    org.employee.refresh_from_db()
    assert employee_zone(org.employee) == ZoneInfo("Europe/Berlin")


def test_many_zones_read_the_company_at_most_once(org, django_assert_num_queries):
    Company.objects.create(name="ACME", time_zone="America/New_York")
    with django_assert_num_queries(0):
        assert zone_names(["Europe/Berlin"]) == {"Europe/Berlin": "Europe/Berlin"}
    with django_assert_num_queries(1):
        found = zone_names(["Europe/Berlin", None, "", "Nowhere/Atlantis"])
    assert found == {
        "Europe/Berlin": "Europe/Berlin",
        None: "America/New_York",
        "": "America/New_York",
        "Nowhere/Atlantis": "America/New_York",
    }
    names, zones = ZoneNames(), EmployeeZones()
    employee = without_group(org.employee)
    with django_assert_num_queries(2):
        assert [names(None), names(""), names("Asia/Shanghai")] == [
            "America/New_York",
            "America/New_York",
            "Asia/Shanghai",
        ]
        assert {zones(employee), zones(employee)} == {ZoneInfo("America/New_York")}


@pytest.fixture
def rostered_without_group(org, time_machine):
    """An employee without an attendance group, rostered 09:00–18:00 on Tuesday, in a
    company in Shanghai: only the company says where their day starts."""
    time_machine.move_to(NOW, tick=False)
    Company.objects.create(name="ACME", time_zone="Asia/Shanghai")
    shift = services.shift_create(
        actor=org.hr.user,
        code="D9",
        name="白班",
        segments=[{"start": time(9), "end": time(18), "in_earliest": 120, "out_latest": 240}],
    )[0]
    employee = without_group(org.employee)
    services.roster_set(actor=org.hr.user, employees=[employee], start=TUE, end=TUE, shift=shift)
    return employee


def test_an_early_punch_of_an_employee_without_group_counts_on_their_local_date(
    rostered_without_group,
):
    """07:50 in Shanghai is still the previous day in UTC: with a UTC fallback the punch
    was listed under Monday and Tuesday was "in the future", so never computed."""
    employee = rostered_without_group
    now = at(TUE, 7, 55)
    record_punches(
        [PunchInput(at=at(TUE, 7, 50), source="device", employee_id=employee.pk)], now=now
    )
    row = AttendanceDay.objects.get(employee=employee, day=TUE)
    assert row.slots[0]["status"] == "normal"
    assert [p.at for p in punches_between(employee=employee, start=TUE, end=TUE)] == [
        at(TUE, 7, 50)
    ]
    assert punches_between(employee=employee, start=MON, end=MON).count() == 0


# --------------------------------------------------------------------------- closed days


@pytest.fixture
def closed_november(org):
    AttendancePeriod.objects.create(
        group=org.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status=PeriodStatus.CLOSED
    )
    AttendancePeriod.objects.create(
        group=org.group, start=date(2026, 12, 1), end=date(2026, 12, 31), status=PeriodStatus.OPEN
    )
    return org


def test_closed_days(closed_november):
    org = closed_november
    asked = [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1)]
    assert days.closed_days(org.group.pk, asked) == {date(2026, 11, 1), date(2026, 11, 30)}
    assert days.closed_days(None, asked) == set()
    assert days.closed_days(org.group.pk, []) == set()
    with transaction.atomic():
        assert days.closed_days(org.group.pk, asked, lock=True) == {
            date(2026, 11, 1),
            date(2026, 11, 30),
        }
    assert days.is_closed(org.employee, date(2026, 11, 15))
    assert not days.is_closed(org.employee, date(2026, 12, 15))
    period = days.closed_period(org.employee, date(2026, 11, 15))
    assert (period.start, period.end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert days.closed_period(org.employee, date(2026, 12, 15)) is None
    assert days.closed_period(without_group(org.colleague), date(2026, 11, 15)) is None
    ranges = days.closed_ranges({org.group.pk}, date(2026, 10, 1), date(2026, 12, 31))
    assert ranges == {org.group.pk: [(date(2026, 11, 1), date(2026, 11, 30))]}
    assert days.in_ranges(date(2026, 11, 9), ranges[org.group.pk])


# --------------------------------------------------------------------------- windows, preview


@pytest.fixture
def night_monday(org, time_machine):
    """09:00–18:00 on weekdays; Monday rostered to the night shift 22:00–06:00, whose
    check-out window reaches Tuesday 10:00 while Tuesday's check-in window opens at 07:00:
    both are cut at 07:30 (rules.md)."""
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
    return org


def test_the_windows_of_a_night_shift_and_the_next_early_shift_are_cut_at_their_midpoint(
    night_monday,
):
    employee = night_monday.employee
    monday = {w.key: w for w in days.day_windows(employee, MON)}
    tuesday = {w.key: w for w in days.day_windows(employee, TUE)}
    assert monday["out1"].end == at(TUE, 7, 30)
    assert not monday["out1"].end_inclusive
    assert tuesday["in1"].start == at(TUE, 7, 30)
    assert not monday["out1"].contains(at(TUE, 7, 30))
    assert tuesday["in1"].contains(at(TUE, 7, 30))
    # The correction check reads the same windows.
    slots = days.day_slots(employee, [MON, TUE], now=NOW)
    assert slots[MON]["out1"].window_end == at(TUE, 7, 30)
    assert slots[TUE]["in1"].window_start == at(TUE, 7, 30)
    assert slots[MON]["out1"].end_inclusive is False


def test_day_preview_without_extra_punches_is_the_stored_day(night_monday):
    employee = night_monday.employee
    record_punches(
        [
            PunchInput(at=moment, source="device", employee_id=employee.pk)
            for moment in (at(MON, 21, 58), at(TUE, 8, 52), at(TUE, 18, 5))
        ],
        now=NOW,
    )
    for day in (MON, TUE):
        stored = AttendanceDay.objects.get(employee=employee, day=day)
        result = days.day_preview(employee, day, now=NOW)
        assert result is not None
        assert [engine.slot_to_json(s) for s in result.slots] == stored.slots
        assert (str(result.status), result.worked_minutes) == (
            stored.status,
            stored.worked_minutes,
        )
    # Monday's check-out is missing; a correction at 06:00 would fill it.
    assert days.day_slots(employee, [MON], now=NOW)[MON]["out1"].status == "missing"
    fake = engine.PunchIn("preview", at(TUE, 6), "correction")
    filled = days.day_preview(employee, MON, [fake], now=NOW)
    assert {s.key: str(s.status) for s in filled.slots} == {"in1": "normal", "out1": "corrected"}
    assert AttendanceDay.objects.get(employee=employee, day=MON).slots[1]["status"] == "missing"


def test_a_rest_day_has_no_slots_and_no_windows(org):
    employee = without_group(org.employee)  # no group, no roster: every day is a rest day
    day = MON - timedelta(days=7)
    assert days.day_preview(employee, day).kind == "rest"
    assert days.day_slots(employee, [day]) == {day: {}}
    assert days.day_windows(employee, day) == []
