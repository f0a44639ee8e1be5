"""Who may see an absence request, act on its current step, or file one for someone."""

from __future__ import annotations

from datetime import date
from typing import Any

from ztk.approvals.rules import may_decide
from ztk.org.rules import (
    employee_of,
    is_department_head_of,
    is_hr,
    is_supervisor_of,
    is_sysadmin,
)

from .models import AbsenceRequest, Status


def is_participant(user: Any, request: AbsenceRequest) -> bool:
    """The employee or the person who filed it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.pk == request.applicant_id or user.pk == request.employee.user_id


def may_act(user: Any, request: AbsenceRequest, day: date | None = None) -> bool:
    """May `user` approve or reject the request's current step? (The approval
    machinery's rule: the step's approvers, role holders, delegates; never a participant.)"""
    if request.status != Status.PENDING or request.current_step is None:
        return False
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_participant(user, request):
        return False
    step = request.step()
    approvers = set(step.get("approvers", [])) if step else set()
    return may_decide(user, request.current_kind, approvers, day)


def may_see_employee(user: Any, employee: Any) -> bool:
    """The employee, their supervisor and department heads, HR and system admins."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    me = employee_of(user)
    if me is not None and employee is not None and me.pk == employee.pk:
        return True
    return bool(
        is_hr(user)
        or is_sysadmin(user)
        or is_supervisor_of(user, employee)
        or is_department_head_of(user, employee)
    )


def may_view(user: Any, request: AbsenceRequest) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_participant(user, request) or may_see_employee(user, request.employee):
        return True
    named = {uid for step in request.chain for uid in step.get("approvers", [])}
    if user.pk in named:
        return True
    if request.actions.filter(actor=user).exists():
        return True
    return may_act(user, request)


def may_file_for(user: Any, employee: Any) -> bool:
    """Themselves; or on the employee's behalf: HR, the supervisor, a department head."""
    me = employee_of(user)
    if me is not None and employee is not None and me.pk == employee.pk:
        return True
    return bool(
        is_hr(user) or is_supervisor_of(user, employee) or is_department_head_of(user, employee)
    )
