"""GET /api/v1/devices and POST /api/v1/devices/{serial}/approve."""

from __future__ import annotations

from ztk.accounts.services import api_key_create
from ztk.devices.models import DeviceStatus
from ztk.punches.models import Punch

from .conftest import make_device, post


def bearer(user) -> dict:
    _key, raw = api_key_create(actor=None, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_list_terminals_for_hr(client, org, approved):
    make_device("PEND0001", status=DeviceStatus.PENDING)
    response = client.get("/api/v1/devices", **bearer(org.hr.user))

    assert response.status_code == 200
    body = response.json()["items"]
    assert [d["serial"] for d in body] == [approved.serial, "PEND0001"]
    first = body[0]
    assert first["status"] == "approved"
    assert first["attendance_group"] == "STD"
    assert first["time_zone"] == "Asia/Shanghai"
    assert first["held_punches"] == 0

    pending_only = client.get("/api/v1/devices?status=pending", **bearer(org.hr.user)).json()
    assert [d["serial"] for d in pending_only["items"]] == ["PEND0001"]


def test_list_needs_authentication_and_the_hr_role(client, org, approved):
    assert client.get("/api/v1/devices").status_code == 401
    response = client.get("/api/v1/devices", **bearer(org.employee.user))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_approve_releases_held_punches(client, org):
    pending = make_device("PEND0001", status=DeviceStatus.PENDING)
    post(
        client,
        "ATTLOG",
        "1002\t2026-11-26 08:57:03\n4242\t2026-11-26 08:58:00\n",
        serial="PEND0001",
    )

    response = client.post(
        "/api/v1/devices/PEND0001/approve",
        data={"attendance_group": "STD", "name": "Gate 1"},
        content_type="application/json",
        **bearer(org.sysadmin),
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["device"]["status"] == "approved"
    assert body["device"]["name"] == "Gate 1"
    assert body["device"]["held_punches"] == 1  # PIN 4242 waits for an employee
    assert body["released"] == {"recorded": 1, "duplicate": 0, "still_held": 1, "refused": 0}
    assert Punch.objects.filter(device_sn=pending.serial).count() == 1


def test_approve_without_body_and_its_errors(client, org):
    make_device("PEND0001", status=DeviceStatus.PENDING)
    # e.g. `curl -X POST`: no body, no content type
    response = client.generic("POST", "/api/v1/devices/PEND0001/approve", **bearer(org.hr.user))
    assert response.status_code == 200, response.content
    assert response.json()["device"]["status"] == "approved"

    missing = client.generic("POST", "/api/v1/devices/NOPE/approve", **bearer(org.hr.user))
    assert (missing.status_code, missing.json()["code"]) == (404, "device_not_found")

    denied = client.generic("POST", "/api/v1/devices/PEND0001/approve", **bearer(org.employee.user))
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")

    bad_zone = client.post(
        "/api/v1/devices/PEND0001/approve",
        data={"time_zone": "Nowhere/City"},
        content_type="application/json",
        **bearer(org.hr.user),
    )
    assert (bad_zone.status_code, bad_zone.json()["code"]) == (422, "bad_time_zone")


def test_list_query_count_is_flat(client, org, django_assert_max_num_queries):
    headers = bearer(org.hr.user)
    client.get("/api/v1/devices", **headers)  # the key's first use is noted once
    for i in range(2):
        make_device(f"DEV{i:05d}", group=org.group)
    with django_assert_max_num_queries(20) as few:
        client.get("/api/v1/devices", **headers)
    for i in range(2, 25):
        make_device(f"DEV{i:05d}", group=org.group)
    with django_assert_max_num_queries(20) as many:
        client.get("/api/v1/devices", **headers)
    assert len(many.captured_queries) == len(few.captured_queries)
