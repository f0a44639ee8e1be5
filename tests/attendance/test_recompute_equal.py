"""Recompute stores what the engine gives from every punch, however the punches are read:
one batch at a time, by range in chunks, in one pass over the range, with punches and voids
arriving in between."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.attendance.recompute_data import night_and_early_week, reference_rows, stored_rows


@pytest.mark.django_db
@pytest.mark.parametrize("boundary", [0, 5])
def test_punch_by_punch_equals_a_full_recompute(org, boundary, monkeypatch):
    """Incremental recompute (which reads only the punches within reach of the dates the
    new punches belong to) stores what a full range recompute stores, on night shifts
    whose windows cross midnight and with a day boundary hour."""
    import random

    from ztk.attendance.services import recompute_range
    from ztk.punches.services import PunchInput, record_punches

    night_and_early_week(org.group, boundary)
    tz = ZoneInfo(org.group.time_zone)
    first = date(2026, 11, 2)  # a Monday
    now = datetime(2026, 11, 12, 12, tzinfo=tz)
    rng = random.Random(boundary)
    people = [org.employee, org.colleague]
    inputs = [
        PunchInput(
            at=datetime.combine(first, time(), tzinfo=tz)
            + timedelta(minutes=rng.randint(0, 8 * 24 * 60), seconds=rng.randint(0, 59)),
            source="device",
            employee_id=person.pk,
            device_sn="SN",
            pin=person.employee_no,
        )
        for person in people
        for _ in range(60)
    ]
    rng.shuffle(inputs)
    for i in range(0, len(inputs), 7):
        record_punches(inputs[i : i + 7], now=now)
    ids = [p.pk for p in people]
    incremental = stored_rows(ids)
    assert incremental == reference_rows(people, first - timedelta(days=3), 14, now, incremental)
    from ztk.attendance import services

    for scan_from in (10**9, 1):  # punches read per chunk, then in one pass over the range
        monkeypatch.setattr(services, "SCAN_MIN_EMPLOYEE_DAYS", scan_from)
        for start, end in ((first - timedelta(days=1), first + timedelta(days=9)), (3, 5)):
            if isinstance(start, int):
                start, end = first + timedelta(days=start), first + timedelta(days=end)
            recompute_range(start=start, end=end, now=now)
            expected = [row for row in incremental if start <= row[1] <= end]
            full = [row for row in stored_rows(ids) if any(row[:2] == r[:2] for r in expected)]
            assert expected == full


@pytest.mark.django_db
def test_a_range_recompute_sees_punches_stored_after_its_one_pass_read(org, monkeypatch):
    """The one-pass read of a large range recompute happens before the chunks' transactions:
    punches and voids committed in between must still be in the results."""
    from ztk.attendance import services
    from ztk.punches.models import Punch, PunchVoid
    from ztk.punches.services import PunchInput, record_punches
    from ztk.scheduling.models import Shift as ShiftRow
    from ztk.scheduling.models import ShiftSegment, WeeklyPattern

    shift = ShiftRow.objects.create(code="D9", name="day")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group, **{f"{d}_shift": shift for d in ("monday", "tuesday", "wednesday")}
    )
    tz = ZoneInfo(org.group.time_zone)
    monday = date(2026, 11, 2)
    now = datetime(2026, 11, 12, 12, tzinfo=tz)
    people = [org.employee, org.colleague]

    def punch(person, day, hour, minute):
        at = datetime.combine(day, time(hour, minute), tzinfo=tz)
        return PunchInput(at=at, source="device", employee_id=person.pk, device_sn="SN",
                          pin=person.employee_no)  # fmt: skip

    record_punches(
        [punch(p, monday + timedelta(days=d), h, m) for p in people for d in range(3)
         for h, m in ((8, 50), (18, 5))],
        now=now,
        recompute=False,
    )  # fmt: skip
    first_punch = Punch.objects.filter(employee=org.employee).order_by("at").first()
    original = services._read_punches

    def read_then_others_write(*args, **kwargs):
        found = original(*args, **kwargs)
        if kwargs.get("scan"):  # another process commits after the one-pass read
            record_punches([punch(org.colleague, monday, 23, 30)], now=now, recompute=False)
            late = record_punches([punch(org.employee, monday, 13, 0)], now=now, recompute=False)
            PunchVoid.objects.create(punch=first_punch, reason="wrong", voided_by=org.hr.user)
            PunchVoid.objects.create(
                punch_id=late.punch_ids[0], reason="wrong", voided_by=org.hr.user
            )
        return found

    monkeypatch.setattr(services, "_read_punches", read_then_others_write)
    monkeypatch.setattr(services, "SCAN_MIN_EMPLOYEE_DAYS", 1)
    services.recompute_range(start=monday, end=monday + timedelta(days=2), now=now, chunk=1)
    stored = stored_rows([p.pk for p in people])
    assert len(stored) == 6
    assert stored == reference_rows(people, monday - timedelta(days=3), 8, now, stored)
    monday_row = next(r for r in stored if r[0] == org.employee.pk and r[1] == monday)
    assert monday_row[3][0]["status"] == "missing"  # its check-in was voided meanwhile
    colleague = next(r for r in stored if r[0] == org.colleague.pk and r[1] == monday)
    assert "outside_schedule" in [n["code"] for n in colleague[4]]  # punched meanwhile
