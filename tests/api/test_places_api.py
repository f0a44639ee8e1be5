"""Punch areas and the holiday calendar through the API: idempotent PUTs, all-or-nothing
refusals with 422, the same services (and audit events) as the settings pages."""

from __future__ import annotations

from datetime import date

import pytest

from tests import factories
from ztk.audit.models import AuditEvent
from ztk.punches.models import Geofence
from ztk.scheduling.models import CalendarYear, WorkCalendarDay

from .conftest import call

pytestmark = pytest.mark.django_db

FENCE = {"name": "总部", "latitude": 31.2304, "longitude": 121.4737, "radius_m": 300,
         "groups": ["STD"]}  # fmt: skip


def fence_events() -> int:
    return AuditEvent.objects.filter(action__startswith="punches.geofence").count()


def test_put_creates_then_updates_a_fence_and_a_repeat_changes_nothing(client, keys, org):
    hr = keys["hr"]
    created = call(client, "PUT", "/api/v1/geofences/HQ", key=hr, body=FENCE)
    assert created.status == 201
    assert created.body == {**FENCE, "code": "HQ", "active": True}
    again = call(client, "PUT", "/api/v1/geofences/HQ", key=hr, body=FENCE)
    assert again.status == 200 and fence_events() == 1

    other = factories.AttendanceGroupFactory(code="PLANT")
    moved = call(client, "PUT", "/api/v1/geofences/HQ", key=keys["sysadmin"],
                 body={**FENCE, "groups": ["PLANT", "STD"], "active": False})  # fmt: skip
    assert moved.status == 200
    assert moved.body["groups"] == ["PLANT", "STD"] and moved.body["active"] is False
    assert set(Geofence.objects.get().groups.all()) == {org.group, other}
    assert fence_events() == 2

    listed = call(client, "GET", "/api/v1/geofences", key=hr)
    assert listed.status == 200 and listed.body["count"] == 1
    assert listed.body["items"][0]["code"] == "HQ"
    assert call(client, "GET", "/api/v1/geofences/HQ", key=hr).body == moved.body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**FENCE, "groups": ["NOPE"]}, "unknown_group"),
        ({**FENCE, "groups": ["S T D"]}, "validation_error"),
        ({**FENCE, "latitude": 90.5}, "validation_error"),
        ({**FENCE, "radius_m": 5}, "validation_error"),
        ({**FENCE, "radius_m": 10**12}, "validation_error"),
        ({**FENCE, "name": ""}, "validation_error"),
        ({**FENCE, "name": "a\u202eb"}, "validation_error"),
        ({"name": "总部"}, "validation_error"),
    ],
)
def test_a_bad_fence_is_refused_with_422_and_nothing_written(client, keys, body, code):
    reply = call(client, "PUT", "/api/v1/geofences/HQ", key=keys["hr"], body=body)

    assert reply.status == 422 and reply.body["code"] == code
    assert not Geofence.objects.exists() and fence_events() == 0


def test_nan_coordinates_are_refused_not_a_500(client, keys):
    raw = '{"name": "x", "latitude": NaN, "longitude": 121.4, "radius_m": 200}'
    reply = call(client, "PUT", "/api/v1/geofences/HQ", key=keys["hr"], body=raw)
    assert reply.status in (400, 422)
    assert not Geofence.objects.exists()


def test_an_unknown_fence_is_404_and_a_bad_code_422(client, keys):
    assert call(client, "GET", "/api/v1/geofences/NOPE", key=keys["hr"]).status == 404
    assert call(client, "GET", "/api/v1/geofences/a%20b", key=keys["hr"]).status == 422


# --- holidays -------------------------------------------------------------------------------

Y2027 = {
    "days": [
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
        {"date": "2027-02-06", "kind": "holiday", "name": "春节"},
        {"date": "2027-02-20", "kind": "workday", "name": "春节"},
    ]
}


def rows(year: int) -> list[tuple]:
    return list(
        WorkCalendarDay.objects.filter(date__year=year)
        .order_by("date")
        .values_list("date", "kind", "name", "source")
    )


def test_get_a_year_lists_its_days_and_where_they_came_from(client, keys):
    reply = call(client, "GET", "/api/v1/holidays/2026", key=keys["hr"])

    assert reply.status == 200
    assert reply.body["status"] == "seeded" and reply.body["package_covers"] is True
    days = reply.body["days"]
    assert {
        "date": "2026-10-01",
        "kind": "holiday",
        "name": "国庆节",
        "statutory": True,
        "source": "seed",
    } in days
    # a day off of the period that is not a festival day of the law: overtime 2×
    assert {
        "date": "2026-10-04",
        "kind": "holiday",
        "name": "国庆节",
        "statutory": False,
        "source": "seed",
    } in days
    later = call(client, "GET", "/api/v1/holidays/2031", key=keys["hr"]).body
    assert later == {"year": 2031, "status": "fallback", "package_covers": False, "days": []}


def test_put_replaces_the_whole_year_including_hand_entered_days(client, keys, org):
    WorkCalendarDay.objects.create(date=date(2027, 6, 18), kind="holiday", name="司庆")

    reply = call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"], body=Y2027)

    assert reply.status == 200
    assert reply.body["status"] == "imported"
    assert rows(2027) == [
        (date(2027, 1, 1), "holiday", "元旦", "import"),
        (date(2027, 2, 6), "holiday", "春节", "import"),
        (date(2027, 2, 20), "workday", "春节", "import"),
    ]
    assert CalendarYear.objects.get(year=2027).status == "imported"
    # no more fallback warning for 2027; a repeat changes nothing and writes no event
    events = AuditEvent.objects.filter(action="scheduling.calendar.replace").count()
    assert events == 1
    assert call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"], body=Y2027).status == 200
    assert AuditEvent.objects.filter(action="scheduling.calendar.replace").count() == 1
    # an empty list empties the year
    call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"], body={"days": []})
    assert rows(2027) == []


def test_put_takes_the_statutory_flag_or_the_laws_reading(client, keys, org):
    body = {
        "days": [
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},  # by the law: yes
            {"date": "2027-02-05", "kind": "holiday", "name": "春节", "statutory": None},  # 除夕
            {"date": "2027-02-10", "kind": "holiday", "name": "春节"},  # 初五: no
            {"date": "2027-10-04", "kind": "holiday", "name": "国庆节", "statutory": True},
            {"date": "2027-10-01", "kind": "holiday", "name": "国庆节", "statutory": False},
            {"date": "2027-02-20", "kind": "workday", "name": "春节"},
        ]
    }

    reply = call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"], body=body)

    assert reply.status == 200
    flags = {d["date"]: d["statutory"] for d in reply.body["days"]}
    assert flags == {
        "2027-01-01": True,
        "2027-02-05": True,
        "2027-02-10": False,
        "2027-10-01": False,  # HR's word wins over the law's reading
        "2027-10-04": True,
        "2027-02-20": False,
    }
    event = AuditEvent.objects.filter(action="scheduling.calendar.replace").latest("id")
    assert event.changes["after"]["days"]["2027-10-04"] == ["holiday", "国庆节", True, "import"]
    # only the flag changes: the day is changed (and audited) again
    body["days"][3]["statutory"] = False
    assert call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"], body=body).status == 200
    assert not WorkCalendarDay.objects.get(date=date(2027, 10, 4)).statutory
    assert AuditEvent.objects.filter(action="scheduling.calendar.replace").count() == 2


def test_put_refuses_a_statutory_workday(client, keys):
    body = {"days": [{"date": "2027-02-20", "kind": "workday", "statutory": True}]}

    reply = call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"], body=body)

    assert reply.status == 422
    assert reply.body["details"][0]["column"] == "statutory"
    assert not WorkCalendarDay.objects.filter(date__year=2027).exists()


@pytest.mark.parametrize(
    "days",
    [
        [{"date": "2028-01-01", "kind": "holiday"}],  # outside the year
        [{"date": "2027-01-01", "kind": "holiday"}, {"date": "2027-01-01", "kind": "workday"}],
        [{"date": "2027-01-01", "kind": "weekend"}],
        [{"date": "2027-13-01", "kind": "holiday"}],
        [{"date": "2027-01-01", "kind": "holiday", "name": "x" * 61}],
    ],
)
def test_a_bad_list_is_refused_whole_with_422(client, keys, days):
    call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"], body=Y2027)
    before = rows(2027)

    reply = call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"],
                 body={"days": [{"date": "2027-05-01", "kind": "holiday"}, *days]})  # fmt: skip

    assert reply.status == 422, reply.body
    assert rows(2027) == before


def test_a_date_outside_the_year_names_the_item(client, keys):
    body = {"days": [{"date": "2027-01-01", "kind": "holiday"}, {"date": "2026-12-31",
                                                                 "kind": "holiday"}]}  # fmt: skip
    reply = call(client, "PUT", "/api/v1/holidays/2027", key=keys["hr"], body=body)

    assert reply.status == 422 and reply.body["code"] == "calendar_import_invalid"
    assert reply.body["details"] == [
        {"row": 2, "column": "date", "message": "2026-12-31 is not in 2027."}
    ]


def test_a_year_out_of_range_is_422(client, keys):
    assert call(client, "GET", "/api/v1/holidays/1899", key=keys["hr"]).status == 422
    assert call(client, "PUT", "/api/v1/holidays/3000", key=keys["hr"], body=Y2027).status == 422
