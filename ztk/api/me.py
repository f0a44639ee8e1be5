"""Who am I: the caller's employee profile and roles (any authenticated user)."""

from __future__ import annotations

from datetime import date

from ninja import Field, Router, Schema

from ztk.org import rules as org_rules
from ztk.org import selectors

router = Router(tags=["me"])

ROLES = ("employee", "supervisor", "department_head", "hr", "sysadmin", "auditor")


class MeOut(Schema):
    username: str
    employee_no: str | None = Field(..., description="null for accounts without an employee")
    name: str | None
    department: str | None = Field(..., description="department code")
    department_name: str | None
    supervisor: str | None = Field(..., description="the supervisor's employee number")
    attendance_group: str | None = Field(..., description="attendance group code")
    hire_date: date | None
    roles: list[str] = Field(..., description=f"some of: {', '.join(ROLES)}")


def roles_of(user, employee) -> list[str]:
    held = {
        "employee": employee is not None,
        "supervisor": employee is not None and employee.reports.filter(active=True).exists(),
        "department_head": employee is not None and employee.headed_departments.exists(),
        "hr": org_rules.is_hr(user),
        "sysadmin": org_rules.is_sysadmin(user),
        "auditor": org_rules.is_auditor(user),
    }
    return [role for role in ROLES if held[role]]


@router.get("/me", response={200: MeOut}, summary="The caller's profile and roles")
def me_get(request):
    user = request.auth
    employee = selectors.employee_profile(user)
    department = employee.department if employee and employee.department_id else None
    return {
        "username": user.get_username(),
        "employee_no": employee.employee_no if employee else None,
        "name": employee.name if employee else (user.get_full_name() or None),
        "department": department.code if department else None,
        "department_name": department.name if department else None,
        "supervisor": employee.supervisor.employee_no if employee and employee.supervisor else None,
        "attendance_group": (
            employee.attendance_group.code if employee and employee.attendance_group else None
        ),
        "hire_date": employee.hire_date if employee else None,
        "roles": roles_of(user, employee),
    }
