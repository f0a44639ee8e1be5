"""Writes on the organisation: every one permission-checked, atomic and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin

from ztk.audit.services import record, snapshot
from ztk.core.errors import DomainError, PermissionDeniedError

from .models import AttendanceGroup, Department, Employee

User = get_user_model()

EMPLOYEE_FIELDS = [
    "employee_no",
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
    "user",
]
DEPARTMENT_FIELDS = ["code", "name", "parent", "head", "active"]


def pinyin_initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()[:24]


def _require(actor: Any, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDeniedError()


def _validation_error(exc: ValidationError) -> DomainError:
    details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return DomainError("validation_error", _("The data is not valid."), details=details)


def _resolve(model, field: str, value: Any, code: str):
    if value in (None, ""):
        return None
    try:
        return model.objects.get(**{field: value})
    except model.DoesNotExist:
        raise DomainError(
            code,
            _("%(model)s “%(value)s” does not exist.")
            % {"model": model._meta.verbose_name, "value": value},
        ) from None


@transaction.atomic
def department_upsert(
    *,
    actor: Any,
    code: str,
    name: str,
    parent_code: str | None = None,
    head_employee_no: str | None = None,
    active: bool = True,
) -> tuple[Department, bool]:
    """Create or update by code; idempotent — an identical call writes nothing."""
    _require(actor, "org.manage_organisation")
    department = Department.objects.select_for_update().filter(code=code).first()
    created = department is None
    before = None if created else snapshot(department, DEPARTMENT_FIELDS)
    if created:
        department = Department(code=code)
    department.name = name
    department.parent = _resolve(Department, "code", parent_code, "unknown_department")
    parent = department.parent
    if (
        parent is not None
        and not created
        and (parent.pk == department.pk or department in parent.ancestors())
    ):
        raise DomainError("department_cycle", _("A department cannot be its own ancestor."))
    department.head = _resolve(Employee, "employee_no", head_employee_no, "unknown_employee")
    department.active = active
    try:
        department.full_clean()
    except ValidationError as exc:
        raise _validation_error(exc) from None
    after = snapshot(department, DEPARTMENT_FIELDS)
    if before == after:
        return department, False
    department.save()
    record(
        "org.department.create" if created else "org.department.update",
        obj=department,
        actor=actor,
        before=before,
        after=after,
    )
    return department, created


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
    """Create or update an employee and their login; idempotent. Deactivation, never deletion."""
    _require(actor, "org.manage_organisation")
    employee = (
        Employee.objects.select_for_update().select_related("user").filter(employee_no=employee_no)
    ).first()
    created = employee is None
    before = None if created else snapshot(employee, EMPLOYEE_FIELDS)
    if created:
        login = username or employee_no
        if User.objects.filter(username=login).exists():
            raise DomainError(
                "username_taken", _("The user name “%(name)s” is taken.") % {"name": login}
            )
        user = User(username=login, email=email, is_active=active)
        user.set_unusable_password()
        user.save()
        employee = Employee(employee_no=employee_no, user=user)
    employee.name = name
    employee.name_initials = pinyin_initials(name)
    employee.department = _resolve(Department, "code", department_code, "unknown_department")
    supervisor = _resolve(Employee, "employee_no", supervisor_no, "unknown_supervisor")
    if supervisor is not None and supervisor.employee_no == employee_no:
        raise DomainError("supervisor_cycle", _("An employee cannot supervise themselves."))
    employee.supervisor = supervisor
    employee.attendance_group = _resolve(
        AttendanceGroup, "code", attendance_group_code, "unknown_attendance_group"
    )
    employee.email = email
    employee.phone = phone
    employee.hire_date = hire_date
    employee.leave_date = leave_date
    employee.active = active
    if hire_date and leave_date and leave_date < hire_date:
        raise DomainError("leave_before_hire", _("The leave date is before the hire date."))
    try:
        employee.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise _validation_error(exc) from None
    after = snapshot(employee, EMPLOYEE_FIELDS)
    if before == after:
        return employee, False
    employee.save()
    user = employee.user
    if user.is_active != active or user.email != email or user.first_name != name[:150]:
        user.is_active = active
        user.email = email
        user.first_name = name[:150]
        user.save(update_fields=["is_active", "email", "first_name"])
    record(
        "org.employee.create" if created else "org.employee.update",
        obj=employee,
        actor=actor,
        before=before,
        after=after,
    )
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
