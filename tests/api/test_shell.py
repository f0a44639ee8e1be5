"""The API shell: docs without CDN, the OpenAPI schema, authentication, the error envelope."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from ztk.api import errors
from ztk.api.api import api

from .conftest import call

# --- docs and schema ------------------------------------------------------------------------


def test_docs_page_loads_swagger_from_the_bundled_copy_not_a_cdn(client):
    # given / when
    page = client.get("/api/v1/docs")

    # then: no absolute or protocol-relative URL anywhere in the page
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "/api/v1/openapi.json" in html
    # and every referenced asset is served
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(a.split("?")[0].endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert b"".join(response.streaming_content), asset


def test_docs_asset_outside_the_whitelist_is_a_json_404(client):
    response = client.get("/api/v1/docs/assets/..%2F__init__.py")
    assert response.status_code == 404
    assert response.json()["code"] == errors.NOT_FOUND


def test_openapi_schema_declares_ids_summaries_and_error_envelope(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    assert "ErrorOut" in schema["components"]["schemas"]
    operation_ids = []
    for url, operations in schema["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {url}"
            assert operation.get("operationId"), label
            assert operation.get("summary"), label
            operation_ids.append(operation["operationId"])
            for status in ("401", "403", "422", "500"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, label
            if "{" in url:
                assert "404" in operation["responses"], label
            if method in {"put", "post", "patch", "delete"}:
                assert "503" in operation["responses"], label
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"


def test_security_schemes_are_bearer_and_session(client):
    schemes = client.get("/api/v1/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["BearerKey"]["description"],
    }
    assert schemes["ActiveSessionAuth"]["in"] == "cookie"


def test_schema_and_docs_need_no_login(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


# --- /me ------------------------------------------------------------------------------------


def test_me_returns_the_callers_profile_and_roles(client, org, keys):
    reply = call(client, "GET", "/api/v1/me", key=keys["supervisor"])

    assert reply.status == 200
    assert reply.body == {
        "username": "manager",
        "employee_no": "1001",
        "name": "李主管",
        "department": "RD",
        "department_name": "研发部",
        "supervisor": "1000",
        "attendance_group": "STD",
        "hire_date": "2024-01-01",
        "roles": ["employee", "supervisor"],
    }


@pytest.mark.parametrize(
    ("role", "roles"),
    [
        ("employee", ["employee"]),
        ("department_head", ["employee", "supervisor", "department_head"]),
        ("hr", ["employee", "hr"]),
        ("auditor", ["employee", "auditor"]),
        ("sysadmin", ["sysadmin"]),
    ],
)
def test_me_roles(client, keys, role, roles):
    assert call(client, "GET", "/api/v1/me", key=keys[role]).body["roles"] == roles


def test_me_for_an_account_without_employee(client, keys):
    body = call(client, "GET", "/api/v1/me", key=keys["sysadmin"]).body
    assert body["username"] == "sysadmin"
    assert body["employee_no"] is None
    assert body["department"] is None


def test_me_is_a_constant_number_of_queries(client, keys, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        assert call(client, "GET", "/api/v1/me", key=keys["department_head"]).status == 200


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, errors.UNAUTHORIZED),
        ("Bearer ztk_unknown", errors.INVALID_API_KEY),
        ("Bearer not-even-a-key", errors.INVALID_API_KEY),
        ("Bearer ", errors.INVALID_API_KEY),
        ("Basic aHI6aHI=", errors.UNAUTHORIZED),
    ],
)
def test_missing_or_bad_credentials_are_401_json(client, org, authorization, code):
    headers = {"Authorization": authorization} if authorization else {}
    reply = call(client, "GET", "/api/v1/me", headers=headers)

    assert reply.status == 401
    assert reply.body["code"] == code
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_refused_key_does_not_fall_back_to_the_session(client, org):
    client.force_login(org.hr.user)

    reply = call(client, "GET", "/api/v1/me", key="ztk_revoked_or_unknown")

    assert reply.status == 401
    assert reply.body["code"] == errors.INVALID_API_KEY


def test_a_key_of_a_deactivated_user_is_refused(client, org, keys):
    org.employee.user.is_active = False
    org.employee.user.save(update_fields=["is_active"])

    reply = call(client, "GET", "/api/v1/me", key=keys["employee"])

    assert reply.status == 401
    assert reply.body["code"] == errors.INVALID_API_KEY


def test_session_authentication_reads_without_csrf(org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.hr.user)

    reply = call(browser, "GET", "/api/v1/employees/1002")

    assert reply.status == 200


def test_session_write_needs_the_csrf_token(org):
    # given a logged-in HR browser session that enforces CSRF like a real browser
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.hr.user)
    body = {"name": "张三", "department": "RD", "supervisor": "1001", "attendance_group": "STD"}

    # when it writes without the token, then it is refused
    refused = call(browser, "PUT", "/api/v1/employees/1002", body=body)
    assert refused.status == 403
    assert refused.body["code"] == errors.CSRF_FAILED

    # when it sends the csrftoken cookie and the matching header, then it passes
    token = "a" * 32
    browser.cookies["csrftoken"] = token
    accepted = call(
        browser, "PUT", "/api/v1/employees/1002", body=body, headers={"X-CSRFToken": token}
    )
    assert accepted.status == 200


def test_a_key_needs_no_csrf_token(org, keys):
    browser = Client(enforce_csrf_checks=True)
    body = {"name": "新员工"}

    reply = call(browser, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=body)

    assert reply.status == 201


def test_anonymous_write_is_401_not_a_csrf_error(org):
    browser = Client(enforce_csrf_checks=True)

    reply = call(browser, "PUT", "/api/v1/employees/7001", body={"name": "x"})

    assert reply.status == 401
    assert reply.body["code"] == errors.UNAUTHORIZED


# --- the error envelope ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/no-such-thing", 404, errors.NOT_FOUND),
        ("POST", "/api/v1/no-such-thing", 404, errors.NOT_FOUND),
        ("GET", "/api/v1/", 404, errors.NOT_FOUND),
        ("GET", "/api/v1/me/", 404, errors.NOT_FOUND),
        ("GET", "/api/v1/employees/9999", 404, errors.NOT_FOUND),
        ("GET", "/api/v1/departments/NOPE", 404, errors.NOT_FOUND),
        ("DELETE", "/api/v1/employees/1002", 405, errors.METHOD_NOT_ALLOWED),
        ("DELETE", "/api/v1/departments/RD", 405, errors.METHOD_NOT_ALLOWED),
        ("POST", "/api/v1/employees", 405, errors.METHOD_NOT_ALLOWED),
        ("PATCH", "/api/v1/me", 405, errors.METHOD_NOT_ALLOWED),
        ("GET", "/api/v1/employees?limit=0", 422, errors.VALIDATION_ERROR),
        ("GET", "/api/v1/employees/not-a-number!", 422, errors.VALIDATION_ERROR),
    ],
)
def test_errors_are_json_envelopes(client, keys, method, path, status, code):
    reply = call(client, method, path, key=keys["hr"])

    assert reply.status == status
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.body["code"] == code
    assert reply.body["message"]
    assert set(reply.body) <= {"code", "message", "details"}


def test_405_says_which_methods_are_allowed(client, keys):
    reply = call(client, "DELETE", "/api/v1/employees/1002", key=keys["hr"])
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) == {"GET", "PUT"}


@pytest.mark.parametrize("body", ["{not json", "name=x", "[1, 2]"])
def test_a_malformed_body_is_a_json_error(client, keys, body):
    reply = call(client, "PUT", "/api/v1/employees/1002", key=keys["hr"], body=body)

    assert reply.status in (400, 422)
    assert reply.body["code"] in (errors.BAD_REQUEST, errors.VALIDATION_ERROR)


def test_validation_errors_list_the_fields(client, keys):
    reply = call(
        client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body={"name": "", "active": 3}
    )

    assert reply.status == 422
    locations = {tuple(d["loc"]) for d in reply.body["details"]}
    assert ("body", "payload", "name") in locations
    assert ("body", "payload", "active") in locations


def test_nul_characters_are_refused_before_the_database(client, keys):
    reply = call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body={"name": "a\x00b"})
    assert reply.status == 422
    assert reply.body["code"] == errors.VALIDATION_ERROR

    listed = call(client, "GET", "/api/v1/employees?search=%00", key=keys["hr"])
    assert listed.status == 422


def test_an_unexpected_exception_is_a_json_500(org, keys, monkeypatch):
    from ztk.org import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "employee_list", broken)
    browser = Client(raise_request_exception=False)

    reply = call(browser, "GET", "/api/v1/employees", key=keys["hr"], lang="zh-hans")

    assert reply.status == 500
    assert reply.body == {
        "code": errors.SERVER_ERROR,
        "message": "发生意外错误，已记录日志，请稍后重试。",
    }


def test_maintenance_mode_refuses_writes_with_json_503(client, keys, settings):
    settings.MAINTENANCE_MODE = True

    reply = call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body={"name": "x"})

    assert reply.status == 503
    assert reply.body["code"] == errors.MAINTENANCE
    assert call(client, "GET", "/api/v1/me", key=keys["hr"]).status == 200


# --- Django-level errors (ztk.api.middleware.ApiJsonErrorsMiddleware) -----------------------

MIDDLEWARE = "ztk.api.middleware.ApiJsonErrorsMiddleware"


@pytest.fixture
def json_errors_middleware(settings):
    """The middleware first in the stack, as settings.MIDDLEWARE should have it."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [MIDDLEWARE, *settings.MIDDLEWARE]


@pytest.mark.parametrize("path", ["/api/", "/api", "/api/v2/employees", "/api/v1x/me"])
def test_paths_under_api_outside_v1_are_json_404(client, json_errors_middleware, path):
    reply = call(client, "GET", path, lang="zh-hans")

    assert reply.status == 404
    assert reply.body == {"code": errors.NOT_FOUND, "message": "未找到。"}


def test_a_bad_host_is_a_json_400(client, json_errors_middleware):
    reply = call(client, "GET", "/api/v1/me", headers={"Host": "evil.example"})

    assert reply.status == 400
    assert reply.body["code"] == errors.BAD_REQUEST


def test_an_oversized_body_is_a_json_413(client, keys, settings, json_errors_middleware):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    reply = call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body={"name": "x" * 200})

    assert reply.status == 413
    assert reply.body["code"] == errors.TOO_LARGE


def test_pages_outside_api_keep_their_html_errors(client, json_errors_middleware):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response.get("Content-Type", "").startswith("application/json")


def test_error_response_survives_a_request_without_language():
    from django.test import RequestFactory

    request = RequestFactory().get("/api/v1/x")
    request.user = AnonymousUser()
    response = errors.error_response(request, 418)
    assert response.status_code == 418
    assert response.content


# --- language -------------------------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")

LANGUAGE_CASES = {
    # case: (method, path, role, body, code, start of the English message)
    "anonymous": ("GET", "/api/v1/me", None, None, errors.UNAUTHORIZED, "Authentication is"),
    "revoked": ("GET", "/api/v1/me", "revoked", None, errors.INVALID_API_KEY, "The API key"),
    "forbidden": ("GET", "/api/v1/employees", "employee", None, "permission_denied", "You do"),
    "unknown_path": ("GET", "/api/v1/nope", "hr", None, errors.NOT_FOUND, "Not found."),
    "wrong_method": ("DELETE", "/api/v1/me", "hr", None, errors.METHOD_NOT_ALLOWED, "This method"),
    "invalid": ("GET", "/api/v1/employees?limit=-1", "hr", None, "validation_error", "The request"),
    "unknown_department": (
        "PUT",
        "/api/v1/employees/7001",
        "hr",
        {"name": "x", "department": "NOPE"},
        "unknown_department",
        "Department “NOPE” does not exist.",
    ),
    "cycle": (
        "PUT",
        "/api/v1/employees/1002",
        "hr",
        {"name": "x", "supervisor": "1002"},
        "supervisor_cycle",
        "An employee cannot supervise themselves.",
    ),
}


@pytest.mark.parametrize("case", LANGUAGE_CASES)
def test_error_messages_follow_accept_language(client, keys, case):
    method, path, role, body, code, english_start = LANGUAGE_CASES[case]
    key = keys[role] if role else None

    english = call(client, method, path, key=key, body=body, lang="en")
    chinese = call(client, method, path, key=key, body=body, lang="zh-hans")

    assert english.body["code"] == chinese.body["code"] == code
    assert english.body["message"].startswith(english_start)
    assert not CJK.search(english.body["message"])
    assert CJK.search(chinese.body["message"]), chinese.body["message"]
    if "NOPE" in english.body["message"]:
        assert "NOPE" in chinese.body["message"]


def test_envelope_messages_are_translated_exactly(client, keys):
    from django.utils import translation

    reply = call(client, "GET", "/api/v1/nope", key=keys["hr"], lang="zh-hans")

    with translation.override("zh-hans"):
        assert reply.body["message"] == str(errors.MESSAGES[errors.NOT_FOUND])
    assert reply.body["message"] != "Not found."


def test_every_envelope_message_has_a_chinese_translation():
    from django.utils import translation

    for code, message in errors.MESSAGES.items():
        with translation.override("zh-hans"):
            assert CJK.search(str(message)), code


def test_chinese_is_the_default_language(client, org):
    response = client.get("/api/v1/me")
    assert response.json()["message"].startswith("需要身份认证")


def test_the_api_object_is_the_one_mounted_at_api_v1():
    assert api.urls_namespace == "api"
