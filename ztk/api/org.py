"""Employee and department sync for other HR systems (HR or system-admin keys only)."""

from __future__ import annotations

from datetime import date

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from ztk.core.errors import PermissionDeniedError
from ztk.org import selectors, services
from ztk.org.models import Department, Employee

from .schemas import ErrorOut

router = Router(tags=["organisation"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

EmployeeNo = Field(..., pattern=r"^[0-9A-Za-z]{1,24}$")


def require_sync(request) -> None:
    if not request.auth.has_perm("org.sync_api"):
        raise PermissionDeniedError()


class EmployeeIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    department: str | None = Field(None, max_length=32, description="department code")
    supervisor: str | None = Field(None, max_length=24, description="supervisor's employee number")
    attendance_group: str | None = Field(None, max_length=32, description="attendance group code")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    hire_date: date | None = None
    leave_date: date | None = None
    active: bool = True
    username: str | None = Field(
        None, min_length=1, max_length=150, description="login, on create only"
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

    @staticmethod
    def from_model(e: Employee) -> dict:
        return {
            "employee_no": e.employee_no,
            "name": e.name,
            "department": e.department.code if e.department_id else None,
            "supervisor": e.supervisor.employee_no if e.supervisor_id else None,
            "attendance_group": e.attendance_group.code if e.attendance_group_id else None,
            "email": e.email,
            "phone": e.phone,
            "hire_date": e.hire_date,
            "leave_date": e.leave_date,
            "active": e.active,
        }


class DepartmentIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    parent: str | None = Field(None, max_length=32, description="parent department code")
    head: str | None = Field(None, max_length=24, description="head's employee number")
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
            "parent": d.parent.code if d.parent_id else None,
            "head": d.head.employee_no if d.head_id else None,
            "active": d.active,
        }


class EmployeeFilter(Schema):
    search: str = ""
    department: str = ""
    active: bool | None = None
    offset: int = Field(0, ge=0)
    limit: int = Field(100, ge=1, le=1000)


class EmployeePage(Schema):
    count: int
    items: list[EmployeeOut]


@router.get("/employees", response={200: EmployeePage, **ERRORS}, summary="List employees")
def list_employees(request, filters: Query[EmployeeFilter]):
    require_sync(request)
    qs = selectors.employee_list(
        search=filters.search, department=filters.department, active=filters.active
    )
    qs = qs.select_related("supervisor")
    page = qs[filters.offset : filters.offset + filters.limit]
    return {"count": qs.count(), "items": [EmployeeOut.from_model(e) for e in page]}


@router.get(
    "/employees/{employee_no}", response={200: EmployeeOut, **ERRORS}, summary="One employee"
)
def get_employee(request, employee_no: str):
    require_sync(request)
    employee = get_object_or_404(
        Employee.objects.select_related("department", "supervisor", "attendance_group"),
        employee_no=employee_no,
    )
    return EmployeeOut.from_model(employee)


@router.put(
    "/employees/{employee_no}",
    response={200: EmployeeOut, 201: EmployeeOut, **ERRORS},
    summary="Create or update an employee (idempotent)",
)
def put_employee(request, employee_no: str, payload: EmployeeIn, response: HttpResponse):
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
    return (201 if created else 200), EmployeeOut.from_model(employee)


@router.get(
    "/departments", response={200: list[DepartmentOut], **ERRORS}, summary="List departments"
)
def list_departments(request):
    require_sync(request)
    return [DepartmentOut.from_model(d) for d in selectors.department_list()]


@router.get(
    "/departments/{code}", response={200: DepartmentOut, **ERRORS}, summary="One department"
)
def get_department(request, code: str):
    require_sync(request)
    return DepartmentOut.from_model(get_object_or_404(selectors.department_list(), code=code))


@router.put(
    "/departments/{code}",
    response={200: DepartmentOut, 201: DepartmentOut, **ERRORS},
    summary="Create or update a department (idempotent)",
)
def put_department(request, code: str, payload: DepartmentIn):
    require_sync(request)
    department, created = services.department_upsert(
        actor=request.auth,
        code=code,
        name=payload.name,
        parent_code=payload.parent,
        head_employee_no=payload.head,
        active=payload.active,
    )
    return (201 if created else 200), DepartmentOut.from_model(department)
