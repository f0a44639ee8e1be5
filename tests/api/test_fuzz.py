"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis 4).

Every operation the schema lists — including the ones later issues add — is exercised
with generated valid and invalid requests, authenticated as HR with an API key, through
Django's real WSGI stack. Each response must not be a 5xx and must conform to the schema:
a documented status, the documented content type, a body matching the documented
schema (so every error is the `{code, message, details?}` envelope).

Deterministic (fixed seed, derandomized, no example database) and bounded
(`MAX_EXAMPLES` per operation and phase) so it stays well under a minute.
"""

from __future__ import annotations

import json
import sys

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from ninja.responses import NinjaJSONEncoder
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ztk.api.api import api

MAX_EXAMPLES = 30

# Operation label -> the reported bug that makes it fail. Remove the entry with the fix.
FUZZ_KNOWN_FAILURES: dict[str, str] = {}

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240101,
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",  # valid and invalid requests
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # We authenticate every request ourselves; random credentials would only
            # turn the run into a test of the 401 path.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
    }
)


def _load_schema() -> schemathesis.BaseSchema:
    """The schema exactly as /api/v1/openapi.json serves it (see test_openapi_is_served)."""
    raw = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    return schemathesis.openapi.from_dict(raw, config=CONFIG)


schema = _load_schema()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, sharing the test's transaction.

    The WSGI handler closes "old" database connections at the start and end of every
    request, which would close the test transaction's connection on PostgreSQL; Django's
    own test client disconnects that handler for the same reason.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def server_errors():
    """Exceptions Django reports while handling a request, to fail with their traceback."""
    caught: list = []

    def receiver(sender, **kwargs):
        caught.append(sys.exc_info())

    signals.got_request_exception.connect(receiver, weak=False)
    try:
        yield caught
    finally:
        signals.got_request_exception.disconnect(receiver)


@pytest.fixture
def statuses():
    """Every status seen for one operation; at least one must be past authentication."""
    seen: list[int] = []
    yield seen
    assert seen, "the fuzzer sent no request"
    assert set(seen) != {401}, "every request was refused as unauthenticated: the key is ignored"


@schema.parametrize()
def test_api_conforms_to_its_schema(case, org, hr_key, wsgi_app, server_errors, statuses):
    response = case.call(app=wsgi_app, headers={"Authorization": f"Bearer {hr_key}"})
    if server_errors:
        _type, exc, tb = server_errors.pop()
        raise exc.with_traceback(tb)
    statuses.append(response.status_code)
    case.validate_response(response, checks=CHECKS)


def test_openapi_is_served(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


def test_every_operation_is_fuzzed():
    """The fuzz run covers every operation of the schema, whichever router adds it."""
    listed = {
        (method.upper(), url)
        for url, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
    }
    fuzzed = {
        (op.ok().method.upper(), op.ok().path)
        for op in schema.get_all_operations()
        if hasattr(op, "ok")
    }
    assert listed == fuzzed
