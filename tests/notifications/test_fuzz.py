"""Schema fuzzing of the notifications operations of the project's API, with an employee's
key and a notification in the inbox (tests/api/test_fuzz.py fuzzes every operation)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.db import transaction
from ninja.responses import NinjaJSONEncoder

from tests.api.test_fuzz import CHECKS, CONFIG, server_errors, statuses, wsgi_app  # noqa: F401
from ztk.accounts.services import api_key_create
from ztk.api.api import api
from ztk.notifications.services import notify

raw = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1"), cls=NinjaJSONEncoder))
raw["paths"] = {url: ops for url, ops in raw["paths"].items() if "/notifications" in url}
schema = schemathesis.openapi.from_dict(raw, config=CONFIG)


@pytest.fixture
def employee_key(org):
    with transaction.atomic():
        notify(kind="x", recipients=[org.employee.user], title="t", body="b")
    _key, raw_key = api_key_create(actor=None, user=org.employee.user, name="fuzz")
    return raw_key


@schema.parametrize()
def test_notifications_api_conforms_to_its_schema(
    case,
    employee_key,
    wsgi_app,  # noqa: F811
    server_errors,  # noqa: F811
    statuses,  # noqa: F811
):
    response = case.call(app=wsgi_app, headers={"Authorization": f"Bearer {employee_key}"})
    if server_errors:
        _type, exc, tb = server_errors.pop()
        raise exc.with_traceback(tb)
    statuses.append(response.status_code)
    case.validate_response(response, checks=CHECKS)


def test_both_operations_are_fuzzed():
    assert {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()} == {
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/notifications/read"),
    }
