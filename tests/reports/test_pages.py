"""The report pages: who may see them, what they show, the downloads and 个人考勤表."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests import factories
from tests.reports.data import november
from ztk.attendance.models import AttendanceDay

pytestmark = pytest.mark.django_db

NOV = {"period": "2026-11"}
SH = ZoneInfo("Asia/Shanghai")


def client_for(user, lang: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(user)
    return client


# --------------------------------------------------------------------------- who


@pytest.mark.parametrize("who", ["employee", "supervisor", "head", "auditor"])
def test_only_hr_and_sysadmins_see_the_monthly_report(org, who):
    client = client_for(getattr(org, who).user)
    assert client.get("/reports/", NOV).status_code == 403
    assert client.get("/reports/download/", {**NOV, "file": "xlsx"}).status_code == 403
    assert client.get("/reports/download/", {**NOV, "file": "csv"}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(db):
    response = Client().get("/reports/", NOV)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["hr", "sysadmin"])
def test_hr_and_sysadmins_get_the_monthly_report(org, who):
    november(org)
    user = org.sysadmin if who == "sysadmin" else org.hr.user
    response = client_for(user).get("/reports/", NOV)
    assert response.status_code == 200


# --------------------------------------------------------------------------- monthly page


def test_the_monthly_page_shows_people_department_totals_and_downloads(org):
    november(org)

    response = client_for(org.hr.user).get("/reports/", NOV)

    html = response.content.decode()
    assert "Period 2026-11-01 to 2026-11-30" in html
    assert "7 employees" in html
    assert 'id="monthly-summary"' in html and 'id="department-totals"' in html
    assert "Required days" in html and "Days attended" in html
    row = html.split("张三", 1)[1].split("</tr>", 1)[0]
    assert ">17.5<" in row and ">212<" in row and ">129.13<" in row
    assert "/reports/sheet/1002/?period=2026-11" in html
    totals = html.split('id="department-totals"', 1)[1].split("</table>", 1)[0]
    assert "研发部" in totals and "销售部" in totals and "Total" in totals
    for value in ("xlsx", "csv", "departments_csv", "detail_csv"):
        assert f'name="file" value="{value}"' in html
    assert 'name="lang" value="zh-hans"' in html and 'name="lang" value="en"' in html
    assert "The period is not over yet" in html or "Not final yet" in html


def test_the_page_says_whether_the_figures_are_final(org):
    november(org)
    with time_machine.travel(datetime(2026, 11, 28, 9, tzinfo=SH), tick=False):
        html = client_for(org.hr.user).get("/reports/", NOV).content.decode()
        assert "The period is not over yet" in html
    with time_machine.travel(datetime(2026, 12, 5, 9, tzinfo=SH), tick=False):
        client = client_for(org.hr.user)  # a fresh session: the log-in does not last days
        html = client.get("/reports/", NOV).content.decode()
        assert "Not final yet: 1 day is still provisional." in html
        AttendanceDay.objects.update(finalised=True)
        html = client.get("/reports/", NOV).content.decode()
        assert "Final: every day of the period is final." in html
    assert 'class="tablewrap"' in html  # wide tables scroll inside their box at 375 px


def test_the_monthly_page_in_chinese_uses_the_chinese_headers(org):
    november(org)
    html = client_for(org.hr.user, "zh-hans").get("/reports/", NOV).content.decode()
    assert "应出勤天数" in html and "实际出勤天数" in html and "上班缺卡次数" in html


def test_filters_by_group_and_department(org):
    november(org)
    client = client_for(org.hr.user)

    by_department = client.get("/reports/", {**NOV, "department": "SALES"}).content.decode()
    by_group = client.get("/reports/", {**NOV, "group": "STD"}).content.decode()

    assert "赵六" in by_department and "张三" not in by_department
    assert "3 employees" in by_department
    assert "7 employees" in by_group


def test_unknown_filters_and_a_bad_period_are_explained(org):
    client = client_for(org.hr.user)
    html = client.get("/reports/", {"period": "2026-13", "group": "NOPE"}).content.decode()
    assert "Give the period as YYYY-MM" in html
    assert "There is no attendance group with the code NOPE." in html


def test_the_monthly_page_query_count_does_not_grow_with_people(org):
    november(org)
    client = client_for(org.hr.user)
    client.get("/reports/", NOV)  # warm the session and the user's groups
    with CaptureQueriesContext(connection) as few:
        client.get("/reports/", NOV)
    for i in range(30):
        factories.EmployeeFactory(employee_no=f"8{i:03d}", attendance_group=org.group)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/reports/", NOV)
    assert "37 employees" in response.content.decode()
    assert len(many) == len(few)


# --------------------------------------------------------------------------- downloads


def test_the_xlsx_download(org):
    november(org)

    response = client_for(org.hr.user).get(
        "/reports/download/", {**NOV, "file": "xlsx", "lang": "zh-hans"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == 'attachment; filename="attendance-2026-11-zh.xlsx"'
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["月度汇总", "部门汇总", "每日明细"]
    assert wb["月度汇总"]["A4"].value == "1002"


def test_without_a_language_the_headers_follow_the_page(org):
    response = client_for(org.hr.user).get("/reports/download/", {**NOV, "file": "csv"})
    assert response["Content-Disposition"].endswith('-summary-en.csv"')
    assert response.content.decode("utf-8-sig").startswith("Employee no.,Name,")


def test_a_large_selection_gets_the_workbook_without_the_detail_sheet(org, monkeypatch):
    from ztk.reports import views

    november(org)
    monkeypatch.setattr(views, "DETAIL_XLSX_MAX_ROWS", 10)
    client = client_for(org.hr.user)

    response = client.get("/reports/download/", {**NOV, "file": "xlsx", "lang": "en"})

    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["Monthly summary", "Departments"]
    page = client.get("/reports/", NOV).content.decode()
    assert "the daily detail is available as CSV only" in page


@pytest.mark.parametrize(
    ("file", "lang", "name", "header"),
    [
        ("csv", "zh-hans", "attendance-2026-11-summary-zh.csv", ["工号", "姓名"]),
        ("csv", "en", "attendance-2026-11-summary-en.csv", ["Employee no.", "Name"]),
        ("departments_csv", "zh-hans", "attendance-2026-11-departments-zh.csv", ["部门编码"]),
        ("detail_csv", "en", "attendance-2026-11-detail-en.csv", ["Employee no.", "Name"]),
    ],
)
def test_the_csv_downloads(org, file, lang, name, header):
    november(org)

    response = client_for(org.hr.user).get(
        "/reports/download/", {**NOV, "file": file, "lang": lang}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][: len(header)] == header


def test_an_unknown_file_type_or_filter_is_a_400(org):
    client = client_for(org.hr.user)
    assert client.get("/reports/download/", {**NOV, "file": "pdf"}).status_code == 400
    assert client.get("/reports/download/", {**NOV, "department": "NOPE"}).status_code == 400


# --------------------------------------------------------------------------- 个人考勤表


def test_an_employee_prints_their_own_sheet(org):
    november(org)

    response = client_for(org.employee.user).get("/reports/sheet/1002/", NOV)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Personal attendance sheet" in html
    assert "张三" in html and "1002" in html and "研发部" in html
    assert "Period 2026-11-01 to 2026-11-30" in html
    assert html.count('<tr class="st-') == 27
    assert "09:17 Late 17 min" in html
    assert "Employee signature" in html and "Supervisor signature" in html
    totals = html.split('id="sheet-totals"', 1)[1].split("</dl>", 1)[0]
    assert "<dt>Days attended</dt><dd>17.5</dd>" in totals
    assert "<dt>Late (minutes)</dt><dd>212</dd>" in totals
    assert "data-print" in html and "ztk/print.js" in html  # the Print button
    assert "reports/reports.css" in html


def test_my_sheet_link_goes_to_my_own_sheet(org):
    response = client_for(org.employee.user).get("/reports/sheet/", NOV)
    assert response.status_code == 302
    assert response["Location"] == "/reports/sheet/1002/?period=2026-11"


def test_a_login_without_an_employee_has_no_own_sheet(org):
    assert client_for(org.sysadmin).get("/reports/sheet/").status_code == 404


@pytest.mark.parametrize("who", ["colleague", "supervisor", "head"])
def test_nobody_else_but_hr_may_print_someone_s_sheet(org, who):
    client = client_for(getattr(org, who).user)
    assert client.get("/reports/sheet/1002/", NOV).status_code == 404
    assert client.get("/reports/sheet/9999/", NOV).status_code == 404  # existence not revealed


def test_hr_prints_anyone_s_sheet_in_chinese(org):
    november(org)
    client = client_for(org.hr.user, "zh-hans")
    response = client.get("/reports/sheet/1002/", NOV)
    assert response.status_code == 200
    html = response.content.decode()
    assert "09:17 迟到17分钟" in html and "上班打卡" in html
    assert client.get("/reports/sheet/9999/", NOV).status_code == 404


def test_the_sheet_prints_on_a4():
    css = Path(__file__).resolve().parents[2] / "ztk/reports/static/reports/reports.css"
    text = css.read_text()
    assert "@media print" in text and "size:A4" in text
    assert ".appbar" in text.split("@media print", 1)[1]  # the app's chrome is not printed
