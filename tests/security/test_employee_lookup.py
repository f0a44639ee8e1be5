"""Probing employee numbers tells nobody who works here: unknown and "not yours" look alike.

Every API operation and page that takes an employee number goes through one look-up,
`ztk.org.selectors.employee_for`, which answers 404 for a number nobody has and for a
person the caller may not see. Before, the API answered 403 for a real colleague and 404
for a made-up number (and pages did the same for supervisors and department heads).

The operations are found, not listed: every API operation whose schema has an `employee`
or `employee_no` parameter or body field, and every URL pattern with an `employee_no`
argument, must have a request here (the first two tests say so when a new one appears).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.api.conftest import call
from ztk.api.api import api

V1 = "/api/v1"
UNKNOWN = "9999"
DAY = "2026-11-24"
RANGE = "from=2026-11-23&to=2026-11-27"
ITEM = {
    "date": DAY,
    "slot": "in1",
    "requested_time": f"{DAY}T08:58:00+08:00",
    "category": "forgot",
    "reason": "早上忘记打卡了",
}

# Whom each signed-in role may not see (nor file for), by employee number.
NOT_THEIRS = {
    "employee": "1003",  # a colleague in the same team
    "manager": "2001",  # someone in another department
    "head": "2001",
    "auditor": "1002",
}


@dataclass(frozen=True)
class Probe:
    method: str
    path: Callable[[str], str]
    body: Callable[[str], Any] | None = None
    viewer: bool = True  # any signed-in user may ask (for themselves): the answer is 404


API_PROBES: dict[str, Probe] = {
    "GET /attendance/days": Probe("GET", lambda no: f"{V1}/attendance/days?employee={no}&{RANGE}"),
    "GET /punches": Probe("GET", lambda no: f"{V1}/punches?employee={no}&{RANGE}"),
    "POST /corrections": Probe(
        "POST", lambda no: f"{V1}/corrections", lambda no: {"employee": no, "items": [ITEM]}
    ),
    "POST /corrections/multipart": Probe(
        "POST",
        lambda no: f"{V1}/corrections/multipart",
        lambda no: {"payload": json.dumps({"employee": no, "items": [ITEM]})},
    ),
    "POST /corrections/preview": Probe(
        "POST",
        lambda no: f"{V1}/corrections/preview",
        lambda no: {"employee": no, **{k: ITEM[k] for k in ("date", "slot", "requested_time")}},
    ),
    "GET /corrections/quota": Probe("GET", lambda no: f"{V1}/corrections/quota?employee={no}"),
    "GET /corrections/slot-checks": Probe(
        "GET",
        lambda no: f"{V1}/corrections/slot-checks?employee={no}&from=2026-11-23&to=2026-11-23",
    ),
    # Open to some roles only: the others are refused alike, before any look-up.
    "GET /corrections": Probe("GET", lambda no: f"{V1}/corrections?employee={no}", viewer=False),
    "GET /overtime": Probe("GET", lambda no: f"{V1}/overtime?employee={no}", viewer=False),
    "POST /overtime": Probe(
        "POST",
        lambda no: f"{V1}/overtime",
        lambda no: {
            "employee": no,
            "start": f"{DAY}T18:30:00+08:00",
            "end": f"{DAY}T20:30:00+08:00",
            "reason": "上线加班",
        },
    ),
    "GET /absences": Probe("GET", lambda no: f"{V1}/absences?employee={no}", viewer=False),
    "POST /absences": Probe(
        "POST",
        lambda no: f"{V1}/absences",
        lambda no: {
            "employee": no,
            "kind": "leave",
            "type": "personal",
            "start_date": DAY,
            "end_date": DAY,
            "reason": "家中有事",
        },
    ),
    "GET /balances": Probe("GET", lambda no: f"{V1}/balances?employee={no}"),
    "GET /employees/{employee_no}": Probe("GET", lambda no: f"{V1}/employees/{no}", viewer=False),
    "PUT /employees/{employee_no}": Probe(
        "PUT", lambda no: f"{V1}/employees/{no}", lambda no: {"name": "某人"}, viewer=False
    ),
    "POST /punches": Probe(
        "POST",
        lambda no: f"{V1}/punches",
        lambda no: {"employee": no, "at": f"{DAY}T09:00:00+08:00", "remark": "补录"},
        viewer=False,
    ),
}

PAGE_PROBES: dict[str, Probe] = {
    "attendance:employee_month": Probe(
        "GET", lambda no: reverse("attendance:employee_month", args=[no])
    ),
    "attendance:employee_day": Probe(
        "GET", lambda no: reverse("attendance:employee_day", args=[no, DAY])
    ),
    "reports:sheet": Probe("GET", lambda no: reverse("reports:sheet", args=[no])),
    "web:employee_profile": Probe("GET", lambda no: reverse("web:employee_profile", args=[no])),
    "requests:new": Probe("GET", lambda no: f"{reverse('requests:new')}?employee={no}&day={DAY}"),
    "requests:new POST": Probe(
        "POST",
        lambda no: reverse("requests:new"),
        lambda no: {"employee": no, "day": DAY, "slot": "in1", "time_in1": "08:58"},
    ),
    "requests:preview": Probe(
        "POST", lambda no: reverse("requests:preview"), lambda no: {"employee": no, "day": DAY}
    ),
    # HR pages: everyone else is refused alike before any look-up.
    "manual:index": Probe(
        "GET", lambda no: f"{reverse('manual:index')}?employee={no}", viewer=False
    ),
    "hrdesk:paper_new": Probe(
        "GET", lambda no: f"{reverse('hrdesk:paper_new')}?employee={no}", viewer=False
    ),
    "hrdesk:paper_slots": Probe(
        "GET", lambda no: f"{reverse('hrdesk:paper_slots')}?employee={no}&day={DAY}", viewer=False
    ),
    "devices:assign": Probe(
        "POST", lambda no: reverse("devices:assign"), lambda no: {"employee_no": no}, viewer=False
    ),
}


def _api_operations_taking_an_employee() -> set[str]:
    schema = api.get_openapi_schema(path_prefix="")
    found = set()
    for url, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            for content in operation.get("requestBody", {}).get("content", {}).values():
                body = content.get("schema", {})
                if "$ref" in body:
                    body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
                names |= set(body.get("properties", {}))
            if names & {"employee", "employee_no"}:
                found.add(f"{method.upper()} {url}")
    return found


def _patterns(resolver: URLResolver, namespace: str = ""):
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            inner = f"{namespace}{item.namespace}:" if item.namespace else namespace
            yield from _patterns(item, inner)
        elif isinstance(item, URLPattern):
            yield f"{namespace}{item.name}", item


def test_every_api_operation_taking_an_employee_is_probed():
    assert _api_operations_taking_an_employee() <= set(API_PROBES)


def test_every_page_with_an_employee_number_in_its_path_is_probed():
    with_number = {
        name
        for name, pattern in _patterns(get_resolver())
        if "employee_no" in pattern.pattern.converters and not name.startswith("api:")
    }
    assert with_number and with_number <= set(PAGE_PROBES)


def _api(client: Client, probe: Probe, number: str):
    if probe.path(number).endswith("/multipart"):
        response = client.post(probe.path(number), probe.body(number), HTTP_ACCEPT_LANGUAGE="en")
        return response.status_code, response.json().get("code")
    body = probe.body(number) if probe.body else None
    reply = call(client, probe.method, probe.path(number), body=body)
    code = reply.body.get("code") if isinstance(reply.body, dict) else None
    return reply.status, code


def _page(client: Client, probe: Probe, number: str):
    if probe.method == "POST":
        response = client.post(probe.path(number), probe.body(number))
    else:
        response = client.get(probe.path(number))
    return response.status_code, None


@pytest.fixture
def signed_in(client, org):
    def sign_in(username: str) -> Client:
        user = {
            "employee": org.employee.user,
            "manager": org.supervisor.user,
            "head": org.head.user,
            "auditor": org.auditor.user,
        }[username]
        client.force_login(user)
        return client

    return sign_in


@pytest.mark.parametrize("role", sorted(NOT_THEIRS))
@pytest.mark.parametrize("operation", sorted(API_PROBES))
def test_api_answers_unknown_and_not_yours_alike(signed_in, role, operation):
    client = signed_in(role)
    probe = API_PROBES[operation]

    unknown = _api(client, probe, UNKNOWN)
    not_theirs = _api(client, probe, NOT_THEIRS[role])

    assert unknown == not_theirs
    if probe.viewer:
        assert unknown == (404, "not_found")


@pytest.mark.parametrize("role", sorted(NOT_THEIRS))
@pytest.mark.parametrize("page", sorted(PAGE_PROBES))
def test_pages_answer_unknown_and_not_yours_alike(signed_in, role, page):
    client = signed_in(role)
    probe = PAGE_PROBES[page]

    unknown = _page(client, probe, UNKNOWN)
    not_theirs = _page(client, probe, NOT_THEIRS[role])

    assert unknown == not_theirs
    if probe.viewer:
        assert unknown[0] == 404


def test_the_people_one_may_see_are_still_found(signed_in, org):
    # The supervisor sees a report's month and days; the API gives their days.
    client = signed_in("manager")

    assert client.get(reverse("attendance:employee_month", args=["1002"])).status_code == 200
    assert call(client, "GET", f"{V1}/attendance/days?employee=1002&{RANGE}").status == 200
    assert client.get(reverse("reports:sheet", args=["1001"])).status_code == 200  # own sheet
