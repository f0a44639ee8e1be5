"""The analytics pages and the trends API as HR and a department head use them, on the
hand-made month of tests/oversight/analytics_data.py."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ztk.notifications.models import ReminderSent

pytestmark = pytest.mark.django_db
RANGE = "from=2026-11-01&to=2026-12-31"


def as_user(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def test_hr_sees_the_trend_as_bars_that_link_to_the_people(month):
    page = as_user(month.hr.user).get(f"/hr/analytics/?metric=late&{RANGE}")

    assert page.status_code == 200
    body = text(page)
    assert "<svg" in body and "<script>" not in body
    links = re.findall(r'<a href="(/hr/analytics/people/\?[^"]+)" class="bar">', body)
    assert len(links) == 10  # the weeks from Oct 26 to Dec 28
    spike = next(link for link in links if "from=2026-11-02" in link)
    people = as_user(month.hr.user).get(spike.replace("&amp;", "&"))
    rows = text(people)
    assert "李四" in rows and "张三" in rows and "赵六" in rows
    assert "/attendance/people/1003/2026-11-02/" in rows


def test_a_department_head_never_sees_another_department(month):
    head = as_user(month.head.user)

    by_department = text(head.get(f"/hr/analytics/?metric=late&by=department&{RANGE}"))
    other = text(head.get(f"/hr/analytics/people/?metric=late&by=department&key=SALES&{RANGE}"))
    everyone = text(head.get(f"/hr/analytics/people/?metric=late&by=all&key=&{RANGE}"))
    api = head.get(f"/api/v1/analytics/trends?metric=late&by=department&{RANGE}").json()

    assert "研发部" in by_department and "销售部" not in by_department
    assert "赵六" not in other and "赵六" not in everyone and "张三" in everyone
    assert {p["key"] for p in api["points"]} == {"RD"}
    assert as_user(month.employee.user).get("/hr/analytics/").status_code == 403


def test_corrections_approvals_patterns_and_reminders_pages(month):
    hr = as_user(month.hr.user)
    ReminderSent.objects.create(user=month.employee.user, kind="punch_in", day="2026-11-09")

    corrections = text(hr.get(f"/hr/analytics/corrections/?{RANGE}"))
    approvals = text(hr.get(f"/hr/analytics/approvals/?{RANGE}"))
    patterns = text(hr.get(f"/hr/analytics/patterns/?{RANGE}"))
    reminders = hr.get("/hr/analytics/reminders/")

    assert "忘记打卡" in corrections and "设备故障" in corrections
    assert "2 requests decided; 50 % of them within their SLA" in approvals
    assert "72 h" in approvals
    assert "Anomalies by day of the week" in patterns
    assert reminders.status_code == 200 and "2026-11-09" in text(reminders)


def test_a_chart_exports_as_csv(month):
    hr = as_user(month.hr.user)
    response = hr.get(f"/hr/analytics/corrections/?{RANGE}&format=csv&chart=corrections-channel")

    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Channel,Requests"
    assert lines[1:] == ["Web,2", "Mobile,1"]


def test_bad_filters_fall_back_to_the_defaults(month):
    page = as_user(month.hr.user).get("/hr/analytics/?metric=drop&period=year&from=2026-13-01")
    assert page.status_code == 200
    assert "were not valid" in text(page)


def test_the_api_answers_the_figures_and_refuses_bad_questions(month):
    hr = as_user(month.hr.user)
    ok = hr.get(f"/api/v1/analytics/trends?metric=corrections&by=channel&interval=month&{RANGE}")
    assert ok.status_code == 200
    assert [(p["key"], p["value"]) for p in ok.json()["points"]] == [("mobile", 1), ("web", 2)]
    lead = hr.get(f"/api/v1/analytics/trends?metric=lead_time&{RANGE}").json()["points"]
    assert (lead[0]["value"], lead[0]["p90"], lead[0]["within_sla"]) == (2.0, 72.0, 0.5)

    for query, code in [
        (f"metric=late&by=channel&{RANGE}", "analytics_bad_by"),
        (f"metric=late&interval=day&{RANGE}", "analytics_bad_period"),
        ("metric=late&from=2026-12-01&to=2026-11-01", "analytics_bad_range"),
        ("metric=late", "analytics_bad_range"),
        ("metric=late&from=2020-01-01&to=2026-01-01", "analytics_range_too_long"),
        (f"metric={'x' * 40}&{RANGE}", "validation_error"),
    ]:
        refused = hr.get(f"/api/v1/analytics/trends?{query}")
        assert (refused.status_code, refused.json()["code"]) == (422, code), query
