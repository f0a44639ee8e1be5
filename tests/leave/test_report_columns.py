"""按假别 columns of the monthly summary (reports/leave_columns.py), worked by hand.

张三 works 09:00–18:00 Monday to Friday. In November 2026 he has, all approved:
annual leave Monday 23 (whole) to Tuesday 24 morning = 1.5 days; 调休 Wednesday 25
09:00–12:00 = 3 hours; a business trip Thursday 26 = 1 day; personal leave Friday 27,
cancelled (销假 approved) = 0; annual leave Monday 30 November to Tuesday 1 December =
1 day in November (and 1 in December). A pending outing counts nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ztk.leave.absence_services import absence_cancel, absence_submit
from ztk.leave.models import LeaveType
from ztk.reports.export import csv_summary
from ztk.reports.summary import monthly_summary

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
