from __future__ import annotations

from datetime import date

from ninja import Router, Schema

from ztk.org import rules as org_rules

from .schemas import ErrorOut

router = Router(tags=["me"])


class MeOut(Schema):
    username: str
    employee_no: str | None
    name: str | None
    department: str | None
    supervisor: str | None
    attendance_group: str | None
    hire_date: date | None
    roles: list[str]


def roles_of(user) -> list[str]:
    checks = [
        ("employee", org_rules.employee_of(user) is not None),
        ("supervisor", org_rules.is_supervisor(user)),
        ("department_head", org_rules.is_department_head(user)),
        ("hr", org_rules.is_hr(user)),
        ("sysadmin", org_rules.is_sysadmin(user)),
        ("auditor", org_rules.is_auditor(user)),
    ]
    return [name for name, held in checks if held]


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="The caller's profile and roles")
def me(request):
    user = request.auth
    employee = org_rules.employee_of(user)
    return {
        "username": user.get_username(),
        "employee_no": employee.employee_no if employee else None,
        "name": employee.name if employee else (user.get_full_name() or None),
        "department": employee.department.code if employee and employee.department_id else None,
        "supervisor": employee.supervisor.employee_no
        if employee and employee.supervisor_id
        else None,
        "attendance_group": (
            employee.attendance_group.code if employee and employee.attendance_group_id else None
        ),
        "hire_date": employee.hire_date if employee else None,
        "roles": roles_of(user),
    }
