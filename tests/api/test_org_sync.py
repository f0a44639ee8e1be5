"""The employee and department sync API: create-or-update, idempotency, audit, refusals."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from ztk.audit.models import AuditEvent
from ztk.org import services
from ztk.org.models import Department, Employee

from .conftest import call

User = get_user_model()

NEW = {
    "name": "孙七",
    "department": "RD",
    "supervisor": "1001",
    "attendance_group": "STD",
    "email": "sun@example.com",
    "phone": "13800000000",
    "hire_date": "2025-03-01",
    "username": "sunqi",
}


def events(action: str, object_id=None) -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(action=action)
    if object_id is not None:
        qs = qs.filter(object_id=str(object_id))
    return list(qs.order_by("seq"))


# --- employees: create, update, idempotency -------------------------------------------------


def test_put_creates_an_employee_with_a_login(client, keys):
    reply = call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW)

    assert reply.status == 201
    assert reply.body == {
        "employee_no": "7001",
        "name": "孙七",
        "department": "RD",
        "supervisor": "1001",
        "attendance_group": "STD",
        "email": "sun@example.com",
        "phone": "13800000000",
        "hire_date": "2025-03-01",
        "leave_date": None,
        "active": True,
        "username": "sunqi",
    }
    employee = Employee.objects.select_related("user").get(employee_no="7001")
    assert employee.name_initials == "sq"
    assert employee.user.username == "sunqi"
    assert employee.user.is_active
    assert not employee.user.has_usable_password()
    assert call(client, "GET", "/api/v1/employees/7001", key=keys["hr"]).body == reply.body


def test_put_twice_creates_once_and_writes_one_audit_event(client, keys, org):
    # given / when
    first = call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW)
    second = call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW)

    # then
    assert (first.status, second.status) == (201, 200)
    assert first.body == second.body
    employee = Employee.objects.get(employee_no="7001")
    created = events("org.employee.create", employee.pk)
    assert len(created) == 1
    assert AuditEvent.objects.filter(object_type="org.employee", object_id=employee.pk).count() == 1
    assert created[0].actor_id == org.hr.user.pk
    assert created[0].changes["after"]["department"] == "RD"
    assert "before" not in created[0].changes


def test_an_identical_put_of_an_existing_employee_changes_nothing(client, keys):
    call(client, "PUT", "/api/v1/employees/1002", key=keys["hr"], body=NEW | {"username": None})
    count = AuditEvent.objects.count()
    user_before = User.objects.values().get(username="employee")

    reply = call(
        client, "PUT", "/api/v1/employees/1002", key=keys["hr"], body=NEW | {"username": None}
    )

    assert reply.status == 200
    assert AuditEvent.objects.count() == count
    assert User.objects.values().get(username="employee") == user_before


def test_an_update_is_audited_with_before_and_after(client, keys):
    call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW)

    reply = call(
        client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW | {"department": "SALES"}
    )

    assert reply.status == 200
    assert reply.body["department"] == "SALES"
    [update] = events("org.employee.update")
    assert update.changes["before"]["department"] == "RD"
    assert update.changes["after"]["department"] == "SALES"
    assert update.changes["before"]["name"] == update.changes["after"]["name"] == "孙七"


def test_put_is_a_full_update_but_keeps_the_login_when_username_is_omitted(client, keys):
    call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW)

    reply = call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body={"name": "孙七"})

    assert reply.status == 200
    assert reply.body["department"] is None
    assert reply.body["supervisor"] is None
    assert reply.body["email"] == ""
    assert reply.body["username"] == "sunqi"


def test_a_new_employees_login_defaults_to_the_employee_number(client, keys):
    reply = call(client, "PUT", "/api/v1/employees/7002", key=keys["hr"], body={"name": "周八"})
    assert reply.status == 201
    assert reply.body["username"] == "7002"


def test_the_login_can_be_renamed(client, keys):
    call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW)

    reply = call(
        client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW | {"username": "sun7"}
    )

    assert reply.status == 200
    assert User.objects.filter(username="sun7").exists()
    assert not User.objects.filter(username="sunqi").exists()


def test_sysadmin_may_sync_too(client, keys):
    assert (
        call(client, "PUT", "/api/v1/employees/7001", key=keys["sysadmin"], body=NEW).status == 201
    )


# --- deactivation instead of deletion -------------------------------------------------------


def test_deactivation_disables_the_login_and_is_audited(client, keys, org):
    # given the employee's own key works
    assert call(client, "GET", "/api/v1/me", key=keys["employee"]).status == 200
    body = {
        "name": "张三",
        "department": "RD",
        "supervisor": "1001",
        "attendance_group": "STD",
        "hire_date": "2024-01-01",
        "leave_date": "2025-06-30",
        "active": False,
    }

    # when HR deactivates them
    reply = call(client, "PUT", "/api/v1/employees/1002", key=keys["hr"], body=body)

    # then the employee and the login are inactive, and the event says so
    assert reply.status == 200
    assert reply.body["active"] is False
    org.employee.refresh_from_db()
    org.employee.user.refresh_from_db()
    assert not org.employee.active
    assert not org.employee.user.is_active
    [event] = events("org.employee.deactivate", org.employee.pk)
    assert event.changes["before"]["login"]["active"] is True
    assert event.changes["after"]["login"]["active"] is False
    assert call(client, "GET", "/api/v1/me", key=keys["employee"]).status == 401
    # still listed, never deleted
    assert call(client, "GET", "/api/v1/employees/1002", key=keys["hr"]).body["active"] is False
    assert call(client, "DELETE", "/api/v1/employees/1002", key=keys["hr"]).status == 405

    # when HR reactivates them, the login works again
    body |= {"active": True, "leave_date": None}
    assert call(client, "PUT", "/api/v1/employees/1002", key=keys["hr"], body=body).status == 200
    assert events("org.employee.reactivate", org.employee.pk)
    assert call(client, "GET", "/api/v1/me", key=keys["employee"]).status == 200


# --- refusals -------------------------------------------------------------------------------

REFUSALS = {
    "unknown department": ("7001", {"department": "NOPE"}, services.UNKNOWN_DEPARTMENT),
    "unknown supervisor": ("7001", {"supervisor": "9999"}, services.UNKNOWN_SUPERVISOR),
    "unknown attendance group": (
        "7001",
        {"attendance_group": "NOPE"},
        services.UNKNOWN_ATTENDANCE_GROUP,
    ),
    "supervises themselves": ("1002", {"supervisor": "1002"}, services.SUPERVISOR_CYCLE),
    "new employee supervises themselves": (
        "7001",
        {"supervisor": "7001"},
        services.SUPERVISOR_CYCLE,
    ),
    # 1002 reports to 1001, who reports to 1000: 1000 may not report to 1002
    "supervisor cycle": ("1000", {"supervisor": "1002"}, services.SUPERVISOR_CYCLE),
    "leave before hire": (
        "7001",
        {"hire_date": "2025-03-01", "leave_date": "2025-02-28"},
        services.LEAVE_BEFORE_HIRE,
    ),
    "username taken": ("7001", {"username": "hr"}, services.USERNAME_TAKEN),
    "rename to a taken username": ("1002", {"username": "manager"}, services.USERNAME_TAKEN),
    "invalid username": ("7001", {"username": "has space"}, services.VALIDATION_ERROR),
    "invalid email": ("7001", {"email": "not-an-email"}, services.VALIDATION_ERROR),
    "blank name": ("7001", {"name": "   "}, services.VALIDATION_ERROR),
    "name too long": ("7001", {"name": "x" * 61}, "validation_error"),
    "bad employee number": ("a-b", {}, "validation_error"),
    "bad date": ("7001", {"hire_date": "2025-02-30"}, "validation_error"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refusals_are_422_with_a_specific_code_and_write_nothing(client, keys, case):
    # given
    employee_no, change, code = REFUSALS[case]
    body = {"name": "新员工"} | change
    counts = (AuditEvent.objects.count(), Employee.objects.count(), User.objects.count())

    # when
    reply = call(client, "PUT", f"/api/v1/employees/{employee_no}", key=keys["hr"], body=body)

    # then
    assert reply.status == 422, reply.body
    assert reply.body["code"] == code
    assert reply.body["message"]
    assert (AuditEvent.objects.count(), Employee.objects.count(), User.objects.count()) == counts


def test_an_unknown_reference_names_the_field(client, keys):
    reply = call(
        client,
        "PUT",
        "/api/v1/employees/7001",
        key=keys["hr"],
        body={"name": "x", "department": "X"},
    )
    assert reply.body["details"] == {"department": "X"}


def test_a_longer_supervisor_cycle_is_refused(client, keys):
    # given 1000 <- 1001 <- 1002 <- 7001 <- 7002
    call(
        client,
        "PUT",
        "/api/v1/employees/7001",
        key=keys["hr"],
        body={"name": "a", "supervisor": "1002"},
    )
    call(
        client,
        "PUT",
        "/api/v1/employees/7002",
        key=keys["hr"],
        body={"name": "b", "supervisor": "7001"},
    )

    # when the head is put under the bottom of the chain
    reply = call(
        client,
        "PUT",
        "/api/v1/employees/1000",
        key=keys["hr"],
        body={"name": "王部长", "supervisor": "7002"},
    )

    # then
    assert reply.status == 422
    assert reply.body["code"] == services.SUPERVISOR_CYCLE


def test_a_concurrent_create_of_the_same_login_is_a_409_not_a_500(client, keys, monkeypatch):
    # given the uniqueness check passed, but another request created the login meanwhile
    monkeypatch.setattr(services, "_check_username", lambda login, exclude_pk=None: None)
    counts = (AuditEvent.objects.count(), Employee.objects.count())

    # when
    reply = call(
        client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW | {"username": "hr"}
    )

    # then the database's constraint answers, as a retryable conflict, and nothing is left
    assert reply.status == 409
    assert reply.body["code"] == services.CONFLICT
    assert (AuditEvent.objects.count(), Employee.objects.count()) == counts
    assert call(client, "GET", "/api/v1/employees/1002", key=keys["hr"]).status == 200


def test_the_service_refuses_callers_without_permission(org):
    from ztk.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.employee_upsert(actor=org.auditor.user, employee_no="7001", name="x")


# --- reading: filters, paging, query counts -------------------------------------------------


def test_list_filters(client, keys, org):
    def numbers(query: str) -> list[str]:
        reply = call(client, "GET", f"/api/v1/employees{query}", key=keys["hr"])
        assert reply.status == 200, reply.body
        return [e["employee_no"] for e in reply.body["items"]]

    assert numbers("") == ["1000", "1001", "1002", "1003", "2001", "4001", "4002"]
    assert numbers("?department=RD") == ["1000", "1001", "1002", "1003"]
    assert numbers("?supervisor=1001") == ["1002", "1003"]
    assert numbers("?attendance_group=STD&department=SALES") == ["2001", "4001", "4002"]
    assert numbers("?search=%E5%BC%A0") == ["1002"]  # 张
    assert numbers("?search=100") == ["1000", "1001", "1002", "1003"]
    org.stranger.active = False
    org.stranger.save(update_fields=["active"])
    assert "2001" not in numbers("?active=true")
    assert numbers("?active=false") == ["2001"]
    # pinyin initials are kept by the service
    call(client, "PUT", "/api/v1/employees/7001", key=keys["hr"], body=NEW)
    assert numbers("?search=sq") == ["7001"]


def test_list_paging(client, keys):
    reply = call(client, "GET", "/api/v1/employees?offset=2&limit=3", key=keys["hr"])

    assert reply.body["count"] == 7
    assert reply.body["next"] == "/api/v1/employees?offset=5&limit=3"
    assert [e["employee_no"] for e in reply.body["items"]] == ["1002", "1003", "2001"]
    beyond = call(client, "GET", "/api/v1/employees?offset=100", key=keys["hr"]).body
    assert beyond["items"] == [] and beyond["count"] == 7


def _queries(client, key: str, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert call(client, "GET", path, key=key).status == 200
    return len(captured)


@pytest.mark.parametrize("path", ["/api/v1/employees", "/api/v1/departments"])
def test_lists_do_not_grow_queries_with_rows(
    client, keys, org, path, django_assert_max_num_queries
):
    # given the small org, measured
    few = _queries(client, keys["hr"], path)

    # when 40 more people in 10 more departments exist
    for i in range(10):
        department = factories.DepartmentFactory(code=f"X{i}", parent=org.department, head=org.head)
        for j in range(4):
            factories.EmployeeFactory(
                employee_no=f"8{i}{j}", department=department, supervisor=org.supervisor
            )

    # then the same number of queries answers, and it is small
    with django_assert_max_num_queries(few):
        reply = call(client, "GET", f"{path}?limit=1000", key=keys["hr"])
    assert len(reply.body["items"]) > 10
    assert few <= 6


def test_one_employee_is_one_query_after_authentication(
    client, keys, django_assert_max_num_queries
):
    with django_assert_max_num_queries(5):
        assert call(client, "GET", "/api/v1/employees/1002", key=keys["hr"]).status == 200


# --- departments ----------------------------------------------------------------------------


def test_department_put_creates_updates_and_is_idempotent(client, keys):
    body = {"name": "测试部", "parent": "RD", "head": "1001"}

    created = call(client, "PUT", "/api/v1/departments/QA", key=keys["hr"], body=body)
    again = call(client, "PUT", "/api/v1/departments/QA", key=keys["hr"], body=body)
    moved = call(
        client, "PUT", "/api/v1/departments/QA", key=keys["hr"], body=body | {"parent": "SALES"}
    )

    assert (created.status, again.status, moved.status) == (201, 200, 200)
    assert (
        created.body
        == again.body
        == {
            "code": "QA",
            "name": "测试部",
            "parent": "RD",
            "head": "1001",
            "active": True,
        }
    )
    department = Department.objects.get(code="QA")
    assert len(events("org.department.create", department.pk)) == 1
    [update] = events("org.department.update", department.pk)
    assert (update.changes["before"]["parent"], update.changes["after"]["parent"]) == (
        "RD",
        "SALES",
    )
    assert call(client, "GET", "/api/v1/departments/QA", key=keys["hr"]).body == moved.body


def test_department_deactivation(client, keys):
    reply = call(
        client,
        "PUT",
        "/api/v1/departments/SALES",
        key=keys["hr"],
        body={"name": "销售部", "active": False},
    )

    assert reply.status == 200
    assert not Department.objects.get(code="SALES").active
    listed = call(client, "GET", "/api/v1/departments?active=false", key=keys["hr"]).body
    assert [d["code"] for d in listed["items"]] == ["SALES"]


DEPARTMENT_REFUSALS = {
    "unknown parent": ("QA", {"parent": "NOPE"}, services.UNKNOWN_DEPARTMENT),
    "unknown head": ("QA", {"head": "9999"}, services.UNKNOWN_HEAD),
    "own parent": ("RD", {"parent": "RD"}, services.DEPARTMENT_CYCLE),
    "new and own parent": ("QA", {"parent": "QA"}, services.DEPARTMENT_CYCLE),
    "blank name": ("QA", {"name": " "}, services.VALIDATION_ERROR),
    "bad code": ("a b", {}, "validation_error"),
}


@pytest.mark.parametrize("case", DEPARTMENT_REFUSALS)
def test_department_refusals(client, keys, case):
    code, change, expected = DEPARTMENT_REFUSALS[case]
    count = AuditEvent.objects.count()

    reply = call(
        client, "PUT", f"/api/v1/departments/{code}", key=keys["hr"], body={"name": "部门"} | change
    )

    assert reply.status == 422, reply.body
    assert reply.body["code"] == expected
    assert AuditEvent.objects.count() == count


def test_a_department_cycle_through_children_is_refused(client, keys):
    call(
        client,
        "PUT",
        "/api/v1/departments/SUB",
        key=keys["hr"],
        body={"name": "子部门", "parent": "RD"},
    )

    reply = call(
        client,
        "PUT",
        "/api/v1/departments/RD",
        key=keys["hr"],
        body={"name": "研发部", "parent": "SUB"},
    )

    assert reply.status == 422
    assert reply.body["code"] == services.DEPARTMENT_CYCLE


def test_department_list_filters(client, keys):
    call(
        client,
        "PUT",
        "/api/v1/departments/SUB",
        key=keys["hr"],
        body={"name": "子部门", "parent": "RD"},
    )

    def codes(query: str) -> list[str]:
        return [
            d["code"]
            for d in call(client, "GET", f"/api/v1/departments{query}", key=keys["hr"]).body[
                "items"
            ]
        ]

    assert codes("") == ["RD", "SALES", "SUB"]
    assert codes("?parent=RD") == ["SUB"]
    assert codes("?search=%E9%94%80%E5%94%AE") == ["SALES"]  # 销售


def test_nobody_is_synced_into_an_inactive_group_but_its_members_stay(client, keys, org):
    # given: a retired group that still holds one person (from before it was retired)
    retired = factories.AttendanceGroupFactory(code="OLD", name="旧考勤组", active=False)
    Employee.objects.filter(employee_no="1003").update(attendance_group=retired)
    counts = (AuditEvent.objects.count(), Employee.objects.count())

    # when: a new employee is put into it
    refused = call(
        client,
        "PUT",
        "/api/v1/employees/7001",
        key=keys["hr"],
        body={**NEW, "attendance_group": "OLD"},
    )

    # then: refused with the page's reason, nothing written
    assert refused.status == 422
    assert refused.body["code"] == "group_inactive"
    assert "旧考勤组" in refused.body["message"]
    assert (AuditEvent.objects.count(), Employee.objects.count()) == counts

    # and: the member it already has can still be synced unchanged in that respect
    colleague = Employee.objects.get(employee_no="1003")
    kept = call(
        client,
        "PUT",
        "/api/v1/employees/1003",
        key=keys["hr"],
        body={
            "name": colleague.name,
            "department": colleague.department.code,
            "attendance_group": "OLD",
            "supervisor": colleague.supervisor.employee_no if colleague.supervisor else None,
        },
    )
    assert kept.status == 200, kept.body
