"""The stored results: punches in → AttendanceDay rows out, on the real database."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ztk.attendance.models import AttendanceDay, AttendancePeriod
from ztk.attendance.services import recompute, recompute_range
from ztk.punches.models import Punch
from ztk.punches.services import PunchInput, punch_void, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=SH)
MON = date(2026, 11, 23)


@pytest.fixture
def nine_to_six(org):
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group,
        monday_shift=shift,
        tuesday_shift=shift,
        wednesday_shift=shift,
        thursday_shift=shift,
        friday_shift=shift,
        default_workday_shift=shift,
    )
    return org


def punch(employee_no, day, hh, mm, source="device"):
    return PunchInput(
        at=datetime.combine(day, time(hh, mm), tzinfo=SH),
        source=source,
        employee_no=employee_no,
        device_sn="SN1" if source == "device" else "",
        pin=employee_no,
    )


def day_row(org, day):
    return AttendanceDay.objects.get(employee=org.employee, day=day)


def test_a_punch_recomputes_its_day_at_once(nine_to_six):
    org = nine_to_six
    record_punches([punch("1002", MON, 8, 55), punch("1002", MON, 18, 3)], now=NOW)
    row = day_row(org, MON)
    assert row.status == "normal"
    assert [s["status"] for s in row.slots] == ["normal", "normal"]
    assert row.worked_minutes == 540


def test_late_arrival_then_missing_checkout(nine_to_six):
    org = nine_to_six
    record_punches([punch("1002", MON, 9, 17)], now=NOW)
    row = day_row(org, MON)
    assert row.status == "abnormal"
    assert (row.late_count, row.late_minutes, row.missing_out_count) == (1, 17, 1)


def test_voiding_a_punch_recomputes_the_day(nine_to_six):
    org = nine_to_six
    record_punches([punch("1002", MON, 8, 50, "manual"), punch("1002", MON, 18, 0)], now=NOW)
    assert day_row(org, MON).status == "normal"
    punch_void(actor=org.hr.user, punch=Punch.objects.get(source="manual"), reason="录错了")
    assert day_row(org, MON).missing_in_count == 1


def test_a_day_without_punches_is_materialised_and_weekends_rest(nine_to_six):
    org = nine_to_six
    last_monday = MON - timedelta(days=7)
    recompute_range(start=last_monday, end=last_monday + timedelta(days=6), now=NOW)
    statuses = dict(
        AttendanceDay.objects.filter(employee=org.employee).values_list("day", "status")
    )
    assert statuses[last_monday] == "absent"
    assert statuses[date(2026, 11, 21)] == "rest"
    assert statuses[date(2026, 11, 22)] == "rest"


def test_future_days_are_not_written(nine_to_six):
    org = nine_to_six
    recompute([(org.employee.pk, date(2026, 11, 30))], now=NOW)
    assert not AttendanceDay.objects.filter(day=date(2026, 11, 30)).exists()


def test_closed_period_days_are_left_alone(nine_to_six):
    org = nine_to_six
    record_punches([punch("1002", MON, 9, 40)], now=NOW)
    before = day_row(org, MON)
    AttendancePeriod.objects.create(
        group=org.group, start=date(2026, 11, 1), end=date(2026, 11, 30), status="closed"
    )
    record_punches([punch("1002", MON, 8, 30, "manual")], now=NOW)
    after = day_row(org, MON)
    assert after.late_minutes == before.late_minutes == 40


def test_resending_a_batch_writes_nothing_new(nine_to_six):
    batch = [punch("1002", MON, 8, 55), punch("1003", MON, 9, 1)]
    record_punches(batch, now=NOW)
    again = record_punches(batch, now=NOW)
    assert (again.new, again.duplicate) == (0, 2)
    assert Punch.objects.count() == 2
