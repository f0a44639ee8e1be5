"""The attendance group sync API: list, one, idempotent create-or-update, refusals."""

from __future__ import annotations

import pytest

from tests import factories
from ztk.audit.models import AuditEvent
from ztk.org.models import AttendanceGroup
from ztk.punches.models import PunchSettings

from .conftest import call

pytestmark = pytest.mark.django_db
URL = "/api/v1/groups"
BODY = {
    "name": "上海办公室",
    "time_zone": "Asia/Shanghai",
    "day_boundary_hour": 4,
    "active": True,
    "web_punch_enabled": False,
    "outside_rule": "refuse",
}


def events(prefix: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("seq"))


def test_put_creates_then_updates_and_a_repeat_writes_nothing(client, keys):
    reply = call(client, "PUT", f"{URL}/SH", key=keys["hr"], body=BODY)

    assert reply.status == 201
    assert reply.body == {"code": "SH", **BODY, "quick_punch": False, "member_count": 0}
    group = AttendanceGroup.objects.get(code="SH")
    assert group.day_boundary_hour == 4
    rules = PunchSettings.objects.get(group=group)
    assert not rules.web_punch_enabled and rules.outside_rule == "refuse"
    assert [e.action for e in events("org.group")] == ["org.group.create"]

    again = call(client, "PUT", f"{URL}/SH", key=keys["hr"], body=BODY)
    assert again.status == 200 and again.body == reply.body
    assert len(events("org.group")) == 1 and len(events("punches.settings")) == 1

    changed = call(client, "PUT", f"{URL}/SH", key=keys["sysadmin"], body={**BODY, "name": "沪"})
    assert changed.status == 200 and changed.body["name"] == "沪"
    assert [e.action for e in events("org.group")] == ["org.group.create", "org.group.update"]


def test_the_same_group_is_seen_on_the_page_and_in_the_api(client, keys, org):
    client.force_login(org.hr.user)
    client.post(
        "/settings/groups/new/",
        {"code": "WEB", "name": "网页建", "time_zone": "Asia/Tokyo", "day_boundary_hour": "3",
         "active": "1", "outside_rule": "field"},
    )  # fmt: skip

    reply = call(client, "GET", f"{URL}/WEB", key=keys["hr"])

    assert reply.status == 200
    assert reply.body["time_zone"] == "Asia/Tokyo" and reply.body["web_punch_enabled"] is False


def test_list_is_paged_with_member_counts(client, keys, org):
    factories.AttendanceGroupFactory(code="ZZ", name="最后", active=False)

    reply = call(client, "GET", f"{URL}?limit=1", key=keys["hr"])

    assert reply.status == 200
    assert reply.body["count"] == 2 and "offset=1" in reply.body["next"]
    (first,) = reply.body["items"]
    assert first["code"] == "STD" and first["member_count"] == 7
    assert first["outside_rule"] == "field" and first["web_punch_enabled"] is True  # defaults
    inactive = call(client, "GET", f"{URL}?active=false", key=keys["hr"])
    assert [g["code"] for g in inactive.body["items"]] == ["ZZ"]


def test_an_unknown_group_is_404(client, keys):
    reply = call(client, "GET", f"{URL}/NOPE", key=keys["hr"])
    assert reply.status == 404


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"time_zone": "Mars/Olympus"}, "bad_time_zone"),
        ({"day_boundary_hour": 24}, "validation_error"),
        ({"outside_rule": "maybe"}, "validation_error"),
        ({"name": "\u202eevil"}, None),
    ],
)
def test_refusals_are_clear_and_write_nothing(client, keys, change, code):
    reply = call(client, "PUT", f"{URL}/SH", key=keys["hr"], body={**BODY, **change})

    assert reply.status == 422
    if code:
        assert reply.body["code"] == code
    assert not AttendanceGroup.objects.filter(code="SH").exists()
    assert not events("org.group") and not PunchSettings.objects.exists()


def test_a_group_with_members_cannot_be_deactivated_over_the_api(client, keys, org):
    reply = call(
        client, "PUT", f"{URL}/STD", key=keys["hr"], body={**BODY, "name": "x", "active": False}
    )

    assert reply.status == 422 and reply.body["code"] == "group_has_members"
    org.group.refresh_from_db()
    assert org.group.active and org.group.name == "标准工时组"


def test_the_code_in_the_path_must_be_a_code(client, keys):
    reply = call(client, "PUT", f"{URL}/a%20b", key=keys["hr"], body=BODY)
    assert reply.status == 422
