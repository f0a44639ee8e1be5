"""The corrections API: submit (one or many), lists, detail, decisions, quota, attachments.

tests/corrections/urls_api.py mounts the router (and the download view) on a test copy of
the project's API until ztk/api/routers.py and config/urls.py do.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ztk.accounts.services import api_key_create
from ztk.corrections.models import CorrectionRequest

from .conftest import MON, TUE, item, only_checkout, submit
from .test_attachments import PDF, PNG

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.corrections.urls_api")]


def bearer(user) -> dict:
    _key, raw = api_key_create(actor=None, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}


def post(client, path, user, body=None):
    return client.post(
        path, json.dumps(body or {}), content_type="application/json", **bearer(user)
    )


def body_item(day=MON, slot="in1", time="08:58", **extra):
    return {
        "date": day.isoformat(),
        "slot": slot,
        "requested_time": f"{day.isoformat()}T{time}:00+08:00",
        "category": "forgot",
        "reason": "早上忘记打卡了",
        **extra,
    }


def test_submit_one_then_supervisor_and_hr_approve(client, week):
    org = week
    only_checkout(org.employee, MON)

    created = post(client, "/api/v1/corrections", org.employee.user, {"items": [body_item()]})
    assert created.status_code == 201, created.json()
    (req,) = created.json()
    assert (req["status"], req["slot"], req["current_step"]) == ("pending", "in1", 1)
    assert req["employee"]["employee_no"] == "1002"
    assert [s["kind"] for s in req["chain"]] == ["supervisor", "hr"]

    path = f"/api/v1/corrections/{req['id']}"
    mine = client.get(path, **bearer(org.employee.user)).json()
    assert mine["can_act"] is False
    assert [s["status"] for s in mine["preview"]["slots"]] == ["corrected", "normal"]
    assert mine["preview"]["status"] == "normal"

    own = post(client, f"{path}/approve", org.employee.user)
    assert (own.status_code, own.json()["code"]) == (403, "permission_denied")

    assert client.get(path, **bearer(org.supervisor.user)).json()["can_act"] is True
    step1 = post(client, f"{path}/approve", org.supervisor.user, {"comment": "属实"})
    assert step1.status_code == 200 and step1.json()["current_step"] == 2
    final = post(client, f"{path}/approve", org.hr.user)
    assert final.status_code == 200
    assert final.json()["status"] == "approved" and final.json()["punch_id"]

    days = client.get(
        "/api/v1/attendance/days?from=2026-11-23&to=2026-11-23", **bearer(org.employee.user)
    ).json()
    assert [s["status"] for s in days[0]["slots"]] == ["corrected", "normal"]


def test_multi_item_refusal_lists_every_item_and_creates_nothing(client, week):
    org = week
    only_checkout(org.employee, MON, TUE)
    items = [
        body_item(MON),  # fine on its own
        body_item(TUE, reason="忘了"),  # reason too short
        body_item(TUE, slot="out1", time="18:00"),  # already punched
    ]

    response = post(client, "/api/v1/corrections", org.employee.user, {"items": items})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "reason_too_short"
    assert [(d["index"], d["code"]) for d in body["details"]] == [
        (1, "reason_too_short"),
        (2, "slot_already_punched"),
    ]
    assert all(d["message"] for d in body["details"])
    assert not CorrectionRequest.objects.exists()


def test_multi_item_submission_gives_one_request_per_slot(client, week):
    org = week
    only_checkout(org.employee, MON, TUE)
    items = [body_item(MON), body_item(TUE, reason="指纹识别失败了两次", category="device")]
    response = post(client, "/api/v1/corrections", org.employee.user, {"items": items})
    assert response.status_code == 201
    assert [(r["date"], r["category"]["code"]) for r in response.json()] == [
        ("2026-11-23", "forgot"),
        ("2026-11-24", "device"),
    ]


def test_lists_by_scope_and_role(client, week):
    org = week
    only_checkout(org.employee, MON)
    only_checkout(org.stranger, MON)
    (mine,) = submit(org.employee.user, org.employee)
    (other,) = submit(org.stranger.user, org.stranger)

    def ids(user, scope):
        response = client.get(f"/api/v1/corrections?scope={scope}", **bearer(user))
        assert response.status_code == 200
        return [r["id"] for r in response.json()]

    assert ids(org.employee.user, "mine") == [mine.pk]
    assert ids(org.employee.user, "to_approve") == []
    assert ids(org.supervisor.user, "to_approve") == [mine.pk]
    assert ids(org.supervisor.user, "all") == [mine.pk]
    assert set(ids(org.hr.user, "all")) == {mine.pk, other.pk}
    assert ids(org.hr.user, "to_approve") == [other.pk]  # the stranger has no supervisor
    stranger_get = client.get(f"/api/v1/corrections/{mine.pk}", **bearer(org.stranger.user))
    assert stranger_get.status_code == 404


def test_reject_then_withdraw_states(client, week):
    org = week
    only_checkout(org.employee, MON, TUE)
    first, second = submit(org.employee.user, org.employee, *_items(MON, TUE))
    no_reason = post(client, f"/api/v1/corrections/{first.pk}/reject", org.supervisor.user,
                     {"reason": ""})  # fmt: skip
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "reason_required")
    rejected = post(
        client, f"/api/v1/corrections/{first.pk}/reject", org.supervisor.user, {"reason": "不属实"}
    )
    assert rejected.json()["status"] == "rejected"
    again = post(client, f"/api/v1/corrections/{first.pk}/withdraw", org.employee.user)
    assert (again.status_code, again.json()["code"]) == (422, "not_pending")
    withdrawn = post(client, f"/api/v1/corrections/{second.pk}/withdraw", org.employee.user)
    assert withdrawn.json()["status"] == "withdrawn"


def _items(*days):
    return [item(day) for day in days]


def test_transfer_and_comment(client, week):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    path = f"/api/v1/corrections/{req.pk}"
    moved = post(client, f"{path}/transfer", org.supervisor.user,
                 {"to_employee": org.head.employee_no, "comment": "请部长审批"})  # fmt: skip
    assert moved.status_code == 200
    assert moved.json()["chain"][0]["approvers"] == [org.head.user_id]
    note = post(client, f"{path}/comment", org.employee.user, {"comment": "门禁有记录"})
    assert note.status_code == 201 and note.json()["action"] == "comment"
    assert post(client, f"{path}/approve", org.supervisor.user).status_code == 403
    assert post(client, f"{path}/approve", org.head.user).json()["current_step"] == 2


def test_transfer_finds_the_new_approver_like_the_page(client, week):
    # The page and the API name the new approver through one look-up (employee number or
    # user name, org.selectors.user_named); before, the API knew employee numbers only.
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    path = f"/api/v1/corrections/{req.pk}/transfer"

    unknown = post(client, path, org.supervisor.user, {"to_employee": "nobody"})
    moved = post(client, path, org.supervisor.user, {"to_employee": org.head.user.username})

    assert (unknown.status_code, unknown.json()["code"]) == (422, "bad_transfer")
    assert moved.status_code == 200
    assert moved.json()["chain"][0]["approvers"] == [org.head.user_id]


def test_quota_shows_used_limit_and_open_anomalies(client, week):
    org = week
    only_checkout(org.employee, MON, TUE)
    submit(org.employee.user, org.employee)
    response = client.get("/api/v1/corrections/quota", **bearer(org.employee.user))
    assert response.status_code == 200
    body = response.json()
    assert (body["used"], body["limit"], body["remaining"]) == (1, 3, 2)
    assert (body["period_start"], body["period_end"]) == ("2026-11-01", "2026-11-30")
    assert [(a["day"], a["slot"], a["last_day_to_apply"]) for a in body["open_anomalies"]] == [
        ("2026-11-24", "in1", "2026-11-27")
    ]
    other = client.get("/api/v1/corrections/quota?employee=1002", **bearer(org.stranger.user))
    assert other.status_code == 404  # like a number nobody has


def test_attachment_upload_and_download_rights(client, week):
    org = week
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee)
    upload = client.post(
        f"/api/v1/corrections/{req.pk}/attachments",
        {"file": SimpleUploadedFile("scan.jpg", PDF, content_type="image/jpeg")},
        **bearer(org.employee.user),
    )
    assert upload.status_code == 201, upload.json()
    assert upload.json()["content_type"] == "application/pdf"
    url = upload.json()["url"]

    client.force_login(org.supervisor.user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF

    client.force_login(org.stranger.user)
    assert client.get(url).status_code == 404

    bad = client.post(
        f"/api/v1/corrections/{req.pk}/attachments",
        {"file": SimpleUploadedFile("photo.png", b"MZ\x90\x00" + b"\x00" * 60)},
        **bearer(org.employee.user),
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "attachment_type")


def test_submit_with_files_in_one_multipart_request(client, week):
    org = week
    only_checkout(org.employee, MON)
    payload = json.dumps({"items": [body_item()], "channel": "mobile"})
    response = client.post(
        "/api/v1/corrections/multipart",
        {"payload": payload, "files": [SimpleUploadedFile("a.png", PNG)]},
        **bearer(org.employee.user),
    )
    assert response.status_code == 201, response.json()
    req = CorrectionRequest.objects.get()
    assert req.channel == "mobile"
    assert [a.content_type for a in req.attachments.all()] == ["image/png"]


def test_batch_approve_is_all_or_nothing(client, week):
    org = week
    only_checkout(org.employee, MON, TUE)
    only_checkout(org.colleague, MON)
    a, b = submit(org.employee.user, org.employee, *_items(MON, TUE))
    (c,) = submit(org.colleague.user, org.colleague)
    post(client, f"/api/v1/corrections/{b.pk}/withdraw", org.employee.user)

    refused = post(client, "/api/v1/corrections/batch-approve", org.supervisor.user,
                   {"ids": [a.pk, b.pk, c.pk]})  # fmt: skip
    assert refused.status_code == 422
    assert [(d["index"], d["code"]) for d in refused.json()["details"]] == [(1, "not_pending")]
    assert CorrectionRequest.objects.get(pk=a.pk).current_step == 1

    done = post(client, "/api/v1/corrections/batch-approve", org.supervisor.user,
                {"ids": [a.pk, c.pk]})  # fmt: skip
    assert done.status_code == 200
    assert [r["current_step"] for r in done.json()] == [2, 2]


def test_preview_before_submitting(client, week):
    org = week
    only_checkout(org.employee, MON)
    response = post(client, "/api/v1/corrections/preview", org.employee.user,
                    {"date": "2026-11-23", "slot": "in1",
                     "requested_time": "2026-11-23T08:58:00+08:00"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["status"] == "normal"
    assert [s["status"] for s in response.json()["slots"]] == ["corrected", "normal"]


def test_list_query_count_does_not_grow(client, week, django_assert_max_num_queries):
    org = week
    days = [MON, TUE]
    only_checkout(org.employee, *days)
    only_checkout(org.colleague, *days)
    submit(org.employee.user, org.employee, *_items(*days))
    submit(org.colleague.user, org.colleague, *_items(*days))
    headers = bearer(org.hr.user)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/corrections?scope=all", **headers)
    assert len(response.json()) == 4
