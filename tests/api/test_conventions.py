"""One API convention, checked over the OpenAPI schema, so a new endpoint cannot drift.

- Every list answers the same envelope `{items, count, next}` and takes `offset` and
  `limit` (ztk/api/pagination.py): before, corrections answered a bare array with
  offset/limit and no total, `/attendance/days`, `/punches` and `/devices` a bare array
  without paging, and employees, departments and notifications a page with offset/limit.
- Every date range (`from`, `to`) documents its maximum and refuses a longer one with 422
  `range_too_long`.
- Every parameter shared by several operations has one format: `period` is YYYY-MM
  everywhere (it was a date in `/corrections/quota`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta

import pytest

from ztk.api.api import api
from ztk.api.pagination import MAX_LIMIT
from ztk.attendance.selectors import MAX_RANGE_DAYS

from .conftest import call

ENVELOPE = {"items", "count", "next"}
FORMAT_KEYS = ("type", "format", "pattern")


@pytest.fixture(scope="module")
def schema() -> dict:
    return api.get_openapi_schema(path_prefix="")


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations(schema: dict):
    for url, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {url}", operation


def _ok_json(schema: dict, operation: dict) -> dict | None:
    ok = operation["responses"].get("200", {})
    body = ok.get("content", {}).get("application/json", {}).get("schema")
    return _resolve(schema, body) if body else None


def _params(operation: dict) -> dict[str, dict]:
    return {p["name"]: p for p in operation.get("parameters", [])}


def _format(schema: dict, node: dict) -> tuple:
    node = _resolve(schema, node)
    if "anyOf" in node:  # optional: X | None
        kinds = [_resolve(schema, n) for n in node["anyOf"] if n.get("type") != "null"]
        node = kinds[0] if len(kinds) == 1 else node
    return tuple(str(node.get(key)) for key in FORMAT_KEYS)


def test_no_list_answers_a_bare_array(schema):
    bare = [
        name
        for name, operation in _operations(schema)
        if name.startswith("GET ") and (_ok_json(schema, operation) or {}).get("type") == "array"
    ]
    assert bare == []


def test_every_list_answers_items_count_next_and_takes_offset_and_limit(schema):
    lists = 0
    for name, operation in _operations(schema):
        body = _ok_json(schema, operation)
        params = _params(operation)
        if body is None or not ({"items"} & set(body.get("properties", {})) or "limit" in params):
            continue
        lists += 1
        properties = body["properties"]
        assert set(properties) >= ENVELOPE, name
        assert set(body.get("required", [])) >= ENVELOPE, name
        assert _resolve(schema, properties["items"])["type"] == "array", name
        assert properties["count"]["type"] == "integer", name
        assert {"offset", "limit"} <= set(params), name
        assert not {"offset", "limit"} & set(properties), f"{name}: paging echoed in the body"
        assert params["limit"]["schema"]["maximum"] <= MAX_LIMIT, name
    assert lists >= 7  # employees, departments, days, punches, devices, corrections, notices


def test_every_date_range_documents_its_maximum(schema):
    ranges = 0
    for name, operation in _operations(schema):
        params = _params(operation)
        if not {"from", "to"} <= set(params):
            continue
        ranges += 1
        # The day APIs allow MAX_RANGE_DAYS; analytics, years: each says its own maximum.
        assert re.search(r"at most \d+ days", params["to"]["description"]), name
        assert "range_too_long" in params["to"]["description"], name
        assert "422" in operation["responses"], name
    assert ranges >= 2


def test_shared_parameters_have_one_format(schema):
    formats: dict[str, dict[tuple, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, operation in _operations(schema):
        for param in operation.get("parameters", []):
            formats[param["name"]][_format(schema, param["schema"])].append(name)
    differing = {param: dict(seen) for param, seen in formats.items() if len(seen) > 1}
    assert differing == {}


def test_period_is_a_month_everywhere(schema):
    periods = [
        (name, param)
        for name, operation in _operations(schema)
        for param in operation.get("parameters", [])
        if param["name"] == "period"
    ]
    assert len(periods) >= 2
    for name, param in periods:
        assert _format(schema, param["schema"])[2] == r"^\d{4}-\d{2}$", name
        assert param["description"].startswith("YYYY-MM"), name


# --------------------------------------------------------------------------- behaviour

DAY = date(2026, 11, 2)


@pytest.mark.parametrize("path", ["/api/v1/attendance/days", "/api/v1/punches"])
def test_a_range_beyond_the_maximum_is_refused_clearly(client, keys, path):
    too_far = DAY + timedelta(days=MAX_RANGE_DAYS)
    longest = too_far - timedelta(days=1)

    refused = call(client, "GET", f"{path}?from={DAY}&to={too_far}", key=keys["hr"])
    allowed = call(client, "GET", f"{path}?from={DAY}&to={longest}", key=keys["hr"])

    assert refused.status == 422
    assert refused.body["code"] == "range_too_long"
    assert allowed.status == 200


def test_next_leads_to_the_following_page_until_the_last(client, keys, org):
    seen = []
    url = "/api/v1/employees?limit=2&active=true"
    while url:
        page = call(client, "GET", url, key=keys["hr"]).body
        seen += [e["employee_no"] for e in page["items"]]
        url = page["next"]
    everyone = call(client, "GET", "/api/v1/employees?limit=1000&active=true", key=keys["hr"])
    assert seen == [e["employee_no"] for e in everyone.body["items"]]
    assert everyone.body["next"] is None
    assert len(seen) == everyone.body["count"] > 2


def test_the_quota_period_is_a_month_and_the_old_day_form_still_works(client, keys, org):
    month = call(client, "GET", "/api/v1/corrections/quota?period=2026-10", key=keys["employee"])
    day = call(client, "GET", "/api/v1/corrections/quota?period=2026-10-15", key=keys["employee"])
    bad = call(client, "GET", "/api/v1/corrections/quota?period=2026-10-45", key=keys["employee"])

    assert month.status == 200, month.body
    assert month.body == day.body
    assert month.body["period_start"] == "2026-10-01"
    assert bad.status == 422
