"""Schema fuzzing of the notifications operations (as tests/api/test_fuzz.py does for the
project's API, which covers these too once ztk/api/routers.py mounts the router)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.db import transaction
from ninja.responses import NinjaJSONEncoder

from tests.api.test_fuzz import CHECKS, CONFIG, server_errors, statuses, wsgi_app  # noqa: F401
from ztk.accounts.services import api_key_create
from ztk.notifications.services import notify

from .urls import test_api

pytestmark = pytest.mark.urls("tests.notifications.urls")

raw = json.loads(
    json.dumps(test_api.get_openapi_schema(path_prefix="/api/v1"), cls=NinjaJSONEncoder)
)
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
