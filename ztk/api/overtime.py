"""Overtime requests (加班) over the API: thin handlers over overtime.services.

A refusal is HTTP 422 `{code, message, details}` with a stable code (`bad_span`,
`too_long`, `too_far_ahead`, `reason_required`, `bad_compensation`, `period_closed`,
`overlaps_existing`, `not_pending`; asking to cancel: `not_approved`, `already_cancelling`,
`time_off_used`). A request the caller may not see answers 404, one
they may see but not decide 403.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from ninja import Field, Path, Query, Router, Schema, Status

from ztk.core.errors import DomainError, NotFoundError
from ztk.core.parse import MAX_ID
from ztk.org.models import Employee
from ztk.org.selectors import employee_for
from ztk.overtime import selectors, services
from ztk.overtime.models import Compensation, OvertimeRequest
from ztk.overtime.rules import may_act, may_file_for, may_view

from .pagination import Page, PageParams, paginate
from .schemas import ErrorOut, Multiline, Text

router = Router(tags=["overtime"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ID_PATH = "/overtime/{int:overtime_id}"
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="Overtime request id.")]


class SubmitIn(Schema):
    employee: str | None = Text(
        None, max_length=24, description="Employee number; default: the caller."
    )
    start: datetime = Field(..., description="Start of the overtime, with its offset.")
    end: datetime = Field(..., description="End of the overtime (after the start, ≤ 24 h).")
    reason: str = Multiline(..., max_length=500)
    compensation: Literal["pay", "time_off"] = Field(
        "pay", description="`pay` (paid overtime) or `time_off` (调休 balance)."
    )
    channel: str = Field("api", pattern="^(web|mobile|api)$")


class PersonOut(Schema):
    employee_no: str
    name: str


class OvertimeOut(Schema):
    id: int
    employee: PersonOut
    applicant: str
    on_behalf: bool
    date: date
    start: datetime
    end: datetime
    minutes: int
    kind: str = Field(..., description="weekday (1.5×), rest (2×) or holiday (3×)")
    compensation: str
    reason: str
    status: str
    current_step: int | None
    chain: list[dict[str, Any]]
    decided_at: datetime | None
    created_at: datetime
    credited_minutes: int
    settled_at: datetime | None
    cancels: int | None = Field(
        None, description="On a cancellation (撤销): the approved request it cancels."
    )


class ActionOut(Schema):
    at: datetime
    step: int | None
    action: str
    actor: str | None
    comment: str


class OvertimeDetailOut(OvertimeOut):
    can_act: bool
    counted_minutes: int = Field(..., description="What the day counts now (all requests).")
    actions: list[ActionOut]


class ListQuery(PageParams):
    scope: str = Field("mine", pattern="^(mine|to_approve|all)$")
    employee: str | None = Text(None, max_length=24)
    status: Literal["pending", "approved", "rejected", "withdrawn", "cancelled"] | None = None


class OvertimePage(Page):
    items: list[OvertimeOut]


class ApproveIn(Schema):
    comment: str = Multiline("", max_length=1000)


class ReasonIn(Schema):
    reason: str = Multiline(..., max_length=1000)


def overtime_out(req: OvertimeRequest) -> dict[str, Any]:
    return {
        "id": req.pk,
        "employee": {"employee_no": req.employee.employee_no, "name": req.employee.name},
        "applicant": req.applicant.get_username(),
        "on_behalf": req.on_behalf,
        "date": req.date,
        "start": req.start,
        "end": req.end,
        "minutes": req.minutes,
        "kind": req.kind,
        "compensation": req.compensation,
        "reason": req.reason,
        "status": req.status,
        "current_step": req.current_step,
        "chain": req.chain,
        "decided_at": req.decided_at,
        "created_at": req.created_at,
        "credited_minutes": req.credited_minutes,
        "settled_at": req.settled_at,
        "cancels": req.cancels_id,
    }


def _get(user, overtime_id: int) -> OvertimeRequest:
    req = (
        OvertimeRequest.objects.select_related("employee__user", "applicant")
        .filter(pk=overtime_id)
        .first()
    )
    if req is None or not may_view(user, req):
        raise NotFoundError()
    return req


def _employee(user, employee_no: str | None) -> Employee:
    return employee_for(user, employee_no, may=may_file_for)


@router.post(
    "/overtime",
    response={201: OvertimeOut, **ERRORS},
    summary="Request overtime (before or after the fact)",
)
def submit(request, payload: SubmitIn):
    if payload.compensation not in Compensation.values:  # pragma: no cover - schema
        raise DomainError(services.BAD_COMPENSATION, services.MESSAGES[services.BAD_COMPENSATION])
    employee = _employee(request.auth, payload.employee)
    req = services.overtime_submit(
        actor=request.auth,
        employee=employee,
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
        compensation=payload.compensation,
        channel=payload.channel,
    )
    return Status(201, overtime_out(req))


@router.get(
    "/overtime",
    response={200: OvertimePage, **ERRORS},
    summary="Overtime requests: mine, to approve, or all I may see",
)
def list_overtime(request, q: Query[ListQuery]):
    user = request.auth
    if q.scope == "to_approve":
        rows: list[OvertimeRequest] | QuerySet[OvertimeRequest] = selectors.to_decide(user)
    else:
        qs = selectors.visible_to(user) if q.scope == "all" else selectors.mine(user)
        if q.employee:
            qs = qs.filter(employee=employee_for(user, q.employee))
        if q.status:
            qs = qs.filter(status=q.status)
        rows = qs.select_related("applicant").order_by("-created_at", "-pk")
    return paginate(request, rows, q, overtime_out)


@router.get(ID_PATH, response={200: OvertimeDetailOut, **ERRORS}, summary="One request")
def get_overtime(request, overtime_id: PathId):
    req = _get(request.auth, overtime_id)
    return {
        **overtime_out(req),
        "can_act": may_act(request.auth, req),
        "counted_minutes": services.counted_minutes(req),
        "actions": [
            {
                "at": a.at,
                "step": a.step,
                "action": a.action,
                "actor": a.actor.get_username() if a.actor else None,
                "comment": a.comment,
            }
            for a in req.actions.select_related("actor")
        ],
    }


@router.post(f"{ID_PATH}/approve", response={200: OvertimeOut, **ERRORS}, summary="Approve")
def approve(request, overtime_id: PathId, payload: ApproveIn):
    req = _get(request.auth, overtime_id)
    return overtime_out(
        services.overtime_approve(actor=request.auth, request=req, comment=payload.comment)
    )


@router.post(f"{ID_PATH}/reject", response={200: OvertimeOut, **ERRORS}, summary="Reject")
def reject(request, overtime_id: PathId, payload: ReasonIn):
    req = _get(request.auth, overtime_id)
    return overtime_out(
        services.overtime_reject(actor=request.auth, request=req, reason=payload.reason)
    )


@router.post(f"{ID_PATH}/withdraw", response={200: OvertimeOut, **ERRORS}, summary="Withdraw")
def withdraw(request, overtime_id: PathId):
    req = _get(request.auth, overtime_id)
    return overtime_out(services.overtime_withdraw(actor=request.auth, request=req))


@router.post(
    f"{ID_PATH}/cancel",
    response={201: OvertimeOut, **ERRORS},
    summary="Ask to cancel an approved request (撤销); answers the cancellation request",
)
def cancel(request, overtime_id: PathId, payload: ReasonIn):
    req = services.overtime_cancel(
        actor=request.auth, request=_get(request.auth, overtime_id), reason=payload.reason
    )
    return Status(201, overtime_out(req))
