"""The admin: pages open, shifts with inline segments are validated, edits are audited."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import UserFactory
from ztk.audit.models import AuditEvent
from ztk.scheduling import hooks
from ztk.scheduling.models import Exemption, Shift

pytestmark = pytest.mark.django_db

SEGMENT_DEFAULTS = {
    "in_earliest": 120,
    "out_latest": 240,
    "grace_in": 0,
    "grace_out": 0,
    "late_as_missing": 120,
    "early_as_missing": 120,
    "serious_late": 30,
    "late_as_half_day_absent": "",
}


@pytest.fixture
def root(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def shift_form(code: str, segments: list[tuple[int, str, str]], **extra) -> dict:
    data = {
        "code": code,
        "name": "班次",
        "kind": "fixed",
        "active": "on",
        "arrive_from": "",
        "arrive_until": "",
        "required_minutes": "",
        "segments-TOTAL_FORMS": str(len(segments)),
        "segments-INITIAL_FORMS": "0",
        "segments-MIN_NUM_FORMS": "1",
        "segments-MAX_NUM_FORMS": "3",
        **extra,
    }
    for i, (position, start, end) in enumerate(segments):
        data[f"segments-{i}-position"] = str(position)
        data[f"segments-{i}-start"] = start
        data[f"segments-{i}-end"] = end
        for name, value in SEGMENT_DEFAULTS.items():
            data[f"segments-{i}-{name}"] = str(value)
    return data


@pytest.mark.parametrize(
    "model",
    [
        "shift",
        "weeklypattern",
        "rosterentry",
        "workcalendarday",
        "calendaryear",
        "exemption",
    ],
)
def test_pages_open(client, root, model):
    assert client.get(f"/admin/scheduling/{model}/").status_code == 200
    assert client.get(f"/admin/scheduling/{model}/add/").status_code == 200


def test_add_a_split_shift_with_inline_segments(client, root):
    # positions decide the order, whatever order the rows come in
    data = shift_form("SPLIT", [(2, "13:00", "18:00"), (1, "09:00", "12:00")])
    response = client.post("/admin/scheduling/shift/add/", data)
    assert response.status_code == 302, response.context["errors"]
    shift = Shift.objects.get(code="SPLIT")
    assert [str(s) for s in shift.segments.order_by("position")] == ["09:00–12:00", "13:00–18:00"]
    event = AuditEvent.objects.get(action="scheduling.shift.segments")
    assert len(event.changes["after"]["segments"]) == 2
    assert AuditEvent.objects.filter(action="scheduling.shift.create").exists()


def test_overlapping_segments_are_refused_in_the_admin(client, root):
    data = shift_form("BAD", [(1, "09:00", "18:00"), (2, "17:00", "20:00")])
    response = client.post("/admin/scheduling/shift/add/", data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors().as_data()
    assert [e.code for e in errors] == ["segment_overlap"]
    assert not Shift.objects.filter(code="BAD").exists()


def test_admin_calendar_edit_is_manual_and_announced(
    client, root, django_capture_on_commit_callbacks
):
    heard = []
    hooks.connect(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/admin/scheduling/workcalendarday/add/",
                {"date": "2027-06-18", "kind": "holiday", "name": "司庆"},
            )
    finally:
        hooks.disconnect(heard.append)
    assert response.status_code == 302
    assert heard[0][0].dates == {date(2027, 6, 18)}
    assert AuditEvent.objects.filter(action="scheduling.workcalendarday.create").exists()


def test_void_action(client, root, org):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    start = datetime(2025, 9, 23, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    exemption = Exemption.objects.create(
        employee=org.employee, start=start, end=start.replace(hour=18), kind="leave"
    )
    response = client.post(
        "/admin/scheduling/exemption/",
        {"action": "void_selected", "_selected_action": [exemption.pk]},
    )
    assert response.status_code == 302
    exemption.refresh_from_db()
    assert exemption.voided and exemption.voided_by == root


def test_hr_enters_an_exemption_in_the_admin(client, org):
    # given an HR admin without any per-model permission
    client.force_login(org.hr.user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/scheduling/exemption/").status_code == 200
    # when
    response = client.post(
        "/admin/scheduling/exemption/add/",
        {
            "employee": org.employee.pk,
            "kind": "trip",
            "start_0": "2025-09-23",
            "start_1": "09:00",
            "end_0": "2025-09-25",
            "end_1": "18:00",
            "reason": "出差上海",
        },
    )
    # then
    assert response.status_code == 302
    exemption = Exemption.objects.get()
    assert exemption.created_by == org.hr.user
    assert AuditEvent.objects.filter(action="scheduling.exemption.create").exists()


def test_employee_cannot_open_the_schedule_admin(client, org):
    client.force_login(org.employee.user)
    assert client.get("/admin/scheduling/exemption/").status_code == 403


def test_a_flexible_arrival_after_the_segment_is_refused_in_the_admin_with_the_rule_text(
    client, root
):
    data = shift_form(
        "FLEXBAD",
        [(1, "07:00", "22:00")],
        kind="flexible",
        arrive_from="08:00",
        arrive_until="23:00",
        required_minutes="540",
    )
    response = client.post("/admin/scheduling/shift/add/", data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors().as_data()
    assert [e.code for e in errors] == ["flexible_window"]
    assert not Shift.objects.filter(code="FLEXBAD").exists()
