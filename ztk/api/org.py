"""Employee and department sync for other HR systems (HR or system-admin keys only).

`PUT` is a full create-or-update by natural key (employee number, department code):
201 on create, 200 on update, and a repeated identical PUT changes nothing and writes no
audit event. There is no DELETE: people and departments are deactivated (`active:
false`), which for an employee also disables their login.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from ztk.core.errors import NotFoundError, PermissionDeniedError
from ztk.org import selectors, services
from ztk.org.models import Department, Employee

from .pagination import Page, PageParams, paginate
from .schemas import CODE_PATTERN, Text

router = Router(tags=["organisation"])

EMPLOYEE_NO_PATTERN = r"^[0-9A-Za-z]{1,24}$"


def EmployeeNo():  # noqa: N802
    return Path(
        ...,
        pattern=EMPLOYEE_NO_PATTERN,
        description="employee number (letters/digits)",
        example="1001",
    )


def DepartmentCode():  # noqa: N802
    return Path(
        ...,
        pattern=CODE_PATTERN,
        description="department code (letters, digits, _.-)",
        example="RD",
    )


def require_sync(request: HttpRequest) -> None:
    # django-ninja sets request.auth (the authenticated user) before the handler runs.
    if not request.auth.has_perm("org.sync_api"):  # type: ignore[attr-defined]
        raise PermissionDeniedError()


# --- employees ------------------------------------------------------------------------------


class EmployeeIn(Schema):
    name: str = Text(..., min_length=1, max_length=60)
    department: str | None = Field(
        None, pattern=CODE_PATTERN, description="department code; null: none"
    )
    supervisor: str | None = Field(
        None, pattern=EMPLOYEE_NO_PATTERN, description="the supervisor's employee number"
    )
    attendance_group: str | None = Field(
        None, pattern=CODE_PATTERN, description="attendance group code"
    )
    email: str = Text("", max_length=254)
    phone: str = Text("", max_length=32)
    hire_date: date | None = None
    leave_date: date | None = None
    active: bool = Field(True, description="false deactivates the employee and their login")
    username: str | None = Text(
        None,
        min_length=1,
        max_length=150,
        description="login name; default on create: the employee number; omitted: unchanged",
    )


class EmployeeOut(Schema):
    employee_no: str
    name: str
    department: str | None
    supervisor: str | None
    attendance_group: str | None
    email: str
    phone: str
    hire_date: date | None
    leave_date: date | None
    active: bool
    username: str

    @staticmethod
    def from_model(e: Employee) -> dict:
        return {
            "employee_no": e.employee_no,
            "name": e.name,
            "department": e.department.code if e.department else None,
            "supervisor": e.supervisor.employee_no if e.supervisor else None,
            "attendance_group": e.attendance_group.code if e.attendance_group else None,
            "email": e.email,
            "phone": e.phone,
            "hire_date": e.hire_date,
            "leave_date": e.leave_date,
            "active": e.active,
            "username": e.user.get_username(),
        }


class EmployeeFilter(PageParams):
    search: str = Text("", max_length=60, description="name, number or pinyin initials")
    department: str | None = Field(None, pattern=CODE_PATTERN, description="department code")
    supervisor: str = Text("", max_length=24, description="the supervisor's employee number")
    attendance_group: str | None = Field(
        None, pattern=CODE_PATTERN, description="attendance group code"
    )
    active: bool | None = None


class EmployeePage(Page):
    items: list[EmployeeOut]


@router.get("/employees", response={200: EmployeePage}, summary="List employees")
def employee_list(request, filters: Query[EmployeeFilter]):
    require_sync(request)
    qs = selectors.employee_list(
        search=filters.search,
        department=filters.department or "",
        supervisor=filters.supervisor,
        attendance_group=filters.attendance_group or "",
        active=filters.active,
    )
    return paginate(request, qs, filters, EmployeeOut.from_model)


@router.get("/employees/{employee_no}", response={200: EmployeeOut}, summary="One employee")
def employee_get(request, employee_no: str = EmployeeNo()):
    require_sync(request)
    return EmployeeOut.from_model(selectors.employee_for(request.auth, employee_no))


@router.put(
    "/employees/{employee_no}",
    response={200: EmployeeOut, 201: EmployeeOut},
    summary="Create or update an employee (idempotent; active=false deactivates)",
)
def employee_put(request, payload: EmployeeIn, employee_no: str = EmployeeNo()):
    require_sync(request)
    employee, created = services.employee_upsert(
        actor=request.auth,
        employee_no=employee_no,
        name=payload.name,
        department_code=payload.department,
        supervisor_no=payload.supervisor,
        attendance_group_code=payload.attendance_group,
        email=payload.email,
        phone=payload.phone,
        hire_date=payload.hire_date,
        leave_date=payload.leave_date,
        active=payload.active,
        username=payload.username,
    )
    return Status(201 if created else 200, EmployeeOut.from_model(employee))


# --- departments ----------------------------------------------------------------------------


class DepartmentIn(Schema):
    name: str = Text(..., min_length=1, max_length=120)
    parent: str | None = Field(None, pattern=CODE_PATTERN, description="parent department code")
    head: str | None = Field(
        None, pattern=EMPLOYEE_NO_PATTERN, description="the head's employee number"
    )
    active: bool = True


class DepartmentOut(Schema):
    code: str
    name: str
    parent: str | None
    head: str | None
    active: bool

    @staticmethod
    def from_model(d: Department) -> dict:
        return {
            "code": d.code,
            "name": d.name,
            "parent": d.parent.code if d.parent else None,
            "head": d.head.employee_no if d.head else None,
            "active": d.active,
        }


class DepartmentFilter(PageParams):
    search: str = Text("", max_length=120, description="code or name")
    parent: str | None = Field(None, pattern=CODE_PATTERN, description="parent department code")
    active: bool | None = None


class DepartmentPage(Page):
    items: list[DepartmentOut]


@router.get("/departments", response={200: DepartmentPage}, summary="List departments")
def department_list(request, filters: Query[DepartmentFilter]):
    require_sync(request)
    qs = selectors.department_list(
        search=filters.search, parent=filters.parent or "", active=filters.active
    )
    return paginate(request, qs, filters, DepartmentOut.from_model)


@router.get("/departments/{code}", response={200: DepartmentOut}, summary="One department")
def department_get(request, code: str = DepartmentCode()):
    require_sync(request)
    department = selectors.department_get(code=code)
    if department is None:
        raise NotFoundError()
    return DepartmentOut.from_model(department)


@router.put(
    "/departments/{code}",
    response={200: DepartmentOut, 201: DepartmentOut},
    summary="Create or update a department (idempotent; active=false deactivates)",
)
def department_put(request, payload: DepartmentIn, code: str = DepartmentCode()):
    require_sync(request)
    department, created = services.department_upsert(
        actor=request.auth,
        code=code,
        name=payload.name,
        parent_code=payload.parent,
        head_employee_no=payload.head,
        active=payload.active,
    )
    return Status(201 if created else 200, DepartmentOut.from_model(department))
