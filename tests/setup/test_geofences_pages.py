"""/settings/geofences/: HR creates and edits punch areas (centre, radius, active, the
groups that use them); refusals are shown next to the field; auditors read."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from ztk.audit.models import AuditEvent
from ztk.punches.models import Geofence, OutsideGeofenceRule, PunchSettings

pytestmark = pytest.mark.django_db

LIST = "/settings/geofences/"
NEW = "/settings/geofences/new/"
FORM = {
    "code": "HQ",
    "name": "总部",
    "latitude": "31.2304",
    "longitude": "121.4737",
    "radius_m": "300",
    "active": "1",
    "groups": ["STD"],
}


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def hr(client, org):
    client.force_login(org.hr.user)
    return client


def test_hr_creates_a_fence_used_by_a_group_and_sees_it_listed(hr, org):
    PunchSettings.objects.create(group=org.group, outside_rule=OutsideGeofenceRule.REFUSE)
    form = hr.get(NEW).content.decode()
    assert 'id="locate"' in form and "setup/geofence.js" in form
    assert "Refuse the punch" in form  # the group's outside rule, read-only
    assert "<script>" not in form  # no inline script (CSP)

    response = hr.post(NEW, FORM)

    assert response.status_code == 302 and response["Location"] == LIST
    fence = Geofence.objects.get(code="HQ")
    assert (fence.name, fence.latitude, fence.longitude, fence.radius_m, fence.active) == (
        "总部", 31.2304, 121.4737, 300, True,
    )  # fmt: skip
    assert [g.code for g in fence.groups.all()] == ["STD"]
    event = AuditEvent.objects.get(action="punches.geofence.create")
    assert event.changes["after"]["groups"] == ["STD"]
    listing = hr.get(LIST).content.decode()
    assert 'id="fence-HQ"' in listing and "300 m" in listing and "标准工时组" in listing
    assert "<svg" in listing  # the picture of the area


def test_hr_edits_a_fence_retires_it_and_moves_it_to_another_group(hr, org):
    other = factories.AttendanceGroupFactory(code="PLANT", name="工厂")
    factories.geofence(org.group, code="HQ")
    url = "/settings/geofences/HQ/edit/"
    assert 'value="HQ" readonly' in hr.get(url).content.decode()

    response = hr.post(url, {**FORM, "code": "IGNORED", "radius_m": "150", "groups": ["PLANT"]}
                       | {"active": ""})  # fmt: skip

    assert response.status_code == 302
    fence = Geofence.objects.get()
    assert (fence.code, fence.radius_m, fence.active) == ("HQ", 150, False)
    assert list(fence.groups.all()) == [other]
    assert "inactive: counts for no punch" in hr.get(LIST).content.decode()
    # the same form again changes nothing and writes no event
    before = AuditEvent.objects.count()
    hr.post(url, {**FORM, "radius_m": "150", "groups": ["PLANT"], "active": ""})
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("change", "field_message"),
    [
        ({"latitude": "91"}, "Latitude must be between -90 and 90."),
        ({"longitude": "east"}, "Longitude must be a number."),
        ({"radius_m": "5"}, "Radius (m) must be between 10 and 50000."),
        ({"radius_m": "nan"}, "Radius (m) must be between 10 and 50000."),
        ({"name": " "}, "Give the punch area a name."),
        ({"code": "总部"}, "Code: use 1–32 letters"),
    ],
)
def test_a_bad_field_is_refused_next_to_it_and_nothing_is_written(hr, change, field_message):
    response = hr.post(NEW, {**FORM, **change})

    assert response.status_code == 422
    body = response.content.decode()
    assert field_message in body
    assert 'value="总部"' in body or change.get("name")  # what was typed stays
    assert not Geofence.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="punches.geofence").exists()


def test_a_code_in_use_is_refused_on_the_new_form_instead_of_overwriting(hr, org):
    factories.geofence(org.group, code="HQ", name="老总部")

    response = hr.post(NEW, FORM)

    assert response.status_code == 422
    assert "A punch area with the code HQ exists already." in response.content.decode()
    assert Geofence.objects.get().name == "老总部"


def test_a_group_nobody_has_is_ignored_by_the_page_and_refused_by_the_service(hr):
    response = hr.post(NEW, {**FORM, "groups": ["NOPE"]})
    assert response.status_code == 422
    assert "No attendance group has the code NOPE." in response.content.decode()
    assert not Geofence.objects.exists()


def test_the_auditor_reads_the_form_disabled_and_cannot_save(client, org):
    factories.geofence(org.group, code="HQ")
    client.force_login(org.auditor.user)

    assert client.get(LIST).status_code == 200
    page = client.get("/settings/geofences/HQ/edit/").content.decode()
    assert "disabled" in page and 'class="primary"' not in page
    assert client.get(NEW).status_code == 403
    assert client.post("/settings/geofences/HQ/edit/", FORM).status_code == 403
    assert client.post(NEW, FORM).status_code == 403
    assert Geofence.objects.get().radius_m == 200


def test_an_employee_may_not_open_them(client, org):
    client.force_login(org.employee.user)
    assert client.get(LIST).status_code == 403


def test_an_unknown_fence_is_not_found(hr):
    assert hr.get("/settings/geofences/NOPE/edit/").status_code == 404
    # a bidirectional override in the path: the input guard refuses it first
    assert hr.get("/settings/geofences/%E2%80%AE/edit/").status_code in (400, 404)
