"""Input abuse: the examples of issue 10 (items 4 and 12), each a request a person or a
script can send, and each answered with a clear refusal instead of a 500.

NUL (PostgreSQL refuses it in text), other control characters, lone surrogates, the
right-to-left override, impossible dates, integers beyond 64 bits, datetimes that
overflow when converted to UTC, and bodies over DATA_UPLOAD_MAX_MEMORY_SIZE.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.corrections.conftest import MON, at, item, only_checkout, submit
from tests.factories import UserFactory
from ztk.accounts.services import api_key_create
from ztk.approvals.models import ActionKind
from ztk.corrections.models import ApprovalAction, Status
from ztk.punches.models import Punch

pytestmark = pytest.mark.django_db

NUL = "\x00"
RLO = "\u202e"


def _login(user) -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def pending(week):
    """The employee's pending correction of Monday's missing check-in, waiting for the
    supervisor."""
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee, item())
    return req


# --------------------------------------------------------------------------- NUL in web forms


@pytest.mark.parametrize("bad", [NUL, RLO, "\x1b[31m"])
def test_reject_reason_with_a_forbidden_character_is_refused_by_the_form(week, pending, bad):
    client = _login(week.supervisor.user)
    typed = f"不符合规定{bad}请重新提交"
    response = client.post(f"/requests/{pending.pk}/reject/", {"reason": typed})
    assert response.status_code == 422
    body = response.content.decode()
    assert "contains a character that is not allowed" in body
    assert "不符合规定" in body  # what was typed is still in the form
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_comment_with_nul_is_refused_and_nothing_is_added(week, pending):
    client = _login(week.employee.user)
    before = ApprovalAction.objects.count()
    response = client.post(f"/requests/{pending.pk}/comment/", {"comment": f"a{NUL}b"})
    assert response.status_code == 422
    assert "U+0000" in response.content.decode()
    assert ApprovalAction.objects.count() == before


def test_hr_manual_punch_remark_with_nul_is_refused(week):
    only_checkout(week.employee, MON)
    client = _login(week.hr.user)
    response = client.post(
        "/hr/manual/add/",
        {
            "employee": week.employee.employee_no,
            "day": MON.isoformat(),
            "slot": "in1",
            "time_in1": "09:00",
            "remark": f"设备故障{NUL}补录",
        },
    )
    assert response.status_code == 422
    assert "U+0000" in response.content.decode()
    assert not Punch.objects.filter(source="manual").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/attendance/team/?q=%00",
        "/attendance/lookup/?q=%00",
        "/hr/manual/?q=%00",
        "/hr/manual/search/?q=%00",
        "/requests/inbox/?view=all&q=%00",
        "/audit/?actor=%00",
        "/audit/?action=%E2%80%AE",
    ],
)
def test_search_filters_with_a_forbidden_character_get_a_clear_400(week, url):
    user = week.auditor.user if url.startswith("/audit/") else week.hr.user
    response = _login(user).get(url)
    assert response.status_code == 400
    assert "contains a character that is not allowed" in response.content.decode()


# --------------------------------------------------------------------------- the API


@pytest.fixture
def hr_key(week):
    return api_key_create(actor=week.hr.user, user=week.hr.user, name="abuse")[1]


def _api(key, method, path, body=None):
    client = Client(raise_request_exception=False)
    return client.generic(
        method,
        path,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"},
    )


@pytest.mark.parametrize("remark", [f"x{NUL}y", f"x{RLO}y", "x\ud800y"])
def test_api_punch_remark_with_a_forbidden_character_is_422(week, hr_key, remark, clock):
    response = _api(
        hr_key,
        "POST",
        "/api/v1/punches",
        {"employee": week.employee.employee_no, "at": at(MON, 9).isoformat(), "remark": remark},
    )
    assert response.status_code == 422
    assert not Punch.objects.filter(remark__contains="x").exists()


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_api_punch_at_that_overflows_in_utc_is_422(week, hr_key, moment):
    response = _api(
        hr_key,
        "POST",
        "/api/v1/punches",
        {"employee": week.employee.employee_no, "at": moment, "remark": "补录"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "impossible_timestamp"  # the one door's own refusal


# --------------------------------------------------------------------------- dates, integers


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31"])
def test_audit_filter_with_an_impossible_date_says_so(week, value):
    client = _login(week.auditor.user)
    response = client.get(f"/audit/?from={value}&to={value}")
    assert response.status_code == 200
    assert "is not a valid date" in response.content.decode()


def test_batch_approve_with_an_id_beyond_64_bits_is_refused_not_500(week, pending):
    client = _login(week.supervisor.user)
    response = client.post(
        "/requests/inbox/approve/", {"ids": ["99999999999999999999999", str(pending.pk)]}
    )
    # The id that cannot name a row is left out; the real one is approved (its step).
    assert response.status_code == 302
    assert ApprovalAction.objects.filter(
        request=pending, action=ActionKind.APPROVE, actor=week.supervisor.user
    ).exists()


# --------------------------------------------------------------------------- the input guard


def test_a_nul_in_the_path_is_a_clear_400(week):
    response = _login(week.hr.user).get("/attendance/people/%00/")
    assert response.status_code == 400
    assert "path contains a character that is not allowed (U+0000" in response.content.decode()


def test_log_in_with_a_nul_in_the_user_name_is_refused_and_the_password_never_echoed(db):
    secret = "Sekrit-Passw0rd-42"
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/login/", {"username": f"hr{NUL}", "password": secret}
    )
    assert response.status_code == 400  # was a 500 on PostgreSQL (django-axes stores it)
    body = response.content.decode()
    assert "username contains a character that is not allowed" in body
    assert secret not in body


def test_password_fields_are_left_to_the_password_check(week):
    """A password is hashed, never stored or shown: the guard does not judge it."""
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/login/", {"username": "hr", "password": f"wrong{NUL}\u202e"}
    )
    assert response.status_code == 200  # the log-in form again: wrong password


def test_api_query_parameter_with_a_forbidden_character_is_a_json_422(week, hr_key):
    response = _api(hr_key, "GET", "/api/v1/employees?search=a%E2%80%AEb")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_text"
    assert response.json()["details"] == {"field": "search", "position": 2, "character": "U+202E"}


def test_a_lone_surrogate_sent_in_a_form_arrives_as_a_replacement_character(week, pending):
    """Form bodies are decoded with replacement: the invalid bytes become U+FFFD, stored."""
    client = _login(week.employee.user)
    response = client.generic(
        "POST",
        f"/requests/{pending.pk}/comment/",
        b"comment=a%ED%A0%80b",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert ApprovalAction.objects.filter(request=pending, comment__startswith="a\ufffd").exists()


# --------------------------------------------------------------------------- huge bodies


def test_a_form_beyond_the_upload_limit_is_a_400(week, pending, settings):
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    client = _login(week.supervisor.user)
    url = f"/requests/{pending.pk}/reject/"
    assert client.post(url, f"reason={big}", "application/x-www-form-urlencoded").status_code == 400
    assert client.post(url, {"reason": big}).status_code == 400  # multipart
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_a_json_body_beyond_the_upload_limit_is_a_413(week, hr_key, settings):
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = _api(hr_key, "POST", "/api/v1/punches", {"remark": big})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


# --------------------------------------------------------------------------- the admin


def test_an_admin_form_names_the_field_and_keeps_the_rest(week):
    """The admin's text fields get core.text's rule: an error next to the field."""
    from tests.security.test_fuzz_pages import _Page

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _login(root)
    url = f"/admin/org/department/{week.department.pk}/change/"
    page = _Page(url)
    page.feed(client.get(url).content.decode())
    (form,) = [f for f in page.forms if "name" in f.fields]
    data = {k: v for k, v in form.fields.items() if not k.startswith("_")}
    data["name"] = ["研发\u202e部"]
    response = client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "errorlist" in body and "U+202E" in body
    week.department.refresh_from_db()
    assert week.department.name == "研发部"


# --------------------------------------------------------------------------- the API


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("GET", "/api/v1/corrections/quota?period=9999-12", None, "bad_period"),
        ("GET", "/api/v1/attendance/days?from=0001-01-01&to=9999-12-31", None, "bad_range"),
        (
            "POST",
            "/api/v1/corrections/preview",
            {"date": "2026-11-23", "slot": "in1", "requested_time": "9999-12-31T23:59:59-14:00"},
            "bad_date",
        ),
        (
            "POST",
            "/api/v1/corrections",
            {
                "employee": "1002",
                "items": [
                    {
                        "date": "9999-12-31",
                        "slot": "in1",
                        "requested_time": "0001-01-01T00:00:00+14:00",
                        "category": "forgot",
                        "reason": "忘记打卡",
                    }
                ],
            },
            "bad_date",
        ),
    ],
)
def test_api_dates_and_times_outside_the_calendar_are_422(week, hr_key, method, path, body, code):
    """Range-checked by the services every channel shares (the API's schemas only parse)."""
    response = _api(hr_key, method, path, body)
    assert (response.status_code, response.json()["code"]) == (422, code)


def test_every_string_the_api_accepts_is_held_to_the_text_rule():
    """Each string input in the OpenAPI document has an enum, a format, or a pattern that
    refuses NUL and the RTL override — so no field can be added without the rule."""
    import re

    from ztk.api.api import api

    schema = api.get_openapi_schema()
    components = schema.get("components", {}).get("schemas", {})
    loose = []

    def check(node, where):
        if "$ref" in node:
            return check(components[node["$ref"].rsplit("/", 1)[1]], where)
        for key in ("anyOf", "oneOf", "allOf"):
            for index, option in enumerate(node.get(key, [])):
                check(option, f"{where}[{index}]")
        if node.get("type") == "object":
            for name, prop in node.get("properties", {}).items():
                check(prop, f"{where}.{name}")
        if node.get("type") == "array":
            check(node.get("items", {}), f"{where}[]")
        if node.get("type") == "string" and "enum" not in node and "format" not in node:
            pattern = node.get("pattern")
            if pattern is None or any(re.search(pattern, probe) for probe in (NUL, RLO)):
                loose.append(where)

    for url, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                check(parameter["schema"], f"{method} {url} {parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                check(content["schema"], f"{method} {url} body")
    assert loose == []


# --------------------------------------------------------------------------- files and callers


def test_a_correction_import_row_with_a_forbidden_character_is_refused_alone(week):
    from ztk.hrdesk import bulk_import

    rows = [
        ["工号", "日期", "卡点", "时间", "原因"],
        ["1002", "2026-11-23", "in1", "08:58", f"忘记{RLO}打卡"],
        ["1003", "2026-11-23", "in1", "08:59", "忘记打卡"],
    ]
    data = "\n".join(",".join(r) for r in rows).encode()
    preview = bulk_import.import_preview(actor=week.hr.user, data=data, filename="x.csv")
    by_line = {r.line: (r.status, r.code) for r in preview.rows}
    assert by_line[2] == (bulk_import.REFUSED, "invalid_text")
    assert by_line[3][1] != "invalid_text"


def test_a_punch_import_row_with_a_nul_is_refused_alone(week):
    from ztk.devices.imports import punches_import

    data = (
        "employee_no,time,remark\n"
        f"1002{NUL},2026-11-23 09:00:00,\n"
        f"1003,2026-11-23 09:01:00,ok{NUL}\n"
        "1003,2026-11-23 18:01:00,ok\n"
    ).encode()
    report = punches_import(actor=week.hr.user, data=data, filename="p.csv")
    assert report.new == 1
    assert [code for _line, code, _m in report.refused] == ["invalid_text", "invalid_text"]


def test_record_punches_refuses_the_bad_item_and_keeps_the_batch(week):
    from ztk.punches.services import PunchInput, record_punches

    result = record_punches(
        [
            PunchInput(at=at(MON, 9), source="import", employee_no="1003", remark=f"x{NUL}"),
            PunchInput(at=at(MON, 9, 1), source="import", employee_no=f"10{NUL}3"),
            PunchInput(at=at(MON, 9, 2), source="import", employee_no="1003"),
        ]
    )
    assert result.new == 1
    assert [(r.index, r.code) for r in result.rejected] == [
        (0, "invalid_text"),
        (1, "invalid_text"),
    ]


def test_an_api_key_name_from_the_command_line_is_held_to_the_rule(week):
    from ztk.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        api_key_create(actor=week.hr.user, user=week.hr.user, name="ci\x1b[2J")
    assert refused.value.code == "invalid_text"


def test_the_admin_page_to_add_a_group_robot_opens(week):
    """It listed a field its form drops for a robot without a secret: a 500 (KeyError)."""
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert _login(root).get("/admin/notifications/robotwebhook/add/").status_code == 200


def test_the_refusal_page_leads_back_to_the_form_it_came_from(week, pending):
    client = _login(week.hr.user)
    page = f"/requests/{pending.pk}/"
    response = client.post(
        f"/requests/{pending.pk}/withdraw/",  # not a text-checked view: the guard answers
        {"note": f"x{NUL}"},
        headers={"Referer": f"http://testserver{page}"},
    )
    assert response.status_code == 400
    assert f'href="{page}"' in response.content.decode()
    response = client.post(
        f"/requests/{pending.pk}/withdraw/",
        {"note": f"x{NUL}"},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert 'href="/"' in response.content.decode()
