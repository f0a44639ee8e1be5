"""Who may see an overtime request, file one, and act on its current step."""

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

from .models import OvertimeRequest, Status


def _signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_participant(user: Any, request: OvertimeRequest) -> bool:
    """The employee or the person who filed it."""
    if not _signed_in(user):
        return False
    return bool(user.pk == request.applicant_id or user.pk == request.employee.user_id)


def may_act(user: Any, request: OvertimeRequest, day: date | None = None) -> bool:
    """The current step's approvers (or whoever holds the step's role now, or a delegate
    of an approver); never the employee or the applicant."""
    if request.status != Status.PENDING or request.current_step is None:
        return False
    if not _signed_in(user) or not user.is_active or is_participant(user, request):
        return False
    step = request.step()
    approvers = set(step.get("approvers", [])) if step else set()
    return may_decide(user, request.current_kind, approvers, day)


def may_view(user: Any, request: OvertimeRequest) -> bool:
    if not _signed_in(user):
        return False
    if is_participant(user, request) or is_hr(user) or is_sysadmin(user):
        return True
    employee = request.employee
    if is_supervisor_of(user, employee) or is_department_head_of(user, employee):
        return True
    named = {uid for step in request.chain for uid in step.get("approvers", [])}
    return user.pk in named or may_act(user, request)


def may_file_for(user: Any, employee: Any) -> bool:
    """Themselves, or on the employee's behalf: HR, the supervisor, a department head."""
    if not _signed_in(user) or employee is None:
        return False
    me = employee_of(user)
    if me is not None and me.pk == employee.pk:
        return True
    return bool(
        is_hr(user) or is_supervisor_of(user, employee) or is_department_head_of(user, employee)
    )


def may_cancel(user: Any, request: OvertimeRequest) -> bool:
    """Asking to cancel an approved request (撤销): whoever may file for the employee (the
    employee, or HR, the supervisor or a department head on their behalf); the
    cancellation is itself approved on the group's chain."""
    return may_file_for(user, request.employee)


def may_edit_policy(user: Any) -> bool:
    return _signed_in(user) and bool(is_hr(user) or is_sysadmin(user))
