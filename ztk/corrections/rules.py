"""Who may see a correction request and who may act on its current step."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q

from ztk.approvals.rules import may_decide
from ztk.org.rules import (
    employee_of,
    is_department_head_of,
    is_hr,
    is_supervisor_of,
    is_sysadmin,
)

from .models import CorrectionRequest, Status


def _approver_ids(request: CorrectionRequest) -> set[int]:
    step = request.step()
    return set(step.get("approvers", [])) if step else set()


def is_participant(user: Any, request: CorrectionRequest) -> bool:
    """The employee or the person who filed it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.pk == request.applicant_id or user.pk == request.employee.user_id


def may_act(user: Any, request: CorrectionRequest, day: date | None = None) -> bool:
    """May `user` approve, reject or transfer the request's current step?

    The step's resolved approvers — on a role step instead whoever holds the role now: any
    HR admin on an HR step, any superuser on a step that fell back to superusers, either on
    a flagged step (nobody was found: ``routing.OVERSIGHT``) — and anyone a delegation in
    force reaches from one of the approvers. Never the employee or the applicant.
    """
    if request.status != Status.PENDING or request.current_step is None:
        return False
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_participant(user, request):
        return False
    return may_decide(user, request.current_kind, _approver_ids(request), day)


def may_view(user: Any, request: CorrectionRequest) -> bool:
    """The employee, the applicant, HR and system admins, the employee's supervisor and
    department heads, everyone named in the chain or who acted on it, and whoever may act
    on the current step now (a delegate)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_participant(user, request) or is_hr(user) or is_sysadmin(user):
        return True
    employee = request.employee
    if is_supervisor_of(user, employee) or is_department_head_of(user, employee):
        return True
    named = {uid for step in request.chain for uid in step.get("approvers", [])}
    if user.pk in named:
        return True
    if request.actions.filter(Q(to_user=user) | Q(actor=user)).exists():
        return True  # handed the request, or acted on it before (e.g. then transferred it)
    return may_act(user, request)


def may_file_for(user: Any, employee: Any) -> bool:
    """May `user` file a correction for `employee` (themselves, or on their behalf)?"""
    me = employee_of(user)
    if me is not None and employee is not None and me.pk == employee.pk:
        return True
    return bool(
        is_hr(user) or is_supervisor_of(user, employee) or is_department_head_of(user, employee)
    )
