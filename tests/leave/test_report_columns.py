"""按假别 columns of the monthly summary (reports/leave_columns.py), worked by hand.

张三 works 09:00–18:00 Monday to Friday. In November 2026 he has, all approved:
annual leave Monday 23 (whole) to Tuesday 24 morning = 1.5 days; 调休 Wednesday 25
09:00–12:00 = 3 hours; a business trip Thursday 26 = 1 day; personal leave Friday 27,
cancelled (销假 approved) = 0; annual leave Monday 30 November to Tuesday 1 December =
1 day in November (and 1 in December). A pending outing counts nothing.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from ztk.api.api import api
from ztk.leave.absence_services import absence_cancel, absence_submit
from ztk.leave.models import LeaveType
from ztk.reports import columns as C
from ztk.reports.export import csv_summary, xlsx_report
from ztk.reports.summary import department_totals, monthly_summary

from .conftest import FRI, MON, THU, TUE, WED, approve_all, at, grant, leave

pytestmark = pytest.mark.django_db

NOV = (date(2026, 11, 1), date(2026, 11, 30))
DEC = (date(2026, 12, 1), date(2026, 12, 31))


def _month(org):
    e = org.employee
    grant(e, "10")
    grant(e, "10", code="compensatory")
    approve_all(org, leave(e, MON, TUE, end_part="am"))
    toil = LeaveType.objects.get(code="compensatory")
    hours = absence_submit(actor=e.user, employee=e, kind="leave", leave_type=toil,
                           start_date=WED, start_at=at(WED, 9), end_at=at(WED, 12))  # fmt: skip
    approve_all(org, hours)
    approve_all(org, absence_submit(actor=e.user, employee=e, kind="trip", start_date=THU,
                                    destination="北京"))  # fmt: skip
    personal = approve_all(org, leave(e, FRI, code="personal"))
    approve_all(org, absence_cancel(actor=e.user, request=personal))
    approve_all(org, leave(e, date(2026, 11, 30), date(2026, 12, 1)))
    absence_submit(actor=e.user, employee=e, kind="outing", start_date=date(2026, 12, 2))


def test_leave_by_type_columns_match_the_hand_worked_month(week):
    org = week
    _month(org)
    summaries = monthly_summary(period_start=NOV[0], period_end=NOV[1])
    (zhang,) = [s for s in summaries if s.employee_no == "1002"]
    assert {k: zhang.value(k) for k in summaries.columns.by_type_keys} == {
        "leave_annual_days": 2.5,
        "leave_sick_days": 0,
        "leave_personal_days": 0,
        "leave_marriage_days": 0,
        "leave_maternity_days": 0,
        "leave_bereavement_days": 0,
        "leave_compensatory_hours": 3.0,
        "leave_outing_days": 0,
        "leave_trip_days": 1.0,
    }
    (december,) = [s for s in monthly_summary(period_start=DEC[0], period_end=DEC[1])
                   if s.employee_no == "1002"]  # fmt: skip
    assert december.value("leave_annual_days") == 1.0
    assert december.value("leave_outing_days") == 0


def test_the_columns_reach_the_csv_export(week):
    org = week
    _month(org)
    summaries = monthly_summary(period_start=NOV[0], period_end=NOV[1])
    text = csv_summary(summaries).decode("utf-8-sig").splitlines()
    header = text[0].split(",")
    row = next(line for line in text if line.startswith("1002,")).split(",")
    assert row[header.index("年假(天)")] == "2.5"
    assert row[header.index("调休(小时)")] in ("3", "3.0", "3.00")
    assert row[header.index("出差(天)")] in ("1", "1.0")
    assert Decimal(row[header.index("事假(天)")]) == 0


# --- the columns follow HR's leave types (issue 15) ------------------------------------------


def _hr_types():
    """Two types HR added: 陪护假 in days (between 婚假 and 产假), 学习假 in hours (after 调休)."""
    care = LeaveType.objects.create(code="family_care", name_zh="陪护假",
                                    name_en="Family care leave", unit="day", order=45)  # fmt: skip
    study = LeaveType.objects.create(code="study", name_zh="学习假", name_en="Study leave",
                                     unit="hour", order=75)  # fmt: skip
    return care, study


def _hr_month(org):
    """张三: 陪护假 Thursday 26 (1 day), 学习假 Wednesday 25 14:00–16:00 (2 hours)."""
    e = org.employee
    care, study = _hr_types()
    approve_all(org, leave(e, THU, code="family_care"))
    approve_all(org, absence_submit(actor=e.user, employee=e, kind="leave", leave_type=study,
                                    start_date=WED, start_at=at(WED, 14),
                                    end_at=at(WED, 16)))  # fmt: skip
    return care, study


BY_TYPE_KEYS = [
    "leave_annual_days", "leave_sick_days", "leave_personal_days", "leave_marriage_days",
    "leave_family_care_days", "leave_maternity_days", "leave_bereavement_days",
    "leave_compensatory_hours", "leave_study_hours", "leave_outing_days", "leave_trip_days",
]  # fmt: skip


def test_hr_added_day_and_hour_types_get_their_own_columns_in_hrs_order(week):
    _hr_month(week)

    summaries = monthly_summary(period_start=NOV[0], period_end=NOV[1])

    assert list(summaries.columns.by_type_keys) == BY_TYPE_KEYS
    (zhang,) = [s for s in summaries if s.employee_no == "1002"]
    assert zhang.value("leave_family_care_days") == 1.0
    assert zhang.value("leave_study_hours") == 2.0
    assert zhang.value("leave_compensatory_hours") == 0
    labels = {c.key: (c.zh, c.en, c.kind) for c in summaries.columns.leave}
    assert labels["leave_family_care_days"] == ("陪护假(天)", "Family care leave (days)", "days")
    assert labels["leave_study_hours"] == ("学习假(小时)", "Study leave (hours)", "hours")
    assert labels["leave_compensatory_hours"] == ("调休(小时)", "Time off in lieu (hours)", "hours")


def test_an_inactive_type_keeps_its_column_only_in_a_month_with_leave(week):
    _care, study = _hr_month(week)
    study.active = False
    study.save()
    LeaveType.objects.filter(code="bereavement").update(active=False)  # no leave at all

    november = monthly_summary(period_start=NOV[0], period_end=NOV[1])
    december = monthly_summary(period_start=DEC[0], period_end=DEC[1])

    assert "leave_study_hours" in november.columns.by_type_keys
    assert "leave_bereavement_days" not in november.columns.by_type_keys
    assert "leave_study_hours" not in december.columns.by_type_keys
    assert "leave_family_care_days" in december.columns.by_type_keys  # active: always


def test_the_hr_types_reach_the_csv_the_workbook_and_the_department_totals(week):
    _hr_month(week)
    summaries = monthly_summary(period_start=NOV[0], period_end=NOV[1])
    departments, grand = department_totals(summaries, lang="zh-hans")

    lines = csv_summary(summaries).decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    assert header[-11:] == [
        "年假(天)", "病假(天)", "事假(天)", "婚假(天)", "陪护假(天)", "产假(天)", "丧假(天)",
        "调休(小时)", "学习假(小时)", "外出(天)", "出差(天)",
    ]  # fmt: skip
    row = next(line for line in lines if line.startswith("1002,")).split(",")
    assert Decimal(row[header.index("陪护假(天)")]) == 1
    assert Decimal(row[header.index("学习假(小时)")]) == 2
    assert grand.value("leave_family_care_days") == 1.0
    assert grand.value("leave_study_hours") == 2.0

    content = xlsx_report(summaries=summaries, departments=departments, grand_total=grand)
    ws = load_workbook(io.BytesIO(content))["月度汇总"]
    head = [c.value for c in ws[1]]
    (zhang,) = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "1002"]
    at_study = head.index("学习假(小时)")
    assert (zhang[head.index("陪护假(天)")], zhang[at_study]) == (1, 2)
    assert ws.cell(row=2, column=at_study + 1).number_format == "0.00"
    totals = load_workbook(io.BytesIO(content))["部门汇总"]
    assert [c.value for c in totals[1]][-3:] == ["学习假(小时)", "外出(天)", "出差(天)"]


def test_the_payroll_api_has_the_hr_types_under_stable_keys(week, keys):
    _hr_month(week)

    response = Client().get(
        "/api/v1/reports/monthly",
        {"period": "2026-11"},
        headers={"Authorization": f"Bearer {keys['hr']}"},
    )

    assert response.status_code == 200
    body = response.json()
    listed = [c["key"] for c in body["columns"]]
    assert [k for k in listed if k in BY_TYPE_KEYS] == BY_TYPE_KEYS
    assert {"key": "leave_study_hours", "zh": "学习假(小时)", "en": "Study leave (hours)",
            "kind": "hours"} in body["columns"]  # fmt: skip
    (zhang,) = [r for r in body["rows"] if r["employee_no"] == "1002"]
    assert (zhang["leave_family_care_days"], zhang["leave_study_hours"]) == (1.0, 2.0)
    assert all(set(BY_TYPE_KEYS) <= set(r) for r in body["rows"])
    assert body["totals"]["leave_study_hours"] == 2.0


def test_the_openapi_schema_documents_the_leave_type_keys():
    figures = api.get_openapi_schema(path_prefix="")["components"]["schemas"]["ReportRow"]
    assert figures["patternProperties"] == {C.LEAVE_KEY_PATTERN: {"type": "number"}}
    assert "leave_<code>_days" in figures["description"]
    assert "leave_outing_days" in figures["properties"]
    assert "leave_annual_days" not in figures["properties"]  # HR may deactivate it
