"""Who may call what: every endpoint × every kind of caller, as one table.

A new endpoint must get a row here (test_every_operation_has_a_row says so); a row
gives the request and the expected status for each role of tests/api/conftest.py:
anonymous, employee, supervisor, department head, HR, system admin, auditor, and a
revoked key. An operation may have several rows (`case`): whose data it asks for —
the caller's own, a report's, a stranger's — or which step a correction waits at.

The product's rules the statuses follow: employees see only their own data, supervisors
and department heads that of their reports and departments, HR everything; the system
admin does the admin things (sync, terminals, reports) and may look at everyone's
attendance and corrections (ztk/org/rules.py, ztk/corrections/rules.py) but files and
decides none, having no employee record; the auditor only reads the audit log (and their
own attendance as an employee). Nobody approves their own correction (nor one they
filed), only the current step's approver decides it (403 for others who may see it), and
whoever may not see a correction gets 404 — as does whoever names an employee they may not
see (or file for): 404 like a number nobody has (ztk.org.selectors.employee_for).

Data a row needs (a correction, a terminal, a notification) comes from `World`
(tests/api/matrix_data.py), built with the real services for each cell, so one role's
write never changes the next role's case.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ztk.api.api import api

from .conftest import ROLES, Reply, call
from .matrix_data import NOW, PERIOD, RANGE, TUE, Form, World, at, png

EMPLOYEE_BODY = {
    "name": "李四",
    "department": "RD",
    "supervisor": "1001",
    "attendance_group": "STD",
    "hire_date": "2024-01-01",
}
DEPARTMENT_BODY = {"name": "研发部", "head": "1000"}
GEOFENCE_BODY = {"name": "总部", "latitude": 31.23, "longitude": 121.47, "radius_m": 300,
                 "groups": ["STD"]}  # fmt: skip
HOLIDAYS_BODY = {"days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]}
GROUP_BODY = {"name": "标准工时组", "time_zone": "Asia/Shanghai", "day_boundary_hour": 2}
HR_PUNCH = {"employee": "1002", "at": at(TUE, 9, 1).isoformat(), "remark": "补录"}


SHIFT_BODY_JSON = {"name": "白班", "segments": [{"start": "08:30", "end": "17:30"}]}


def shift_body(world: World) -> dict:
    """D9 exists (the week's shift): PUT updates it."""
    world.week  # noqa: B018
    return SHIFT_BODY_JSON


def shift_week(world: World) -> None:
    """D9 exists before the GET (the week's shift); a GET sends no body."""
    world.week  # noqa: B018


def hr_punch(world: World) -> dict:
    """HR fills 1002's empty check-in on Tuesday (the manual add needs the week's shift)."""
    world.week  # noqa: B018
    return HR_PUNCH


def roster_body(world: World) -> dict:
    """张三 works D9 on Saturday 28 November and rests on Sunday (the week has the shift)."""
    world.week  # noqa: B018
    return {
        "items": [
            {"employee_no": "1002", "date": "2026-11-28", "shift_code": "D9"},
            {"employee_no": "1002", "date": "2026-11-29", "shift_code": None},
        ]
    }


def expect(status: int, **by_role: int) -> dict[str, int]:
    """`status` for every signed-in role except those named; 401 without a valid key."""
    assert set(by_role) <= set(ROLES), by_role
    return {**dict.fromkeys(ROLES, status), "anonymous": 401, "revoked": 401, **by_role}


def admins(ok: int) -> dict[str, int]:
    """HR and the system admin get `ok`; everyone else signed in is refused (403)."""
    return expect(403, hr=ok, sysadmin=ok)


def findings(ok: int, **by_role: int) -> dict[str, int]:
    """HR and the auditor get `ok` (oversight findings); everyone else signed in 403."""
    return {**expect(403, hr=ok, auditor=ok), **by_role}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


Body = dict | Form | Callable[[World], Any] | None


@dataclass(frozen=True)
class Row:
    operation: str  # "METHOD /schema/path" as /api/v1/openapi.json lists it
    path: str  # the request path; "{name}" is World.name (built on first use)
    expected: dict[str, int]
    body: Body = None  # JSON, a multipart Form, or a function of the World giving either
    case: str = ""  # which of an operation's rows this is

    @property
    def label(self) -> str:
        return f"{self.operation} [{self.case}]" if self.case else self.operation

    @property
    def method(self) -> str:
        return self.operation.split(" ", 1)[0]


V1 = "/api/v1"
C = f"{V1}/corrections"
OT = f"{V1}/overtime"

MATRIX: list[Row] = [
    # --- me ------------------------------------------------------------------------------
    Row("GET /api/v1/me", f"{V1}/me", expect(200)),
    # --- organisation: the HR sync (no DELETE: people are deactivated) --------------------
    Row("GET /api/v1/employees", f"{V1}/employees", admins(200)),
    Row("GET /api/v1/employees/{employee_no}", f"{V1}/employees/1003", admins(200)),
    Row("PUT /api/v1/employees/{employee_no}", f"{V1}/employees/1003", admins(200), EMPLOYEE_BODY),
    Row("DELETE /api/v1/employees/{employee_no}", f"{V1}/employees/1003", everyone(405)),
    Row("GET /api/v1/departments", f"{V1}/departments", admins(200)),
    # --- correction categories: configuration for integrators (as the HR sync) ----------
    Row("GET /api/v1/corrections/categories", f"{C}/categories", admins(200)),
    Row("GET /api/v1/departments/{code}", f"{V1}/departments/RD", admins(200)),
    Row("PUT /api/v1/departments/{code}", f"{V1}/departments/RD", admins(200), DEPARTMENT_BODY),
    Row("DELETE /api/v1/departments/{code}", f"{V1}/departments/RD", everyone(405)),
    # --- settings for integrators: punch areas and the holiday calendar (as the sync) -------
    Row("GET /api/v1/geofences", f"{V1}/geofences", admins(200)),
    Row("GET /api/v1/geofences/{code}", f"{V1}/geofences/{{fence}}", admins(200)),
    Row("PUT /api/v1/geofences/{code}", f"{V1}/geofences/{{fence}}", admins(200), GEOFENCE_BODY),
    Row("DELETE /api/v1/geofences/{code}", f"{V1}/geofences/{{fence}}", everyone(405)),
    Row("GET /api/v1/holidays/{year}", f"{V1}/holidays/2026", admins(200)),
    Row("PUT /api/v1/holidays/{year}", f"{V1}/holidays/2027", admins(200), HOLIDAYS_BODY),
    Row(
        "GET /api/v1/settings/reminders/{code}",
        f"{V1}/settings/reminders/STD",
        expect(403, hr=200, sysadmin=200, auditor=200),
    ),
    Row(
        "PUT /api/v1/settings/reminders/{code}",
        f"{V1}/settings/reminders/STD",
        admins(200),
        {"punch_in_minutes": 15, "channels": {"punch_reminder": {"email": False}}},
    ),
    Row("GET /api/v1/groups", f"{V1}/groups", admins(200)),
    Row("GET /api/v1/groups/{code}", f"{V1}/groups/STD", admins(200)),
    Row("PUT /api/v1/groups/{code}", f"{V1}/groups/STD", admins(200), GROUP_BODY),
    Row("DELETE /api/v1/groups/{code}", f"{V1}/groups/STD", everyone(405)),
    # --- shifts: the same HR sync; PUT replaces the whole definition (no DELETE: retire) ---
    Row("GET /api/v1/shifts", f"{V1}/shifts", admins(200)),
    Row("GET /api/v1/shifts/{code}", f"{V1}/shifts/D9", admins(200), shift_week),
    Row("PUT /api/v1/shifts/{code}", f"{V1}/shifts/D9", admins(200), shift_body),
    Row("DELETE /api/v1/shifts/{code}", f"{V1}/shifts/D9", everyone(405)),
    # --- attendance: 1002 is the employee, the supervisor's report, in the head's
    # department; 2001 is in another department. The system admin has no employee record.
    Row(
        "GET /api/v1/attendance/days",
        f"{V1}/attendance/days?{RANGE}",
        expect(200, sysadmin=404),
        case="own",
    ),
    Row(
        "GET /api/v1/attendance/days",
        f"{V1}/attendance/days?employee=1002&{RANGE}",
        expect(200, auditor=404),
        case="the employee's",
    ),
    Row(
        "GET /api/v1/attendance/days",
        f"{V1}/attendance/days?employee=2001&{RANGE}",
        expect(404, hr=200, sysadmin=200),
        case="another department's",
    ),
    Row("GET /api/v1/punches", f"{V1}/punches?{RANGE}", expect(200, sysadmin=404), case="own"),
    Row(
        "GET /api/v1/punches",
        f"{V1}/punches?employee=1002&{RANGE}",
        expect(200, auditor=404),
        case="the employee's",
    ),
    Row(
        "GET /api/v1/punches",
        f"{V1}/punches?employee=2001&{RANGE}",
        expect(404, hr=200, sysadmin=200),
        case="another department's",
    ),
    # no_employee: the system admin's account has nobody to punch for (a business refusal)
    Row("POST /api/v1/punches", f"{V1}/punches", expect(201, sysadmin=422), {}, case="own, now"),
    Row(
        "POST /api/v1/punches",
        f"{V1}/punches",
        admins(201),
        hr_punch,
        case="for an employee at a given time",
    ),
    # undo: only one's own app punch of the last seconds; anything else is not there (404)
    Row(
        "POST /api/v1/punches/{punch_id}/undo",
        f"{V1}/punches/999999/undo",
        expect(404),
        {},
        case="not one's own",
    ),
    # --- terminals -----------------------------------------------------------------------
    Row("GET /api/v1/devices", f"{V1}/devices", admins(200)),
    Row(
        "POST /api/v1/devices/{serial}/approve",
        f"{V1}/devices/{{pending_device}}/approve",
        admins(200),
    ),
    # --- corrections: filing for the employee (self, their supervisor or head, HR) --------
    Row(
        "POST /api/v1/corrections",
        C,
        expect(201, sysadmin=404, auditor=404),
        lambda w: w.submission(),
    ),
    Row(
        "POST /api/v1/corrections/multipart",
        f"{C}/multipart",
        expect(201, sysadmin=404, auditor=404),
        lambda w: w.multipart_submission(),
    ),
    Row(
        "POST /api/v1/corrections/preview",
        f"{C}/preview",
        expect(200, auditor=404),
        lambda w: w.preview(),
    ),
    Row("GET /api/v1/corrections/quota", f"{C}/quota?employee=1002", expect(200, auditor=404)),
    Row(
        "GET /api/v1/corrections/slot-checks",
        f"{C}/slot-checks?employee=1002&from=2026-11-23&to=2026-11-24",
        expect(200, auditor=404),
    ),
    Row("GET /api/v1/corrections", f"{C}?scope=all", expect(200)),  # each sees their share
    # --- corrections: one request, waiting for the supervisor (step 1) unless said ----------
    Row(
        "GET /api/v1/corrections/{correction_id}",
        f"{C}/{{pending}}",
        expect(200, auditor=404),
        case="the employee's",
    ),
    Row(
        "GET /api/v1/corrections/{correction_id}",
        f"{C}/{{colleague_pending}}",
        expect(200, employee=404, auditor=404),
        case="the colleague's",
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/approve",
        f"{C}/{{pending}}/approve",
        expect(403, supervisor=200, auditor=404),
        {"comment": "属实"},
        case="supervisor's step",
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/approve",
        f"{C}/{{at_hr_step}}/approve",
        expect(403, hr=200, auditor=404),
        {},
        case="HR's step",
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/approve",
        f"{C}/{{hr_own}}/approve",
        expect(404, hr=403, sysadmin=403),
        {},
        case="HR's own correction",
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/approve",
        f"{C}/{{filed_by_supervisor}}/approve",
        expect(403, hr=200, auditor=404),
        {},
        case="filed by the supervisor",
    ),
    Row(
        "POST /api/v1/corrections/batch-approve",
        f"{C}/batch-approve",
        expect(403, supervisor=200, auditor=404),
        lambda w: {"ids": [w.pending]},
        case="supervisor's step",
    ),
    Row(
        "POST /api/v1/corrections/batch-approve",
        f"{C}/batch-approve",
        expect(403, hr=200, auditor=404),
        lambda w: {"ids": [w.at_hr_step]},
        case="HR's step",
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/reject",
        f"{C}/{{pending}}/reject",
        expect(403, supervisor=200, auditor=404),
        {"reason": "当天未到岗"},
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/transfer",
        f"{C}/{{pending}}/transfer",
        expect(403, supervisor=200, auditor=404),
        {"to_employee": "1000", "comment": "请部长审批"},
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/comment",
        f"{C}/{{pending}}/comment",
        expect(201, auditor=404),
        {"comment": "请补充说明"},
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/withdraw",
        f"{C}/{{pending}}/withdraw",
        expect(403, employee=200, auditor=404),
    ),
    Row(
        "POST /api/v1/corrections/{correction_id}/attachments",
        f"{C}/{{pending}}/attachments",
        expect(403, employee=201, hr=201, auditor=404),
        lambda w: Form(file=png()),
    ),
    # --- absences (leave, outing, trip): filing for the employee, then the same chain -------
    Row(
        "POST /api/v1/absences",
        f"{V1}/absences",
        expect(201, sysadmin=404, auditor=404),
        lambda w: w.absence_submission(),
    ),
    Row(
        "POST /api/v1/absences/multipart",
        f"{V1}/absences/multipart",
        expect(201, sysadmin=404, auditor=404),
        lambda w: w.absence_multipart(),
    ),
    Row("GET /api/v1/absences", f"{V1}/absences?scope=all", expect(200)),
    Row(
        "GET /api/v1/absences/{absence_id}",
        f"{V1}/absences/{{absence_pending}}",
        expect(200, auditor=404),
    ),
    Row(
        "POST /api/v1/absences/{absence_id}/approve",
        f"{V1}/absences/{{absence_pending}}/approve",
        expect(403, supervisor=200, auditor=404),
        {"comment": "同意"},
    ),
    Row(
        "POST /api/v1/absences/{absence_id}/reject",
        f"{V1}/absences/{{absence_pending}}/reject",
        expect(403, supervisor=200, auditor=404),
        {"reason": "项目上线"},
    ),
    Row(
        "POST /api/v1/absences/{absence_id}/withdraw",
        f"{V1}/absences/{{absence_pending}}/withdraw",
        expect(403, employee=200, auditor=404),
    ),
    Row(
        "POST /api/v1/absences/{absence_id}/cancel",
        f"{V1}/absences/{{absence_approved}}/cancel",
        expect(201, sysadmin=403, auditor=404),
        {"reason": "提前回来"},
    ),
    Row("GET /api/v1/balances", f"{V1}/balances?employee=1002", expect(200, auditor=404)),
    # --- overtime: filing (self, supervisor, head, HR), then one request per step ----------
    Row(
        "POST /api/v1/overtime",
        OT,
        expect(201, sysadmin=404, auditor=404),
        lambda w: w.overtime_submission(),
    ),
    Row("GET /api/v1/overtime", f"{OT}?scope=all", expect(200)),  # each sees their share
    Row(
        "GET /api/v1/overtime/{overtime_id}",
        f"{OT}/{{ot_pending}}",
        expect(200, auditor=404),
    ),
    Row(
        "POST /api/v1/overtime/{overtime_id}/approve",
        f"{OT}/{{ot_pending}}/approve",
        expect(403, supervisor=200, auditor=404),
        {"comment": "同意"},
        case="supervisor's step",
    ),
    Row(
        "POST /api/v1/overtime/{overtime_id}/approve",
        f"{OT}/{{ot_at_hr_step}}/approve",
        expect(403, hr=200, auditor=404),
        {},
        case="HR's step",
    ),
    Row(
        "POST /api/v1/overtime/{overtime_id}/reject",
        f"{OT}/{{ot_pending}}/reject",
        expect(403, supervisor=200, auditor=404),
        {"reason": "无需加班"},
    ),
    Row(
        "POST /api/v1/overtime/{overtime_id}/withdraw",
        f"{OT}/{{ot_pending}}/withdraw",
        expect(403, employee=200, auditor=404),
    ),
    Row(
        "POST /api/v1/overtime/{overtime_id}/cancel",
        f"{OT}/{{ot_approved}}/cancel",
        expect(201, sysadmin=403, auditor=404),  # the same shape as absences' 销假
        {"reason": "登记错误"},
    ),
    # --- the approver's one inbox: every signed-in user gets their own (maybe empty) ---------
    Row("GET /api/v1/inbox", f"{V1}/inbox", expect(200)),
    Row("GET /api/v1/inbox", f"{V1}/inbox?type=overtime", expect(200), case="one type"),
    # --- notifications: the caller's own inbox; others' ids are ignored --------------------
    Row("GET /api/v1/notifications", f"{V1}/notifications", expect(200)),
    Row(
        "POST /api/v1/notifications/read",
        f"{V1}/notifications/read",
        expect(200),
        lambda w: {"ids": [w.notification]},
    ),
    # --- schedules: the roster sync (same permission as the employee sync) ----------------
    Row("GET /api/v1/rosters", f"{V1}/rosters?{RANGE}", admins(200)),
    Row("PUT /api/v1/rosters", f"{V1}/rosters", admins(200), roster_body),
    # --- reports -------------------------------------------------------------------------
    Row("GET /api/v1/reports/monthly", f"{V1}/reports/monthly?period={PERIOD}", admins(200)),
    # --- analytics: HR everyone, department heads their departments; bad params 422 -------
    Row(
        "GET /api/v1/analytics/trends",
        f"{V1}/analytics/trends?metric=late&by=department&from=2026-11-01&to=2026-11-30",
        expect(403, hr=200, department_head=200),
    ),
    Row(
        "GET /api/v1/analytics/trends",
        f"{V1}/analytics/trends?metric=reminder_punched&by=group&from=2026-11-01&to=2026-11-30",
        expect(403, hr=200, department_head=200),
        case="reminder sent → punched",
    ),
    Row(
        "GET /api/v1/analytics/trends",
        f"{V1}/analytics/trends?metric=reminder_before_after&by=group&from=2026-11-01"
        "&to=2026-12-07",
        expect(403, hr=200, department_head=200),
        case="missed punches before/after reminders per group",
    ),
    Row(
        "GET /api/v1/analytics/trends",
        f"{V1}/analytics/trends?metric=nope&from=2026-11-01&to=2026-11-30",
        expect(403, hr=422, department_head=422),
        case="bad metric",
    ),
    # --- oversight findings: HR and auditors; HR-activity findings are the auditor's ---------
    Row("GET /api/v1/oversight/findings", f"{V1}/oversight/findings", findings(200)),
    Row(
        "POST /api/v1/oversight/findings/{finding_id}/acknowledge",
        f"{V1}/oversight/findings/{{finding}}/acknowledge",
        findings(200),
        {"note": "已核实"},
        case="about the employee",
    ),
    Row(
        "POST /api/v1/oversight/findings/{finding_id}/acknowledge",
        f"{V1}/oversight/findings/{{hr_finding}}/acknowledge",
        findings(200, hr=403),
        {},
        case="about HR's work",
    ),
    Row(
        "POST /api/v1/oversight/findings/{finding_id}/dismiss",
        f"{V1}/oversight/findings/{{finding}}/dismiss",
        findings(200),
        {"note": "设备故障属实"},
    ),
    # --- early warnings: HR and auditors all, a department head those sent to them --------
    Row(
        "GET /api/v1/oversight/warnings",
        f"{V1}/oversight/warnings",
        expect(403, hr=200, auditor=200, department_head=200),
    ),
]

# Cells whose endpoint answers differently from the rule: (row label, role) -> the bug.
# The expectation above stays the rule; remove the entry with the fix (strict xfail).
KNOWN_BUGS: dict[tuple[str, str], str] = {}

# Routers whose every operation must have a row. Operations of other routers without a
# row only raise a warning, so a router added by another issue does not break this file
# before its rows are written; add the tag here once they are.
REQUIRED_TAGS = {
    "me",
    "organisation",
    "attendance",
    "terminals",
    "corrections",
    "absences",
    "notifications",
    "reports",
    "oversight",
    "overtime",
    "analytics",
    "schedules",
}


def _cells() -> list:
    labels = [row.label for row in MATRIX]
    assert len(labels) == len(set(labels)), "two rows with the same label: give them a `case`"
    cells = []
    for row in MATRIX:
        for role in ROLES:
            bug = KNOWN_BUGS.get((row.label, role))
            marks = (
                [pytest.mark.xfail(strict=True, raises=AssertionError, reason=bug)] if bug else []
            )
            cells.append(pytest.param(row, role, id=f"{row.label} as {role}", marks=marks))
    return cells


def send(client, method: str, path: str, *, key: str | None, body: Any) -> Reply:
    """`call` of tests/api/conftest.py, or a multipart POST for a `Form` body."""
    if not isinstance(body, Form):
        return call(client, method, path, key=key, body=body)
    assert method == "POST", method
    headers = {"Accept-Language": "en", **({"Authorization": f"Bearer {key}"} if key else {})}
    response = client.post(path, dict(body), headers=headers)
    return Reply(response.status_code, response.json(), response)


@pytest.fixture
def world(org, time_machine, settings, tmp_path) -> World:
    time_machine.move_to(NOW, tick=False)
    settings.MEDIA_ROOT = tmp_path  # attachments
    return World(org)


@pytest.mark.parametrize(("row", "role"), _cells())
def test_authorization_matrix(client, keys, world, row: Row, role: str):
    from ztk.audit.models import AuditEvent

    # given
    path = row.path.format_map(world)
    body = row.body(world) if callable(row.body) else row.body
    events = AuditEvent.objects.count()

    # when
    reply = send(client, row.method, path, key=keys[role], body=body)

    # then
    assert reply.status == row.expected[role], reply.body
    if reply.status >= 400:
        assert set(reply.body) >= {"code", "message"}
        assert AuditEvent.objects.count() == events, "a refused request wrote an audit event"
    if reply.status == 403:
        assert reply.body["code"] == "permission_denied", reply.body


# What GET /corrections?scope=all lists for each role (World attributes): a 200 is not
# enough for a list, it must hold only what the role may see.
LISTED = {
    "employee": {"pending"},
    "supervisor": {"pending", "colleague_pending"},
    "department_head": {"pending", "colleague_pending"},
    "hr": {"pending", "colleague_pending", "hr_own"},
    "sysadmin": {"pending", "colleague_pending", "hr_own"},
    "auditor": set(),
}


@pytest.mark.parametrize("role", sorted(LISTED))
def test_lists_show_only_what_the_role_may_see(client, keys, world, role):
    # given: three corrections; a notification in the employee's inbox
    ids = {name: world[name] for name in ("pending", "colleague_pending", "hr_own")}
    theirs = world.notification

    # when
    listed = send(client, "GET", f"{C}?scope=all", key=keys[role], body=None)
    inbox = send(client, "GET", f"{V1}/notifications", key=keys[role], body=None)
    read = send(client, "POST", f"{V1}/notifications/read", key=keys[role], body={"ids": [theirs]})

    # then
    assert {r["id"] for r in listed.body["items"]} == {ids[name] for name in LISTED[role]}
    own = role == "employee"
    assert (theirs in {n["id"] for n in inbox.body["items"]}) is own
    assert read.body["marked"] == (1 if own else 0)


def test_matrix_rows_cover_every_role():
    for row in MATRIX:
        assert set(row.expected) == set(ROLES), row.label


def _operations() -> dict[str, set[str]]:
    """Every operation of the schema as "METHOD /path", with its tags."""
    return {
        f"{method.upper()} {url}": set(operation.get("tags", []))
        for url, methods in api.get_openapi_schema()["paths"].items()
        for method, operation in methods.items()
    }


def test_every_operation_has_a_row():
    operations = _operations()
    required = {op for op, tags in operations.items() if tags & REQUIRED_TAGS}
    optional = set(operations) - required
    covered = {row.operation for row in MATRIX}
    missing = required - covered
    assert not missing, f"add these endpoints to MATRIX in {__file__}: {sorted(missing)}"
    if optional - covered:
        warnings.warn(
            f"endpoints without authorization-matrix rows: {sorted(optional - covered)}",
            stacklevel=1,
        )


def test_rows_name_real_operations():
    """A row for an operation the schema does not list only checks that nobody may call it
    (a method the path refuses); any other such row is stale (a renamed path)."""
    operations = _operations()
    for row in MATRIX:
        if row.operation not in operations:
            assert row.expected == everyone(405), f"{row.label}: not in the schema"


def test_every_known_bug_names_a_cell():
    labels = {row.label for row in MATRIX}
    for label, role in KNOWN_BUGS:
        assert label in labels and role in ROLES, (label, role)


def test_refusals_write_nothing(client, keys, org):
    from ztk.audit.models import AuditEvent
    from ztk.org.models import Employee

    events, people = AuditEvent.objects.count(), Employee.objects.count()
    for role in ("employee", "supervisor", "department_head", "auditor", "revoked", "anonymous"):
        call(client, "PUT", "/api/v1/employees/7001", key=keys[role], body={"name": "x"})
        call(client, "PUT", "/api/v1/departments/NEW", key=keys[role], body={"name": "x"})

    assert AuditEvent.objects.count() == events
    assert Employee.objects.count() == people
