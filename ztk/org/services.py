"""Writes on the organisation: every one permission-checked, atomic and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin

from ztk.audit.services import record, snapshot
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text

from .group_services import check_can_join
from .models import AttendanceGroup, Department, Employee

User = get_user_model()

# Refusal codes: stable, returned by the API as `code`; tests import them.
VALIDATION_ERROR = "validation_error"
UNKNOWN_DEPARTMENT = "unknown_department"
UNKNOWN_SUPERVISOR = "unknown_supervisor"
UNKNOWN_ATTENDANCE_GROUP = "unknown_attendance_group"
UNKNOWN_HEAD = "unknown_employee"
SUPERVISOR_CYCLE = "supervisor_cycle"
DEPARTMENT_CYCLE = "department_cycle"
LEAVE_BEFORE_HIRE = "leave_before_hire"
USERNAME_TAKEN = "username_taken"
CONFLICT = "conflict"

EMPLOYEE_WRITABLE = [
    "name",
    "name_initials",
    "department",
    "supervisor",
    "attendance_group",
    "email",
    "phone",
    "hire_date",
    "leave_date",
    "active",
]


def pinyin_initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()[:24]


def _require(actor: Any, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDeniedError()


def _validation_error(exc: ValidationError) -> DomainError:
    details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return DomainError(VALIDATION_ERROR, _("The data is not valid."), details=details)


def _resolve(model, lookup: str, value: Any, code: str, message: Any, *, field: str):
    """The referenced object, or a refusal naming the input `field` and its value."""
    if value in (None, ""):
        return None
    found = model.objects.filter(**{lookup: value}).first()
    if found is None:
        raise DomainError(code, message % {"value": value}, details={field: value})
    return found


def _saved(write) -> Any:
    """Run the writes in a savepoint; a concurrent create of the same key becomes a 409."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        raise DomainError(
            CONFLICT,
            _("The data was changed at the same time by someone else; please try again."),
            status=409,
        ) from None


# --- departments ----------------------------------------------------------------------------


def _department_state(department: Department) -> dict[str, Any]:
    """What the sync API sets, by natural keys: compared for idempotency, audited."""
    return {
        "code": department.code,
        "name": department.name,
        "parent": department.parent.code if department.parent_id else None,
        "head": department.head.employee_no if department.head_id else None,
        "active": department.active,
    }


def _department_cycle(department: Department, parent: Department | None) -> bool:
    if parent is None or department.pk is None:
        return False
    node: Department | None = parent
    seen: set[int] = set()
    while node is not None and node.pk not in seen:
        if node.pk == department.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


@transaction.atomic
def _check_texts(**values: str | None) -> None:
    """Single-line core.text for every text field (sync API, demo, scripts): `invalid_text`."""
    for field, value in values.items():
        clean_text(value, field=field)


def department_upsert(
    *,
    actor: Any,
    code: str,
    name: str,
    parent_code: str | None = None,
    head_employee_no: str | None = None,
    active: bool = True,
) -> tuple[Department, bool]:
    """Create or update by code; idempotent — an identical call writes nothing.

    Every field is set (a full PUT): an omitted parent or head clears it.
    """
    _require(actor, "org.manage_organisation")
    _check_texts(code=code, name=name, parent=parent_code, head=head_employee_no)
    department = (
        Department.objects.select_for_update(of=("self",))
        .select_related("parent", "head")
        .filter(code=code)
        .first()
    )
    created = department is None
    before = None if created else _department_state(department)
    if created:
        department = Department(code=code)
    if parent_code is not None and parent_code == code:
        raise DomainError(DEPARTMENT_CYCLE, _("A department cannot be its own ancestor."))
    parent = _resolve(
        Department,
        "code",
        parent_code,
        UNKNOWN_DEPARTMENT,
        _("Department “%(value)s” does not exist."),
        field="parent",
    )
    if _department_cycle(department, parent):
        raise DomainError(DEPARTMENT_CYCLE, _("A department cannot be its own ancestor."))
    head = _resolve(
        Employee,
        "employee_no",
        head_employee_no,
        UNKNOWN_HEAD,
        _("Employee “%(value)s” does not exist."),
        field="head",
    )
    department.name = name.strip()
    department.parent = parent
    department.head = head
    department.active = active
    try:
        department.full_clean()
    except ValidationError as exc:
        raise _validation_error(exc) from None
    after = _department_state(department)
    if before == after:
        return department, False
    _saved(department.save)
    record(
        "org.department.create" if created else "org.department.update",
        obj=department,
        actor=actor,
        before=before,
        after=after,
    )
    return department, created


# --- employees ------------------------------------------------------------------------------


def _employee_state(employee: Employee, login: Any) -> dict[str, Any]:
    """The synced fields by natural keys, plus the login they drive."""
    return {
        "employee_no": employee.employee_no,
        "name": employee.name,
        "department": employee.department.code if employee.department_id else None,
        "supervisor": employee.supervisor.employee_no if employee.supervisor_id else None,
        "attendance_group": (
            employee.attendance_group.code if employee.attendance_group_id else None
        ),
        "email": employee.email,
        "phone": employee.phone,
        "hire_date": employee.hire_date.isoformat() if employee.hire_date else None,
        "leave_date": employee.leave_date.isoformat() if employee.leave_date else None,
        "active": employee.active,
        "login": {
            "username": login["username"],
            "active": login["active"],
            "email": login["email"],
            "first_name": login["first_name"],
        },
    }


def _login_of(user: Any) -> dict[str, Any]:
    return {
        "username": user.username,
        "active": user.is_active,
        "email": user.email,
        "first_name": user.first_name,
    }


def _supervisor_cycle(employee: Employee, supervisor: Employee | None) -> bool:
    """Would `supervisor` end up (indirectly) supervised by `employee`?"""
    if supervisor is None:
        return False
    if supervisor.employee_no == employee.employee_no:
        return True
    if employee.pk is None:  # nobody reports to an employee who does not exist yet
        return False
    node_id, seen = supervisor.supervisor_id, {supervisor.pk}
    while node_id is not None and node_id not in seen:
        if node_id == employee.pk:
            return True
        seen.add(node_id)
        node_id = Employee.objects.filter(pk=node_id).values_list("supervisor_id", flat=True)[0]
    return False


def _check_username(login: str, *, exclude_pk: Any = None) -> None:
    try:
        User._meta.get_field("username").run_validators(login)
    except ValidationError as exc:
        raise DomainError(
            VALIDATION_ERROR, _("The data is not valid."), details={"username": exc.messages}
        ) from None
    if User.objects.filter(username=login).exclude(pk=exclude_pk).exists():
        raise DomainError(
            USERNAME_TAKEN,
            _("The user name “%(name)s” is taken.") % {"name": login},
            details={"username": login},
        )


@transaction.atomic
def employee_upsert(
    *,
    actor: Any,
    employee_no: str,
    name: str,
    department_code: str | None = None,
    supervisor_no: str | None = None,
    attendance_group_code: str | None = None,
    email: str = "",
    phone: str = "",
    hire_date: date | None = None,
    leave_date: date | None = None,
    active: bool = True,
    username: str | None = None,
) -> tuple[Employee, bool]:
    """Create or update an employee and their login; idempotent. Deactivation, never deletion.

    A full PUT: every field is set (omitted references are cleared), except `username`,
    which keeps the current login when omitted (a new employee's login defaults to the
    employee number). `active=False` deactivates the login too; `active=True` restores it.
    """
    _require(actor, "org.manage_organisation")
    _check_texts(
        employee_no=employee_no,
        name=name,
        department=department_code,
        supervisor=supervisor_no,
        attendance_group=attendance_group_code,
        email=email,
        phone=phone,
        username=username,
    )
    employee = (
        Employee.objects.select_for_update(of=("self",))
        .select_related("user", "department", "supervisor", "attendance_group")
        .filter(employee_no=employee_no)
        .first()
    )
    created = employee is None
    if created:
        employee = Employee(employee_no=employee_no)
        before, old_login = None, None
    else:
        old_login = _login_of(employee.user)
        before = _employee_state(employee, old_login)

    department = _resolve(
        Department,
        "code",
        department_code,
        UNKNOWN_DEPARTMENT,
        _("Department “%(value)s” does not exist."),
        field="department",
    )
    if supervisor_no is not None and supervisor_no == employee_no:
        raise DomainError(SUPERVISOR_CYCLE, _("An employee cannot supervise themselves."))
    supervisor = _resolve(
        Employee,
        "employee_no",
        supervisor_no,
        UNKNOWN_SUPERVISOR,
        _("Supervisor “%(value)s” does not exist."),
        field="supervisor",
    )
    if _supervisor_cycle(employee, supervisor):
        raise DomainError(
            SUPERVISOR_CYCLE,
            _("%(supervisor)s already reports (indirectly) to this employee.")
            % {"supervisor": supervisor_no},
        )
    group = _resolve(
        AttendanceGroup,
        "code",
        attendance_group_code,
        UNKNOWN_ATTENDANCE_GROUP,
        _("Attendance group “%(value)s” does not exist."),
        field="attendance_group",
    )
    if group is not None and group.pk != employee.attendance_group_id:
        check_can_join(group, field_name="attendance_group")
    if hire_date and leave_date and leave_date < hire_date:
        raise DomainError(LEAVE_BEFORE_HIRE, _("The leave date is before the hire date."))

    name, email, phone = name.strip(), email.strip(), phone.strip()
    login_name = username or (old_login["username"] if old_login else employee_no)
    if old_login is None or login_name != old_login["username"]:
        _check_username(login_name, exclude_pk=None if created else employee.user_id)

    employee.name = name
    employee.name_initials = pinyin_initials(name)
    employee.department = department
    employee.supervisor = supervisor
    employee.attendance_group = group
    employee.email = email
    employee.phone = phone
    employee.hire_date = hire_date
    employee.leave_date = leave_date
    employee.active = active
    try:
        employee.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise _validation_error(exc) from None
    new_login = {"username": login_name, "active": active, "email": email, "first_name": name}
    after = _employee_state(employee, new_login)
    if before == after:
        return employee, False

    def write() -> None:
        if created:
            user = User(username=login_name, email=email, first_name=name, is_active=active)
            user.set_unusable_password()
            user.save()
            employee.user = user
            employee.save()
            return
        employee.save(update_fields=EMPLOYEE_WRITABLE)
        if new_login != old_login:
            user = employee.user
            user.username, user.is_active = login_name, active
            user.email, user.first_name = email, name
            user.save(update_fields=["username", "is_active", "email", "first_name"])

    _saved(write)
    if created:
        action = "org.employee.create"
    elif before["active"] and not active:
        action = "org.employee.deactivate"
    elif not before["active"] and active:
        action = "org.employee.reactivate"
    else:
        action = "org.employee.update"
    record(action, obj=employee, actor=actor, before=before, after=after)
    return employee, created


@transaction.atomic
def employee_deactivate(*, actor: Any, employee: Employee, leave_date: date | None = None) -> None:
    _require(actor, "org.manage_organisation")
    before = snapshot(employee, ["active", "leave_date"])
    employee.active = False
    employee.leave_date = leave_date or employee.leave_date
    employee.save(update_fields=["active", "leave_date"])
    employee.user.is_active = False
    employee.user.save(update_fields=["is_active"])
    record(
        "org.employee.deactivate",
        obj=employee,
        actor=actor,
        before=before,
        after=snapshot(employee, ["active", "leave_date"]),
    )
