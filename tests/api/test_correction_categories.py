"""GET /api/v1/corrections/categories: the reason categories as HR configured them, for
integrators (HR and system admin keys): code, name, attachment required, active, and the
group whose policy defines it (null: global); the usual {items, count, next} envelope."""

from __future__ import annotations

import pytest

from ztk.corrections.models import CorrectionPolicy, ReasonCategory

from .conftest import call

pytestmark = pytest.mark.django_db
URL = "/api/v1/corrections/categories"


@pytest.fixture
def categories(org):
    ReasonCategory.objects.all().delete()  # the seeded defaults, for an exact list here
    policy = CorrectionPolicy.objects.create(group=org.group)
    ReasonCategory.objects.create(code="forgot", name="忘记打卡", order=1)
    ReasonCategory.objects.create(code="device", name="设备故障", order=2, requires_attachment=True)
    ReasonCategory.objects.create(code="old", name="旧原因", order=3, active=False)
    ReasonCategory.objects.create(
        policy=policy, code="trip", name="外出公干", order=1, requires_attachment=True
    )
    return policy


def test_hr_lists_every_category_with_its_group(client, keys, categories, org):
    reply = call(client, "GET", URL, key=keys["hr"])

    assert reply.status == 200
    assert reply.body["count"] == 4 and reply.body["next"] is None
    first, *_, last = reply.body["items"]
    assert first == {
        "code": "forgot",
        "name": "忘记打卡",
        "requires_attachment": False,
        "active": True,
        "order": 1,
        "group": None,
        "group_name": None,
    }
    assert (last["code"], last["group"], last["group_name"]) == ("trip", "STD", org.group.name)
    assert last["requires_attachment"] is True
    assert [i["code"] for i in reply.body["items"]] == ["forgot", "device", "old", "trip"]


def test_filters_and_pages(client, keys, categories):
    active = call(client, "GET", f"{URL}?active=true", key=keys["hr"]).body
    other = call(client, "GET", f"{URL}?group=NOPE", key=keys["hr"]).body
    page = call(client, "GET", f"{URL}?limit=2", key=keys["sysadmin"]).body

    assert [i["code"] for i in active["items"]] == ["forgot", "device", "trip"]
    assert [i["code"] for i in other["items"]] == ["forgot", "device", "old"]  # globals only
    assert page["count"] == 4 and len(page["items"]) == 2
    assert page["next"].endswith("offset=2&limit=2") or "offset=2" in page["next"]


@pytest.mark.parametrize("role", ["employee", "supervisor", "department_head", "auditor"])
def test_others_are_refused(client, keys, categories, role):
    assert call(client, "GET", URL, key=keys[role]).status == 403


def test_a_bad_filter_is_a_clear_422(client, keys):
    reply = call(client, "GET", f"{URL}?group=%00", key=keys["hr"])
    assert reply.status == 422
