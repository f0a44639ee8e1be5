"""The analytics pages and the trends API as HR and a department head use them, on the
hand-made month of tests/oversight/analytics_data.py."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import time_machine
from django.test import Client

from tests.oversight.reminder_data import SH
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


# --- issue 14 item 7: reminders per group (tests/oversight/reminder_data.py) ---------------

NOV = "from=2026-11-01&to=2026-11-30"


def test_hr_sees_each_groups_before_after_and_the_reminded_who_did_not_punch(reminders):
    with time_machine.travel(datetime(2026, 12, 7, 10, tzinfo=SH), tick=False):
        hr = as_user(reminders.org.hr.user)  # signed in on the day (sessions expire)
        page = hr.get(f"/hr/analytics/reminders/?period=month&{NOV}")
        csv = hr.get(
            f"/hr/analytics/reminders/?period=month&{NOV}&format=csv&chart=reminded-groups"
        )
        groups_csv = hr.get(f"/hr/analytics/reminders/?{NOV}&format=csv&chart=reminders-groups")
    body = text(page)
    verdicts = body[
        body.index('id="group-verdicts"') : body.index(
            "</table>", body.index('id="group-verdicts"')
        )
    ]
    # STD 50 → 20 (−60 %, reached), WH 25 → 33.33 (+33 %, not reached)
    assert "标准工时组" in verdicts and "50.0 → 20.0" in verdicts and "−60 %" in verdicts
    assert "仓库组" in verdicts and "25.0 → 33.33" in verdicts and "+33 %" in verdicts
    assert verdicts.count("✓ target reached") == 1 and verdicts.count("✗ target not reached") == 1
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        'Attendance group,"Punched on time, share of reminders",'
        "Reminders sent,Punched on time,Late,No punch"
    )
    assert lines[1:] == ["标准工时组,42.9 %,7,3,2,2", "仓库组,66.7 %,3,2,0,1"]
    rows = groups_csv.content.decode("utf-8-sig").splitlines()
    assert rows[1:] == [
        "标准工时组,50,20,2026-11-09,4,−60 %,yes",
        "仓库组,25,33.33,2026-11-18,2,'+33 %,no",  # formula-safe: a leading + is quoted
    ]
    drill = re.search(
        r'href="(/hr/analytics/people/\?metric=reminder_punched&amp;by=group&amp;key=STD[^"]+)"',
        body,
    )
    people = text(hr.get(drill.group(1).replace("&amp;", "&")))
    assert (
        people.count("/attendance/people/1003/2026-11-") == 4
        and "/attendance/people/1002/" not in people
    )
    assert "check-in: late" in people and "check-out: no punch in the window" in people


def test_a_department_head_sees_reminders_of_their_people_only(reminders):
    with time_machine.travel(datetime(2026, 12, 7, 10, tzinfo=SH), tick=False):
        head = as_user(reminders.org.head.user)
        body = text(head.get(f"/hr/analytics/reminders/?{NOV}"))
        api = head.get(
            f"/api/v1/analytics/trends?metric=reminder_before_after&by=group&{NOV[:15]}&to=2026-12-07"
        ).json()
    assert "标准工时组" in body and "仓库组" not in body
    other = text(head.get(f"/hr/analytics/people/?metric=reminder_punched&by=group&key=WH&{NOV}"))
    assert "赵六" not in other
    assert {p["key"] for p in api["points"]} == {"STD"}
    assert as_user(reminders.org.employee.user).get("/hr/analytics/reminders/").status_code == 403


def test_the_api_gives_both_reminder_metrics(reminders):
    hr = as_user(reminders.org.hr.user)
    punched = hr.get(
        f"/api/v1/analytics/trends?metric=reminder_punched&by=group&interval=month&{NOV}"
    )
    before_after = hr.get(
        "/api/v1/analytics/trends?metric=reminder_before_after&by=group&from=2026-11-01&to=2026-12-07"
    )
    month_refused = hr.get(
        "/api/v1/analytics/trends?metric=reminder_before_after&interval=month&from=2026-11-01&to=2026-12-07"
    )
    assert punched.status_code == 200
    assert [
        (p["key"], p["n"], p["value"], p["late"], p["rate"]) for p in punched.json()["points"]
    ] == [
        ("STD", 7, 3.0, 2, 42.9),
        ("WH", 3, 2.0, 0, 66.7),
    ]
    points = before_after.json()["points"]
    assert [
        (p["key"], p["side"], p["rate"], p["since"], p["change"], p["reached"]) for p in points
    ] == [
        ("STD", "before", 50.0, "2026-11-09", -0.6, True),
        ("STD", "after", 20.0, "2026-11-09", -0.6, True),
        ("WH", "before", 25.0, "2026-11-18", 0.333, False),
        ("WH", "after", 33.33, "2026-11-18", 0.333, False),
    ]
    assert month_refused.status_code == 422
    assert month_refused.json()["code"] == "analytics_bad_period"
