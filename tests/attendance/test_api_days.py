"""GET /api/v1/attendance/days and /api/v1/punches: what the pages' data looks like over JSON."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.attendance.page_data import at, month_of_days, normal_day, punch, store_day
from ztk.punches.services import punch_void

pytestmark = pytest.mark.django_db

D5 = date(2026, 11, 5)
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def get_days(client: Client, **params):
    return client.get("/api/v1/attendance/days", {**NOVEMBER, **params})


def test_my_days_carry_status_slots_and_explanation(org):
    # given a late day and a normal one
    punch(org.employee, at(D5, 9, 12))
    punch(org.employee, at(D5, 18, 0))
    store_day(org.employee, D5)
    normal_day(org.employee, date(2026, 11, 6))

    # when
    response = get_days(client_for(org.employee.user))

    # then
    assert response.status_code == 200
    days = {d["date"]: d for d in response.json()["items"]}
    late = days["2026-11-05"]
    assert (late["status"], late["provisional"], late["late_minutes"]) == ("abnormal", False, 12)
    assert [(s["key"], s["status"], s["minutes"]) for s in late["slots"]] == [
        ("in1", "late", 12),
        ("out1", "normal", 0),
    ]
    assert any("late by 12 min." in line for line in late["explanation"])
    assert days["2026-11-06"]["status"] == "normal"
    assert days["2026-11-06"]["explanation"] == []


def test_a_one_segment_shift_is_explained_without_a_segment_number(org):
    punch(org.employee, at(D5, 9, 12))
    punch(org.employee, at(D5, 18, 0))
    store_day(org.employee, D5)

    day = get_days(client_for(org.employee.user)).json()["items"][0]

    assert day["explanation"] == ["Check-in: late by 12 min."]


def test_who_may_read_whose_days(org):
    normal_day(org.employee, D5)

    assert get_days(client_for(org.employee.user), employee="1003").status_code == 404
    assert get_days(client_for(org.stranger.user), employee="1002").status_code == 404
    by_supervisor = get_days(client_for(org.supervisor.user), employee="1002")
    assert by_supervisor.status_code == 200 and by_supervisor.json()["count"] == 1
    assert get_days(client_for(org.hr.user), employee="1002").status_code == 200
    assert Client().get("/api/v1/attendance/days", NOVEMBER).status_code == 401


def queries_for(client: Client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_days_api_is_fixed_cost_for_a_full_month(org, django_assert_max_num_queries):
    client = client_for(org.employee.user)
    normal_day(org.employee, D5)
    one_day = queries_for(client, "/api/v1/attendance/days", NOVEMBER)

    month_of_days(org.employee, 2026, 10, punches_per_day=4)
    month_of_days(org.employee, 2026, 12, punches_per_day=4)
    month_of_days(org.employee, 2026, 11, punches_per_day=4)  # 31 + 30 + 31 days

    wide = {"from": "2026-10-01", "to": "2026-12-31"}
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/attendance/days", wide)
    assert len(response.json()["items"]) == response.json()["count"] == 92
    assert queries_for(client, "/api/v1/attendance/days", wide) == one_day


def test_the_punches_api_is_fixed_cost_and_flags_voided_punches(org, django_assert_max_num_queries):
    client = client_for(org.employee.user)
    month_of_days(org.employee, 2026, 10, punches_per_day=5)
    wrong = punch(org.employee, at(date(2026, 10, 15), 13, 33))
    punch_void(actor=org.hr.user, punch=wrong, reason="误打")
    october = {"from": "2026-10-01", "to": "2026-10-31", "limit": 1000}

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/punches", october)

    punches = response.json()["items"]
    weekdays = sum(1 for d in range(1, 32) if date(2026, 10, d).weekday() < 5)
    assert len(punches) == weekdays * 5 + (31 - weekdays) + 1  # weekend punches, the voided one
    assert [p["voided"] for p in punches].count(True) == 1
