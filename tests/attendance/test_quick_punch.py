"""极速打卡 (quick punch): the app punches by itself on opening, only where and when the
group allows it, and the employee can undo it for a few seconds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from tests import factories
from tests.attendance.page_data import at, store_day
from tests.attendance.test_pages import csrf_client, post_punch
from ztk.audit.models import AuditEvent
from ztk.punches.models import Punch, PunchSettings, PunchVoid

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 7)  # a Monday; the standard shift 09:00–18:00
INSIDE = (31.2304, 121.4737)
OUTSIDE = (31.3304, 121.4737)  # about 11 km north


@pytest.fixture
def quick_group(org):
    factories.geofence(org.group)
    PunchSettings.objects.update_or_create(group=org.group, defaults={"quick_punch": True})
    return org


def quick(client, token, where=INSIDE):
    return post_punch(
        client, token, latitude=where[0], longitude=where[1], channel="mobile", quick=True
    )


def test_opening_the_app_inside_the_area_before_nine_punches_at_once(quick_group):
    org = quick_group
    with time_machine.travel(at(DAY, 8, 45), tick=False):
        store_day(org.employee, DAY, as_of=at(DAY, 8, 45))  # check-in window open, no punch
        client, token = csrf_client(org.employee.user)

        # the page asks the app to punch by itself
        assert 'data-quick="1"' in client.get("/").content.decode()

        response = quick(client, token)

    assert response.status_code == 201, response.content
    [punch] = Punch.objects.filter(employee=org.employee)
    assert punch.inside_geofence is True and punch.field_punch is False
    assert AuditEvent.objects.filter(action="punches.quick_punch").count() == 1


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("outside the area", "quick_outside"),
        ("switched off", "quick_punch_off"),
        ("no check-in due", "quick_not_due"),
    ],
)
def test_a_quick_punch_is_refused_and_nothing_written(quick_group, case, code):
    org = quick_group
    where, moment = INSIDE, at(DAY, 8, 45)
    if case == "outside the area":
        where = OUTSIDE  # never a field punch by itself: that needs the person's photo
    elif case == "switched off":
        PunchSettings.objects.filter(group=org.group).update(quick_punch=False)
    else:
        moment = at(DAY, 20, 0)  # the day's check-in window has closed
    with time_machine.travel(moment, tick=False):
        store_day(org.employee, DAY, as_of=moment)
        client, token = csrf_client(org.employee.user)
        page = client.get("/").content.decode()
        response = quick(client, token, where)

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert not Punch.objects.filter(employee=org.employee).exists()
    if case != "outside the area":  # the page knows these before any position is read
        assert 'data-quick="1"' not in page


def test_the_employee_undoes_a_quick_punch_within_ten_seconds(quick_group):
    org = quick_group
    with time_machine.travel(at(DAY, 8, 45), tick=False) as clock:
        store_day(org.employee, DAY, as_of=at(DAY, 8, 45))
        client, token = csrf_client(org.employee.user)
        punch_id = quick(client, token).json()["punch"]["id"]
        clock.shift(timedelta(seconds=8))

        undone = client.post(f"/api/v1/punches/{punch_id}/undo", HTTP_X_CSRFTOKEN=token)

    assert undone.status_code == 200, undone.content
    assert PunchVoid.objects.filter(punch_id=punch_id, voided_by=org.employee.user).exists()
    assert AuditEvent.objects.filter(action="punches.punch.undo").count() == 1


def test_an_undo_too_late_or_of_someone_elses_punch_is_refused(quick_group):
    org = quick_group
    with time_machine.travel(at(DAY, 8, 45), tick=False) as clock:
        store_day(org.employee, DAY, as_of=at(DAY, 8, 45))
        client, token = csrf_client(org.employee.user)
        punch_id = quick(client, token).json()["punch"]["id"]
        colleague, colleague_token = csrf_client(org.colleague.user)

        theirs = colleague.post(
            f"/api/v1/punches/{punch_id}/undo", HTTP_X_CSRFTOKEN=colleague_token
        )
        clock.shift(timedelta(seconds=30))
        late = client.post(f"/api/v1/punches/{punch_id}/undo", HTTP_X_CSRFTOKEN=token)

    assert theirs.status_code == 404  # not theirs: not there
    assert late.status_code == 422 and late.json()["code"] == "undo_expired"
    assert not PunchVoid.objects.exists()


def test_hr_switches_quick_punch_on_for_a_group_on_its_page_and_over_the_api(org):
    from django.test import Client

    client = Client()
    client.force_login(org.hr.user)
    form = client.get(f"/settings/groups/{org.group.code}/edit/").content.decode()
    assert 'name="quick_punch"' in form

    saved = client.post(
        f"/settings/groups/{org.group.code}/edit/",
        {
            "name": org.group.name,
            "time_zone": "Asia/Shanghai",
            "day_boundary_hour": "0",
            "active": "1",
            "web_punch_enabled": "1",
            "outside_rule": "field",
            "quick_punch": "1",
        },
    )

    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert PunchSettings.objects.get(group=org.group).quick_punch is True
    assert AuditEvent.objects.filter(action="punches.settings.update").exists() or (
        AuditEvent.objects.filter(action="punches.settings.create").exists()
    )
