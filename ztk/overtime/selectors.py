"""Reads of the overtime flow: the recompute's inputs, lists for pages and the API."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet

from ztk import engine
from ztk.approvals.rules import waiting_q
from ztk.attendance.overtime_inputs import OvertimeInputs
from ztk.org.rules import is_hr, is_sysadmin

from .models import OvertimePolicy, OvertimeRequest, Status


def _engine_policy(row: OvertimePolicy) -> engine.OvertimePolicy:
    return engine.OvertimePolicy(
        min_block_minutes=row.min_block_minutes,
        unit_minutes=row.unit_minutes,
        needs_request=row.needs_request,
    )


def overtime_inputs(
    employee_ids: Collection[int], group_ids: Collection[int | None], start: date, end: date
) -> OvertimeInputs:
    """The groups' policies and the approved spans of these employees' dates in [start,
    end]: two queries (registered with ``attendance.overtime_inputs``)."""
    ids = [g for g in group_ids if g is not None]
    policies: dict[int | None, engine.OvertimePolicy] = {}
    if ids:
        for row in OvertimePolicy.objects.filter(group_id__in=ids):
            policies[row.group_id] = _engine_policy(row)
    approved: dict[tuple[int, date], list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = OvertimeRequest.objects.filter(
        status=Status.APPROVED, cancels__isnull=True, date__gte=start, date__lte=end
    ).order_by()
    if len(employee_ids) <= 500:
        rows = rows.filter(employee_id__in=list(employee_ids))
    wanted = set(employee_ids)
    for employee_id, day, begin, finish in rows.values_list("employee_id", "date", "start", "end"):
        if employee_id in wanted:
            approved[(employee_id, day)].append((begin, finish))
    return OvertimeInputs(policies, dict(approved))


def for_employee(employee_id: int) -> QuerySet[OvertimeRequest]:
    return OvertimeRequest.objects.filter(employee_id=employee_id).select_related("employee")


def visible_to(user: Any) -> QuerySet[OvertimeRequest]:
    """What a user may list: HR and system admins everything; others their own, the ones
    they filed, and those of their reports and their departments, plus the ones they may
    decide now."""
    qs = OvertimeRequest.objects.select_related("employee", "employee__department")
    if is_hr(user) or is_sysadmin(user):
        return qs
    mine = Q(employee__user=user) | Q(applicant=user) | Q(current_approvers=user)
    mine |= Q(employee__supervisor__user=user) | Q(employee__department__head__user=user)
    return qs.filter(mine).distinct()


def to_decide_q(user: Any) -> QuerySet[OvertimeRequest]:
    """Pending requests the user may decide now, as one query (the approvals machinery's
    ``waiting_q``: approvers, role holders, delegates; never the employee or applicant),
    longest waiting first."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return OvertimeRequest.objects.none()
    ids = OvertimeRequest.objects.filter(status=Status.PENDING, current_step__isnull=False)
    ids = ids.filter(waiting_q(user)).exclude(Q(employee__user=user) | Q(applicant=user))
    return (
        OvertimeRequest.objects.filter(pk__in=ids.values("pk"))
        .select_related(
            "employee__user",
            "employee__department",
            "employee__attendance_group",
            "applicant",
        )
        .order_by("step_started_at", "pk")
    )


def to_decide(user: Any) -> list[OvertimeRequest]:
    """Pending requests the user may decide now (the overtime queue page, the API)."""
    return list(to_decide_q(user)[:200])


def mine(user: Any) -> QuerySet[OvertimeRequest]:
    """The user's own requests and the ones they filed."""
    return OvertimeRequest.objects.select_related("employee").filter(
        Q(employee__user=user) | Q(applicant=user)
    )
