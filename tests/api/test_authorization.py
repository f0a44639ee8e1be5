"""Who may call what: every endpoint × every kind of caller, as one table.

A new endpoint must get a row here (test_every_operation_has_a_row says so); a row
gives the request and the expected status for each role of tests/api/conftest.py:
anonymous, employee, supervisor, department head, HR, system admin, auditor, and a
revoked key.
"""

from __future__ import annotations

import warnings

import pytest

from ztk.api.api import api

from .conftest import ROLES, call

EMPLOYEE_BODY = {
    "name": "李四",
    "department": "RD",
    "supervisor": "1001",
    "attendance_group": "STD",
    "hire_date": "2024-01-01",
}
DEPARTMENT_BODY = {"name": "研发部", "head": "1000"}


def statuses(*, ok: int, refused: int = 403, anonymous: int = 401) -> dict[str, int]:
    """HR and system admin get `ok`; everyone else authenticated gets `refused`."""
    return {
        "anonymous": anonymous,
        "revoked": anonymous,
        "employee": refused,
        "supervisor": refused,
        "department_head": refused,
        "auditor": refused,
        "hr": ok,
        "sysadmin": ok,
    }


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


# "METHOD /schema/path": (request path, body, {role: expected status})
MATRIX: dict[str, tuple[str, dict | None, dict[str, int]]] = {
    "GET /api/v1/me": ("/api/v1/me", None, {**everyone(200), "anonymous": 401, "revoked": 401}),
    "GET /api/v1/employees": ("/api/v1/employees", None, statuses(ok=200)),
    "GET /api/v1/employees/{employee_no}": ("/api/v1/employees/1003", None, statuses(ok=200)),
    "PUT /api/v1/employees/{employee_no}": (
        "/api/v1/employees/1003",
        EMPLOYEE_BODY,
        statuses(ok=200),
    ),
    "DELETE /api/v1/employees/{employee_no}": ("/api/v1/employees/1003", None, everyone(405)),
    "GET /api/v1/departments": ("/api/v1/departments", None, statuses(ok=200)),
    "GET /api/v1/departments/{code}": ("/api/v1/departments/RD", None, statuses(ok=200)),
    "PUT /api/v1/departments/{code}": ("/api/v1/departments/RD", DEPARTMENT_BODY, statuses(ok=200)),
    "DELETE /api/v1/departments/{code}": ("/api/v1/departments/RD", None, everyone(405)),
}

# Routers whose every operation must have a row. Operations of other routers without a
# row only raise a warning, so a router added by another issue does not break this file
# before its rows are written; add the tag here once they are.
REQUIRED_TAGS = {"me", "organisation"}

CELLS = [(endpoint, role) for endpoint in MATRIX for role in ROLES]


@pytest.mark.parametrize(("endpoint", "role"), CELLS, ids=[f"{e} as {r}" for e, r in CELLS])
def test_authorization_matrix(client, keys, endpoint, role):
    # given
    method = endpoint.split(" ", 1)[0]
    path, body, expected = MATRIX[endpoint]

    # when
    reply = call(client, method, path, key=keys[role], body=body)

    # then
    assert reply.status == expected[role], reply.body
    if reply.status >= 400:
        assert set(reply.body) >= {"code", "message"}


def test_matrix_rows_cover_every_role():
    for endpoint, (_path, _body, expected) in MATRIX.items():
        assert set(expected) == set(ROLES), endpoint


def test_every_operation_has_a_row():
    required, optional = set(), set()
    for url, methods in api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {url}"
            (required if REQUIRED_TAGS & set(operation.get("tags", [])) else optional).add(label)
    missing = required - set(MATRIX)
    assert not missing, f"add these endpoints to MATRIX in {__file__}: {sorted(missing)}"
    if optional - set(MATRIX):
        warnings.warn(
            f"endpoints without authorization-matrix rows: {sorted(optional - set(MATRIX))}",
            stacklevel=1,
        )


def test_refusals_write_nothing(client, keys, org):
    from ztk.audit.models import AuditEvent
    from ztk.org.models import Employee

    events, people = AuditEvent.objects.count(), Employee.objects.count()
    for role in ("employee", "supervisor", "department_head", "auditor", "revoked", "anonymous"):
        call(client, "PUT", "/api/v1/employees/7001", key=keys[role], body={"name": "x"})
        call(client, "PUT", "/api/v1/departments/NEW", key=keys[role], body={"name": "x"})

    assert AuditEvent.objects.count() == events
    assert Employee.objects.count() == people
