"""GET /api/v1/reports/monthly: the payroll export over JSON and CSV (HR/sysadmin keys)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from tests import factories
from tests.reports.data import november
from ztk.accounts.services import api_key_create
from ztk.attendance.models import AttendanceDay

DEFAULT_BY_TYPE = [
    "leave_annual_days", "leave_sick_days", "leave_personal_days", "leave_marriage_days",
    "leave_maternity_days", "leave_bereavement_days", "leave_compensatory_hours",
    "leave_outing_days", "leave_trip_days",
]  # fmt: skip

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/monthly"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def keys(org) -> dict[str, str]:
    users = {
        "employee": org.employee.user,
        "supervisor": org.supervisor.user,
        "department_head": org.head.user,
        "auditor": org.auditor.user,
        "hr": org.hr.user,
        "sysadmin": org.sysadmin,
    }
    return {role: api_key_create(actor=None, user=u, name=role)[1] for role, u in users.items()}


def get(key: str | None, accept: str = "en", **params):
    headers = {"Accept-Language": accept}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return Client().get(URL, params, headers=headers)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("employee", 403),
        ("supervisor", 403),
        ("department_head", 403),
        ("auditor", 403),
        ("hr", 200),
        ("sysadmin", 200),
    ],
)
def test_only_hr_and_sysadmin_keys_get_the_report(keys, role, status):
    response = get(keys.get(role), period="2026-11")
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "permission_denied"


def test_the_report_has_the_period_rows_totals_and_completeness(org, keys):
    november(org)

    body = get(keys["hr"], period="2026-11", group="STD").json()

    assert body["period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert (body["group"], body["department"]) == ("STD", None)
    assert body["complete"] is False  # the 27th is provisional
    assert [r["employee_no"] for r in body["rows"]] == [
        "1000", "1001", "1002", "1003", "2001", "4001", "4002",
    ]  # fmt: skip
    zhang = body["rows"][2]
    assert zhang == {
        "employee_no": "1002",
        "name": "张三",
        "department": "研发部",
        "department_code": "RD",
        "group": "标准工时组",
        "group_code": "STD",
        "required_days": 20,
        "attended_days": 17.5,
        "late_count": 3,
        "late_minutes": 212,
        "serious_late_count": 2,
        "early_count": 1,
        "early_minutes": 20,
        "missing_in_count": 1,
        "missing_out_count": 2,
        "absent_days": 1.5,
        "corrected_count": 1,
        "manual_count": 1,
        "leave_days": 1,
        "leave_hours": 9.5,
        "outing_hours": 2.0,
        "trip_hours": 9.0,
        "worked_hours": 129.13,
        "overtime_weekday_hours": 0.0,
        "overtime_rest_hours": 0.0,
        "overtime_holiday_hours": 0.0,
        "rest_days": 7,
        "holiday_days": 0,
        "provisional_days": 1,
        # 按假别 (issue 15): the default leave types (all active), outings and trips in
        # days; no request this month
        **dict.fromkeys(DEFAULT_BY_TYPE, 0),
    }
    assert body["totals"]["employees"] == 7
    assert body["totals"]["required_days"] == 24
    assert body["totals"]["absent_days"] == 2.5
    assert [(d["department_code"], d["employees"]) for d in body["departments"]] == [
        ("RD", 4),
        ("SALES", 3),
    ]
    keys_listed = [c["key"] for c in body["columns"]]
    assert keys_listed[:5] == ["employee_no", "name", "department", "group", "required_days"]
    overtime = ["overtime_weekday_hours", "overtime_rest_hours", "overtime_holiday_hours"]
    assert [k for k in keys_listed if k.startswith("overtime")] == overtime
    assert {"key": "absent_days", "zh": "旷工天数", "en": "Absent days", "kind": "days"} in body[
        "columns"
    ]


def test_complete_once_the_period_is_over_and_final(org, keys):
    november(org)
    AttendanceDay.objects.update(finalised=True)
    with time_machine.travel(datetime(2026, 12, 3, 9, tzinfo=SH), tick=False):
        assert get(keys["hr"], period="2026-11").json()["complete"] is True


def test_a_department_includes_its_sub_departments(org, keys):
    november(org)
    child = factories.DepartmentFactory(code="RD-APP", name="应用组", parent=org.department)
    factories.EmployeeFactory(employee_no="6001", department=child, attendance_group=org.group)

    body = get(keys["hr"], period="2026-11", department="RD").json()

    assert [r["employee_no"] for r in body["rows"]] == ["1000", "1001", "1002", "1003", "6001"]
    assert body["department"] == "RD"


def test_the_report_as_csv(org, keys):
    november(org)

    response = get(keys["hr"], period="2026-11", format="csv", lang="en")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="attendance-2026-11-summary-en.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == [
        "Employee no.",
        "Name",
        "Department",
        "Attendance group",
        "Required days",
    ]
    assert rows[3][:8] == ["1002", "张三", "研发部", "标准工时组", "20", "17.5", "3", "212"]
    chinese = get(keys["hr"], period="2026-11", format="csv")
    assert chinese.content.decode("utf-8-sig").startswith("工号,姓名,部门,考勤组,应出勤天数")


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"period": "2026-13"}, 422, "bad_period"),
        ({"period": "2026/10"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"period": "2026-11", "group": "NOPE"}, 404, "unknown_group"),
        ({"period": "2026-11", "department": "NOPE"}, 404, "unknown_department"),
        ({"period": "2026-11", "format": "pdf"}, 422, "validation_error"),
    ],
)
def test_bad_requests_get_a_clear_error(org, keys, params, status, code):
    response = get(keys["hr"], **params)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_errors_are_translated(org, keys):
    body = get(keys["hr"], accept="zh-hans", period="2026-11", group="NOPE").json()
    assert body["code"] == "unknown_group"
    assert body["message"]


def test_the_query_count_does_not_grow_with_the_number_of_employees(org, keys):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    november(org)
    get(keys["hr"], period="2026-11")  # the key's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        get(keys["hr"], period="2026-11")
    for i in range(30):
        factories.EmployeeFactory(employee_no=f"8{i:03d}", attendance_group=org.group)
    with CaptureQueriesContext(connection) as many:
        body = get(keys["hr"], period="2026-11").json()
    assert len(body["rows"]) == 37
    assert len(many) == len(few)
