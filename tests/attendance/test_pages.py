"""我的考勤, the day view, the team grid, HR lookup and the punch button — as the product spec."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.attendance.page_data import (
    at,
    month_of_days,
    normal_day,
    punch,
    store_day,
)
from ztk.attendance.models import AttendanceDay
from ztk.punches.models import OutsideGeofenceRule, Punch, PunchSettings
from ztk.punches.services import punch_void

pytestmark = pytest.mark.django_db

NOV = "2026-11"
D5 = date(2026, 11, 5)  # a Thursday
OFFICE = (31.2304, 121.4737)  # a point in Shanghai
FAR_AWAY = (31.3000, 121.6000)  # about 15 km from it


def client_for(user, **kwargs) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **kwargs)
    client.force_login(user)
    return client


def cell(html: str, day: date) -> str:
    """The <td> of the month calendar that links to `day`."""
    for td in re.findall(r"<td class=\"[^\"]*\">.*?</td>", html, re.S):
        if f"/{day.isoformat()}/" in td:
            return td
    raise AssertionError(f"no calendar cell for {day}")


# --------------------------------------------------------------------------- my month


def test_my_month_marks_an_abnormal_day_red_with_a_bang(org):
    # given a normal day, a late day and a rest day
    normal_day(org.employee, date(2026, 11, 4))
    punch(org.employee, at(D5, 9, 20))
    punch(org.employee, at(D5, 18, 2))
    store_day(org.employee, D5)
    store_day(org.employee, date(2026, 11, 7), kind="rest")

    # when
    response = client_for(org.employee.user).get(f"/attendance/?month={NOV}")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    late = cell(html, D5)
    assert "is-anomaly" in late and "st-abnormal" in late
    assert '<span class="bang" aria-hidden="true">!</span>' in late
    assert "Abnormal" in late
    normal = cell(html, date(2026, 11, 4))
    assert "st-normal" in normal and "bang" not in normal
    assert "st-rest" in cell(html, date(2026, 11, 7))
    assert 'id="punch-button"' in html
    assert "attendance/attendance.css" in html and "attendance/punch.js" in html
    assert "//cdn" not in html and "https://" not in html


def test_a_provisional_day_is_shown_as_provisional(org):
    punch(org.employee, at(D5, 8, 50))
    store_day(org.employee, D5, as_of=at(D5, 12, 0))

    html = client_for(org.employee.user).get(f"/attendance/?month={NOV}").content.decode()

    td = cell(html, D5)
    assert "is-provisional" in td and "(provisional)" in td
    row = AttendanceDay.objects.get(employee=org.employee, day=D5)
    assert row.provisional and not row.finalised


def test_month_navigation_works_with_plain_links_and_htmx(org):
    client = client_for(org.employee.user)

    page = client.get(f"/attendance/?month={NOV}").content.decode()
    assert 'href="?month=2026-10"' in page and 'href="?month=2026-12"' in page
    assert 'hx-get="?month=2026-10"' in page

    plain = client.get("/attendance/?month=2026-10")
    assert plain.status_code == 200 and b"<html" in plain.content

    fragment = client.get(
        "/attendance/?month=2026-10", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="calendar"
    )
    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in body and body.strip().startswith('<section id="calendar"')
    assert 'href="?month=2026-09"' in body
    assert "HX-Request" in fragment["Vary"]

    restore = client.get(
        "/attendance/?month=2026-10",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="calendar",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert b"<html" in restore.content


def test_a_bad_month_parameter_falls_back_to_this_month(org):
    response = client_for(org.employee.user).get("/attendance/?month=2026-13")
    assert response.status_code == 200


def test_a_user_without_employee_gets_a_clear_page(org):
    response = client_for(org.sysadmin).get("/attendance/")
    assert response.status_code == 200
    assert b"not linked to an employee" in response.content
    assert b"punch-button" not in response.content


def test_the_punch_button_is_replaced_when_the_group_forbids_web_punches(org):
    PunchSettings.objects.create(group=org.group, web_punch_enabled=False)
    html = client_for(org.employee.user).get("/attendance/").content.decode()
    assert 'id="punch-button"' not in html
    assert "does not allow web or phone punches" in html


# --------------------------------------------------------------------------- day view


def test_day_view_shows_slots_punches_and_the_explanation(org):
    # given a late check-in, a punch voided by HR, a field punch and a check-out
    punch(org.employee, at(D5, 9, 12))
    wrong = punch(org.employee, at(D5, 9, 40))
    punch_void(actor=org.hr.user, punch=wrong, reason="双击误打")
    punch(
        org.employee,
        at(D5, 15, 0),
        source="mobile",
        latitude=FAR_AWAY[0],
        longitude=FAR_AWAY[1],
        field_punch=True,
        inside_geofence=False,
    )
    punch(org.employee, at(D5, 18, 1))
    store_day(org.employee, D5)

    # when
    response = client_for(org.employee.user).get(f"/attendance/day/{D5.isoformat()}/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "Check-in: late by 12 min." in html  # render_notes
    assert "Punch at 2026-11-05 09:40 was voided and is ignored." in html
    assert "09:00" in html and "18:00" in html  # expected slots
    assert "09:12" in html and "18:01" in html  # matched punches
    assert "Late" in html and "12 min" in html
    assert "<s><time" in html and "09:40:00</time></s>" in html  # voided: struck through
    assert "双击误打" in html
    assert "Field (外勤)" in html
    assert "Terminal" in html and "Mobile" in html  # sources
    assert 'class="correction-actions"' not in html  # nothing missing: no correction place


def test_day_view_leaves_a_place_for_corrections_when_a_slot_is_missing(org, time_machine):
    time_machine.move_to(at(D5 + timedelta(days=1), 10), tick=False)  # within the window
    punch(org.employee, at(D5, 8, 58))
    store_day(org.employee, D5)

    html = client_for(org.employee.user).get(f"/attendance/day/{D5.isoformat()}/").content.decode()

    assert "Check-out: no punch (missing)." in html
    assert 'class="correction-actions"' in html
    assert 'href="#"' not in html


def test_day_view_without_a_result_still_lists_the_punches(org):
    punch(org.employee, at(D5, 8, 58))
    html = client_for(org.employee.user).get(f"/attendance/day/{D5.isoformat()}/").content.decode()
    assert "no attendance result for this day yet" in html
    assert "08:58:00" in html


def test_a_bad_date_is_not_found(org):
    client = client_for(org.employee.user)
    assert client.get("/attendance/day/2026-02-30/").status_code == 404
    assert client.get("/attendance/day/yesterday/").status_code == 404


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/attendance/team/", 403),
        ("/attendance/lookup/?q=李", 403),
        # someone else's pages: 404, as for a number nobody has
        ("/attendance/people/1003/", 404),
        ("/attendance/people/1003/2026-11-05/", 404),
        ("/attendance/people/2001/", 404),
        ("/attendance/people/4001/2026-11-05/", 404),
        ("/attendance/people/nobody/", 404),
    ],
)
def test_an_employee_sees_only_their_own_attendance(org, path, status):
    assert client_for(org.employee.user).get(path).status_code == status


def test_pages_need_a_login(org):
    response = Client().get("/attendance/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_a_supervisor_sees_their_reports_only(org):
    normal_day(org.employee, D5)
    client = client_for(org.supervisor.user)

    assert client.get("/attendance/people/1002/").status_code == 200
    assert client.get(f"/attendance/people/1002/{D5.isoformat()}/").status_code == 200
    assert client.get("/attendance/people/2001/").status_code == 404
    assert client.get("/attendance/people/1000/").status_code == 404  # their own head
    assert client.get("/attendance/lookup/?q=zs").status_code == 403

    team = client.get(f"/attendance/team/?month={NOV}")
    assert team.status_code == 200
    html = team.content.decode()
    assert "张三" in html and "李四" in html
    assert "李主管" not in html.split('<table class="team-grid">', 1)[1]  # not themselves
    assert "赵六" not in html and "陈人事" not in html


def test_someone_elses_month_uses_the_same_calendar_without_the_punch_button(org):
    punch(org.employee, at(D5, 9, 30))
    punch(org.employee, at(D5, 18, 0))
    store_day(org.employee, D5)

    html = client_for(org.supervisor.user).get(f"/attendance/people/1002/?month={NOV}")
    html = html.content.decode()

    assert "张三" in html
    assert "bang" in cell(html, D5)
    assert f"/attendance/people/1002/{D5.isoformat()}/" in html
    assert 'id="punch-button"' not in html


def test_my_own_people_url_redirects_to_my_month(org):
    response = client_for(org.employee.user).get(f"/attendance/people/1002/?month={NOV}")
    assert response.status_code == 302
    assert response["Location"] == f"/attendance/?month={NOV}"


def test_a_department_head_sees_the_whole_department(org):
    html = client_for(org.head.user).get("/attendance/team/").content.decode()
    for name in ("李主管", "张三", "李四"):
        assert name in html
    assert "赵六" not in html


def test_hr_looks_anyone_up_by_name_number_or_initials(org):
    org.employee.name_initials = "zs"
    org.employee.save(update_fields=["name_initials"])
    client = client_for(org.hr.user)

    for query in ("张三", "1002", "zs", "ZS"):
        html = client.get("/attendance/lookup/", {"q": query}).content.decode()
        assert "/attendance/people/1002/" in html, query
    assert "Nobody matches" in client.get("/attendance/lookup/?q=nobody").content.decode()

    assert client.get("/attendance/people/2001/").status_code == 200
    assert client.get(f"/attendance/people/2001/{D5.isoformat()}/").status_code == 200
    assert client.get("/attendance/people/nobody/").status_code == 404


def test_team_filters_by_search_department_and_anomalies(org):
    punch(org.colleague, at(D5, 9, 40))
    store_day(org.colleague, D5)
    normal_day(org.employee, D5)
    client = client_for(org.hr.user)

    only_bad = client.get("/attendance/team/", {"month": NOV, "anomalies": "1"}).content.decode()
    grid = only_bad.split('<table class="team-grid">', 1)[1]
    assert "李四" in grid and "张三" not in grid
    assert '<span class="count-bad"' in grid

    by_dept = client.get("/attendance/team/", {"month": NOV, "department": "SALES"})
    grid = by_dept.content.decode().split('<table class="team-grid">', 1)[1]
    assert "赵六" in grid and "张三" not in grid

    by_name = client.get("/attendance/team/", {"month": NOV, "q": "1003"}).content.decode()
    assert "李四" in by_name.split('<table class="team-grid">', 1)[1]

    partial = client.get(
        "/attendance/team/", {"month": NOV}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="team-grid"
    )
    assert partial.content.decode().strip().startswith('<section id="team-grid"')


# --------------------------------------------------------------------------- punch button


def csrf_client(user) -> tuple[Client, str]:
    """A browser-like client that enforces CSRF, with the token the home page hands out."""
    client = client_for(user, enforce_csrf_checks=True)
    page = client.get("/attendance/")
    token = client.cookies["csrftoken"].value
    assert 'hx-headers=\'{"X-CSRFToken": "' in page.content.decode()
    return client, token


def post_punch(client: Client, token: str | None, **body):
    headers = {"HTTP_X_CSRFTOKEN": token} if token else {}
    return client.post(
        "/api/v1/punches", data=json.dumps(body), content_type="application/json", **headers
    )


def test_the_punch_button_posts_to_the_api_with_the_session(org):
    client, token = csrf_client(org.employee.user)
    api_url = reverse("api:list_punches")
    assert f'data-api="{api_url}"' in client.get("/attendance/").content.decode()

    first = post_punch(client, token, latitude=OFFICE[0], longitude=OFFICE[1], channel="web")
    assert first.status_code == 201, first.content
    assert first.json()["duplicate"] is False
    assert first.json()["punch"]["employee"] == "1002"

    again = post_punch(client, token, latitude=OFFICE[0], longitude=OFFICE[1], channel="web")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["message"]
    assert Punch.objects.filter(employee=org.employee).count() == 1


def test_the_api_punch_refuses_a_session_post_without_the_csrf_token(org):
    client, _token = csrf_client(org.employee.user)
    response = post_punch(client, None, channel="web")
    assert response.status_code in (401, 403)
    assert not Punch.objects.exists()


def test_inside_a_geofence_the_punch_is_recorded_as_inside(org):
    factories.geofence(org.group, latitude=OFFICE[0], longitude=OFFICE[1])
    client, token = csrf_client(org.employee.user)

    response = post_punch(client, token, latitude=OFFICE[0] + 0.0005, longitude=OFFICE[1])

    assert response.status_code == 201
    assert response.json()["punch"]["inside_geofence"] is True
    assert response.json()["punch"]["field_punch"] is False


def test_without_location_a_geofenced_group_refuses_with_a_clear_code(org):
    factories.geofence(org.group, latitude=OFFICE[0], longitude=OFFICE[1])
    client, token = csrf_client(org.employee.user)

    response = post_punch(client, token, channel="mobile")

    assert response.status_code == 422
    assert response.json()["code"] == "location_required"


def test_outside_refused_when_the_group_says_so(org):
    factories.geofence(org.group, latitude=OFFICE[0], longitude=OFFICE[1])
    PunchSettings.objects.create(group=org.group, outside_rule=OutsideGeofenceRule.REFUSE)
    client, token = csrf_client(org.employee.user)

    response = post_punch(client, token, latitude=FAR_AWAY[0], longitude=FAR_AWAY[1])

    assert response.status_code == 422
    assert response.json()["code"] == "outside_geofence"


def test_a_group_whose_only_fence_is_inactive_does_not_check_positions(org):
    factories.geofence(org.group, code="OLD", latitude=FAR_AWAY[0], longitude=FAR_AWAY[1],
                       active=False)  # fmt: skip
    PunchSettings.objects.create(group=org.group, outside_rule=OutsideGeofenceRule.REFUSE)
    client, token = csrf_client(org.employee.user)
    assert "Your location is checked" not in client.get("/attendance/").content.decode()

    response = post_punch(client, token, latitude=OFFICE[0], longitude=OFFICE[1])

    assert response.status_code == 201
    assert response.json()["punch"]["inside_geofence"] is None


def test_inside_an_inactive_fence_is_outside(org):
    """Only active fences count: a punch inside the retired fence only is refused, one
    inside the active fence is inside."""
    factories.geofence(org.group, code="OLD", latitude=FAR_AWAY[0], longitude=FAR_AWAY[1],
                       active=False)  # fmt: skip
    factories.geofence(org.group, code="HQ", latitude=OFFICE[0], longitude=OFFICE[1])
    PunchSettings.objects.create(group=org.group, outside_rule=OutsideGeofenceRule.REFUSE)
    client, token = csrf_client(org.employee.user)
    assert "Your location is checked" in client.get("/attendance/").content.decode()

    refused = post_punch(client, token, latitude=FAR_AWAY[0], longitude=FAR_AWAY[1])
    assert refused.status_code == 422
    assert refused.json()["code"] == "outside_geofence"
    assert not Punch.objects.exists()

    inside = post_punch(client, token, latitude=OFFICE[0], longitude=OFFICE[1])
    assert inside.status_code == 201
    assert inside.json()["punch"]["inside_geofence"] is True


def test_a_fence_of_another_group_does_not_count(org):
    other = factories.AttendanceGroupFactory(code="OTHER")
    factories.geofence(other, code="THEIRS", latitude=OFFICE[0], longitude=OFFICE[1])
    factories.geofence(org.group, other, code="OURS", latitude=FAR_AWAY[0] + 1,
                       longitude=FAR_AWAY[1])  # fmt: skip
    PunchSettings.objects.create(group=org.group, outside_rule=OutsideGeofenceRule.REFUSE)
    client, token = csrf_client(org.employee.user)

    response = post_punch(client, token, latitude=OFFICE[0], longitude=OFFICE[1])

    assert response.status_code == 422
    assert response.json()["code"] == "outside_geofence"


def photo(name: str = "here.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0fake-jpeg", content_type=content_type)


def test_a_field_punch_outside_the_geofences_goes_through_the_photo_form(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    factories.geofence(org.group, latitude=OFFICE[0], longitude=OFFICE[1])
    client, token = csrf_client(org.employee.user)
    page = client.get("/attendance/").content.decode()
    assert 'accept="image/*" capture="environment"' in page
    assert 'enctype="multipart/form-data"' in page

    # the button's API call asks for a photo
    refused = post_punch(client, token, latitude=FAR_AWAY[0], longitude=FAR_AWAY[1])
    assert refused.status_code == 422 and refused.json()["code"] == "photo_required"
    assert not Punch.objects.exists()

    # without the CSRF token the form is refused
    url = reverse("attendance:punch_photo")
    form = {"latitude": FAR_AWAY[0], "longitude": FAR_AWAY[1], "accuracy_m": 30}
    assert client.post(url, {**form, "photo": photo()}).status_code == 403

    # with it, the photo lands and the punch is a field punch
    response = client.post(
        url,
        {**form, "photo": photo(), "channel": "mobile", "csrfmiddlewaretoken": token},
        follow=True,
    )
    assert response.status_code == 200
    stored = Punch.objects.get(employee=org.employee)
    assert stored.field_punch is True and stored.inside_geofence is False
    assert stored.source == "mobile"
    assert stored.photo.name.startswith("punch-photos/")
    assert (tmp_path / stored.photo.name).exists()
    assert "Field punch (外勤) recorded at" in response.content.decode()


def test_the_photo_form_refuses_what_is_not_an_image(org, settings, tmp_path):
    """The content decides, not the name or the browser's type: PDF bytes called x.jpg."""
    settings.MEDIA_ROOT = tmp_path
    client = client_for(org.employee.user)
    pdf = SimpleUploadedFile("x.jpg", b"%PDF-1.7\n%%EOF\n", content_type="image/jpeg")
    response = client.post(
        reverse("attendance:punch_photo"),
        {"latitude": 1, "longitude": 1, "photo": pdf},
        follow=True,
    )
    assert "The photo must be a JPEG, PNG, HEIC or WebP picture." in response.content.decode()
    assert not Punch.objects.exists()
    assert not list(tmp_path.rglob("*.*"))


def test_the_photo_form_only_accepts_posts(org):
    assert client_for(org.employee.user).get(reverse("attendance:punch_photo")).status_code == 405


# --------------------------------------------------------------------------- query counts


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_month_page_does_not_grow_with_days_or_punches(org, django_assert_max_num_queries):
    client = client_for(org.employee.user)
    client.get(f"/attendance/?month={NOV}")  # warm up session and content types
    empty = count_queries(client, "/attendance/?month=2026-11")

    month_of_days(org.employee, 2026, 11, punches_per_day=4)
    assert AttendanceDay.objects.filter(employee=org.employee).count() == 30

    with django_assert_max_num_queries(15):
        response = client.get(f"/attendance/?month={NOV}")
    assert response.status_code == 200
    assert count_queries(client, f"/attendance/?month={NOV}") == empty


def test_someone_elses_month_and_day_are_fixed_cost(org, django_assert_max_num_queries):
    month_of_days(org.employee, 2026, 10, punches_per_day=5)
    client = client_for(org.hr.user)
    client.get("/attendance/people/1002/?month=2026-10")

    with django_assert_max_num_queries(15):
        assert client.get("/attendance/people/1002/?month=2026-10").status_code == 200
    with django_assert_max_num_queries(13):
        assert client.get("/attendance/people/1002/2026-10-15/").status_code == 200


def test_the_team_grid_with_twenty_reports_is_fixed_cost(org, django_assert_max_num_queries):
    first = date(2026, 11, 1)
    reports = [
        factories.EmployeeFactory(
            supervisor=org.supervisor, attendance_group=org.group, department=org.department
        )
        for _ in range(20)
    ]
    rows = [
        AttendanceDay(
            employee=person,
            day=first + timedelta(days=i),
            kind="work",
            status="abnormal" if i % 7 == 3 else "normal",
            late_count=1 if i % 7 == 3 else 0,
            computed_at=timezone.now(),
        )
        for person in reports
        for i in range(30)
    ]
    AttendanceDay.objects.bulk_create(rows)
    client = client_for(org.supervisor.user)
    client.get(f"/attendance/team/?month={NOV}")

    with django_assert_max_num_queries(17):
        response = client.get(f"/attendance/team/?month={NOV}")

    html = response.content.decode()
    assert html.count('<th scope="row" class="who">') == 22  # 20 + 张三 + 李四
    assert html.count("st-abnormal") >= 20 * 4
