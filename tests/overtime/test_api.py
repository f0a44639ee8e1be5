"""The overtime API: submit, list, detail, decisions; refusals are 422 with stable codes."""

from __future__ import annotations

import json

import pytest

from ztk.accounts.services import api_key_create
from ztk.attendance.models import AttendancePeriod, PeriodStatus

from .conftest import MON, SAT, at, punch

pytestmark = pytest.mark.django_db
OT = "/api/v1/overtime"


def bearer(user) -> dict:
    _key, raw = api_key_create(actor=None, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}


def post(client, path, user, body=None):
    return client.post(
        path, json.dumps(body or {}), content_type="application/json", **bearer(user)
    )


def body(start, end, **extra):
    return {"start": start.isoformat(), "end": end.isoformat(), "reason": "赶项目上线", **extra}


def test_saturday_overtime_through_the_api(client, week):
    org = week
    punch(org.employee, at(SAT, 9), at(SAT, 13))

    created = post(client, OT, org.employee.user, body(at(SAT, 9), at(SAT, 13)))
    assert created.status_code == 201, created.json()
    ot = created.json()
    assert (ot["kind"], ot["date"], ot["minutes"], ot["status"]) == (
        "rest",
        "2026-11-28",
        240,
        "pending",
    )

    listed = client.get(f"{OT}?scope=to_approve", **bearer(org.supervisor.user)).json()
    assert [r["id"] for r in listed["items"]] == [ot["id"]]
    assert post(client, f"{OT}/{ot['id']}/approve", org.supervisor.user).status_code == 200
    assert post(client, f"{OT}/{ot['id']}/approve", org.hr.user).status_code == 200
    detail = client.get(f"{OT}/{ot['id']}", **bearer(org.employee.user)).json()
    assert (detail["status"], detail["counted_minutes"]) == ("approved", 240)
    assert [a["action"] for a in detail["actions"]] == ["submit", "approve", "approve"]


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (at(MON, 20), at(MON, 18), "bad_span"),
        (at(MON, 0), at(MON.replace(day=24), 2), "too_long"),
        (at(MON.replace(year=2027), 18), at(MON.replace(year=2027), 20), "too_far_ahead"),
    ],
)
def test_bad_spans_answer_422_with_their_code(client, week, start, end, code):
    reply = post(client, OT, week.employee.user, body(start, end))
    assert (reply.status_code, reply.json()["code"]) == (422, code)


def test_overlap_and_closed_period_answer_422(client, week):
    org = week
    assert post(client, OT, org.employee.user, body(at(MON, 18), at(MON, 20))).status_code == 201
    reply = post(client, OT, org.employee.user, body(at(MON, 19), at(MON, 21)))
    assert (reply.status_code, reply.json()["code"]) == (422, "overlaps_existing")
    AttendancePeriod.objects.create(
        group=org.group, start=MON.replace(day=1), end=MON.replace(day=30),
        status=PeriodStatus.CLOSED,
    )  # fmt: skip
    reply = post(client, OT, org.employee.user, body(at(MON, 6), at(MON, 8)))
    assert (reply.status_code, reply.json()["code"]) == (422, "period_closed")


def test_a_decided_request_cannot_be_decided_again(client, week):
    org = week
    ot = post(client, OT, org.employee.user, body(at(MON, 18), at(MON, 20))).json()
    assert post(client, f"{OT}/{ot['id']}/withdraw", org.employee.user).status_code == 200
    reply = post(client, f"{OT}/{ot['id']}/withdraw", org.employee.user)
    assert (reply.status_code, reply.json()["code"]) == (422, "not_pending")


def test_cancelling_approved_overtime_through_the_api(client, week):
    """撤销: the same shape as the absences' 销假 — 201 with the cancellation request."""
    org = week
    punch(org.employee, at(SAT, 9), at(SAT, 13))
    ot = post(client, OT, org.employee.user, body(at(SAT, 9), at(SAT, 13))).json()
    pending = post(client, f"{OT}/{ot['id']}/cancel", org.employee.user, {"reason": "搞错了"})
    assert (pending.status_code, pending.json()["code"]) == (422, "not_approved")
    for approver in (org.supervisor.user, org.hr.user):
        assert post(client, f"{OT}/{ot['id']}/approve", approver).status_code == 200
    asked = post(client, f"{OT}/{ot['id']}/cancel", org.employee.user, {"reason": "搞错了"})
    assert asked.status_code == 201, asked.json()
    cancel = asked.json()
    assert (cancel["cancels"], cancel["status"]) == (ot["id"], "pending")
    again = post(client, f"{OT}/{ot['id']}/cancel", org.employee.user, {"reason": "搞错了"})
    assert (again.status_code, again.json()["code"]) == (422, "already_cancelling")

    # the supervisor finds it in the one inbox, marked, and approves it on its endpoint
    waiting = client.get("/api/v1/inbox", **bearer(org.supervisor.user)).json()
    (item,) = waiting["items"]
    assert (item["type"], item["id"], item["cancellation"]) == ("overtime", cancel["id"], True)
    for approver in (org.supervisor.user, org.hr.user):
        assert (
            post(client, item["approve"].replace("/api/v1/overtime", OT), approver).status_code
            == 200
        )
    detail = client.get(f"{OT}/{ot['id']}", **bearer(org.employee.user)).json()
    assert (detail["status"], detail["counted_minutes"]) == ("cancelled", 0)


def test_the_inbox_api_lists_every_type_with_a_type_filter(client, week):
    from tests.leave.conftest import grant, leave

    org = week
    grant(org.employee, "5")
    absence = leave(org.employee, MON)
    ot = post(client, OT, org.employee.user, body(at(SAT, 9), at(SAT, 13))).json()
    everything = client.get("/api/v1/inbox", **bearer(org.supervisor.user)).json()
    assert {(i["type"], i["id"]) for i in everything["items"]} == {
        ("leave", absence.pk),
        ("overtime", ot["id"]),
    }
    assert everything["count"] == 2
    only = client.get("/api/v1/inbox?type=leave", **bearer(org.supervisor.user)).json()
    assert [i["id"] for i in only["items"]] == [absence.pk]
    assert client.get("/api/v1/inbox", **bearer(org.employee.user)).json()["count"] == 0
