"""`ztk demo-scale`: the demo company scaled up for the morning rush (bench (g))."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ztk.attendance.demo import load_attendance_demo
from ztk.attendance.models import AttendanceDay
from ztk.core.errors import DomainError
from ztk.corrections.models import CorrectionRequest
from ztk.ops.scale import load_scaled_company
from ztk.org.demo import load_demo
from ztk.org.models import Department, Employee
from ztk.punches.models import Punch

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 7)  # a Monday: the five working days before are 30 Nov – 4 Dec


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def test_people_departments_punches_and_pending_requests(time_machine):
    zone = ZoneInfo("Asia/Shanghai")
    time_machine.move_to(datetime(2026, 11, 2, 8, tzinfo=zone), tick=False)
    load_demo()  # a month earlier: the group's week plan is in force on the scaled days
    load_attendance_demo(today=date(2026, 11, 2))
    time_machine.move_to(datetime(2026, 12, 7, 8, tzinfo=zone), tick=False)

    company = load_scaled_company(employees=120, days=5, password="a-Long-pass-1", today=TODAY)

    assert (company.employees, company.departments, company.days) == (120, 3, 5)
    assert company.heads == ["p00000", "p00050", "p00100"]
    # Everyone punched in on five days and out on all but the forgetful one's last day.
    forgetful = [i for i in range(120) if i % 20 == 1]  # 1, 21, 41, 61, 81, 101
    assert company.punches == 120 * 5 * 2 - len(forgetful)
    assert Punch.objects.filter(employee__employee_no__regex=r"^2\d{5}$").count() == company.punches
    # Their days are computed; the forgetful ones wait for their head's approval.
    assert AttendanceDay.objects.filter(employee__employee_no="200001", day=TODAY.replace(day=4))
    pending = CorrectionRequest.objects.filter(status="pending").select_related("employee")
    mine = [r for r in pending if len(r.employee.employee_no) == 6]
    assert company.pending_requests == len(forgetful) == len(mine)
    p21 = Employee.objects.get(employee_no="200021")
    assert p21.supervisor.employee_no == "200000"
    assert Department.objects.get(code="SCALE0000").head.employee_no == "200000"
    assert p21.user.check_password("a-Long-pass-1")


def test_twice_is_refused_and_a_missing_demo_is_explained():
    with pytest.raises(DomainError) as refused:
        load_scaled_company(employees=10, password="a-Long-pass-1")
    assert refused.value.code == "no_group"
