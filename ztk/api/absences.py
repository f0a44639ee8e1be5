"""Leave (请假), outings (外出) and business trips (出差) over the API: thin handlers over
``leave.absence_services``; the balances and their ledger.

A refusal is HTTP 422 `{code, message, details}` with a stable code —
`insufficient_balance` (details: balance, requested), `overlaps_existing`,
`notice_too_short`, `period_closed`, `attachment_required`, `no_working_time`,
`bad_range`, `bad_type`, `not_pending`, `not_approved`. A request the caller may not see
answers 404, one they may see but not decide 403.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, File, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile

from ztk.core.errors import DomainError
from ztk.core.parse import MAX_ID
from ztk.leave import absence_services as services
from ztk.leave import selectors
from ztk.leave.models import AbsenceRequest, LeaveType
from ztk.leave.rules import may_file_for, may_see_employee
from ztk.org.models import Employee
from ztk.org.selectors import employee_for

from .pagination import Page, PageParams, paginate
from .schemas import CODE_PATTERN, ErrorOut, Multiline, MultilineForm, Text

router = Router(tags=["absences"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ID_PATH = "/absences/{int:absence_id}"
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="Absence request id.")]
Date = date


class SubmitIn(Schema):
    employee: str | None = Text(
        None, max_length=24, description="Employee number; default: the caller."
    )
    kind: Literal["leave", "outing", "trip"]
    type: str | None = Field(
        None, pattern=CODE_PATTERN, description="Leave type code (leave only), e.g. `annual`."
    )
    start_date: date | None = None
    end_date: date | None = None
    start_part: Literal["full", "am", "pm"] = "full"
    end_part: Literal["full", "am", "pm"] = "full"
    start_at: datetime | None = Field(None, description="Hours: the start (with an offset).")
    end_at: datetime | None = Field(None, description="Hours: the end (with an offset).")
    destination: str = Text("", max_length=120)
    purpose: str = Multiline("", max_length=300)
    reason: str = Multiline("", max_length=500)


class PersonOut(Schema):
    employee_no: str
    name: str


class StepOut(Schema):
    position: int
    kind: str
    approvers: list[int]
    names: list[str] = []
    skipped: bool
    fallback: bool = False


class AbsenceOut(Schema):
    id: int
    employee: PersonOut
    applicant: str
    on_behalf: bool
    kind: str
    type: str | None
    type_name: str | None
    unit: str | None
    start_date: Date
    end_date: Date
    start_part: str
    end_part: str
    start_at: datetime | None
    end_at: datetime | None
    amount: Decimal
    covered: list[list[str]]
    destination: str
    purpose: str
    reason: str
    status: str
    current_step: int | None
    chain: list[StepOut]
    cancels: int | None
    decided_at: datetime | None
    created_at: datetime


class ActionOut(Schema):
    at: datetime
    step: int | None
    action: str
    actor: str | None
    comment: str


class AbsenceDetailOut(AbsenceOut):
    actions: list[ActionOut]
    cancellations: list[int]


class ListQuery(PageParams):
    scope: str = Field("mine", pattern="^(mine|to_approve|all)$")
    employee: str | None = Text(None, max_length=24)
    status: Literal["pending", "approved", "rejected", "withdrawn", "cancelled"] | None = None
    kind: Literal["leave", "outing", "trip"] | None = None


class ApproveIn(Schema):
    comment: str = Multiline("", max_length=1000)


class RejectIn(Schema):
    reason: str = Multiline(..., max_length=1000)


class CancelIn(Schema):
    reason: str = Multiline("", max_length=500)


class AbsencePage(Page):
    items: list[AbsenceOut]


def _label(user) -> str | None:
    if user is None:
        return None
    employee = getattr(user, "employee", None)
    return employee.name if employee is not None else user.get_username()


def absence_out(req: AbsenceRequest) -> dict[str, Any]:
    t = req.leave_type
    return {
        "id": req.pk,
        "employee": {"employee_no": req.employee.employee_no, "name": req.employee.name},
        "applicant": _label(req.applicant) or "",
        "on_behalf": req.on_behalf,
        "kind": req.kind,
        "type": t.code if t else None,
        "type_name": t.name if t else None,
        "unit": t.unit if t else None,
        "start_date": req.start_date,
        "end_date": req.end_date,
        "start_part": req.start_part,
        "end_part": req.end_part,
        "start_at": req.start_at,
        "end_at": req.end_at,
        "amount": req.amount,
        "covered": req.intervals,
        "destination": req.destination,
        "purpose": req.purpose,
        "reason": req.reason,
        "status": req.status,
        "current_step": req.current_step,
        "chain": req.chain,
        "cancels": req.cancels_id,
        "decided_at": req.decided_at,
        "created_at": req.created_at,
    }


def detail_out(req: AbsenceRequest) -> dict[str, Any]:
    return {
        **absence_out(req),
        "actions": [
            {
                "at": a.at,
                "step": a.step,
                "action": a.action,
                "actor": _label(a.actor),
                "comment": a.comment,
            }
            for a in req.actions.all()
        ],  # fmt: skip
        "cancellations": [c.pk for c in req.cancellations.all()],
    }


def _type(code: str | None) -> LeaveType | None:
    if not code:
        return None
    found = LeaveType.objects.filter(code=code, active=True).first()
    if found is None:
        raise DomainError("bad_type", "Unknown or inactive leave type.")
    return found


def _submit(user, data: SubmitIn, files: list[Any]) -> AbsenceRequest:
    employee: Employee = employee_for(user, data.employee, may=may_file_for)
    start = data.start_date or (data.start_at.date() if data.start_at else None)
    if start is None:
        raise DomainError("bad_range", "Give start_date, or start_at and end_at.")
    return services.absence_submit(
        actor=user,
        employee=employee,
        kind=data.kind,
        leave_type=_type(data.type),
        start_date=start,
        end_date=data.end_date or start,
        start_part=data.start_part,
        end_part=data.end_part,
        start_at=data.start_at,
        end_at=data.end_at,
        destination=data.destination,
        purpose=data.purpose,
        reason=data.reason,
        attachments=files,
        channel="api",
    )


def _get(user, absence_id: int) -> AbsenceRequest:
    return selectors.absence_get(user, absence_id)


@router.post(
    "/absences",
    response={201: AbsenceOut, **ERRORS},
    summary="Request leave, an outing or a business trip",
)
def submit(request, payload: SubmitIn):
    return Status(201, absence_out(_submit(request.auth, payload, [])))


@router.post(
    "/absences/multipart",
    response={201: AbsenceOut, **ERRORS},
    summary="Request with proof files: `payload` (the JSON body of POST /absences) + `files`",
)
def submit_with_files(
    request,
    payload: str = MultilineForm(max_length=20_000, description="the JSON of POST /absences"),
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
):
    try:
        data = SubmitIn.model_validate_json(payload)
    except ValueError as error:
        raise DomainError(
            "validation_error", "payload is not a valid request", details=str(error)[:2000]
        ) from None
    return Status(201, absence_out(_submit(request.auth, data, list(files or []))))


@router.get(
    "/absences",
    response={200: AbsencePage, **ERRORS},
    summary="Absence requests: mine, waiting for me, or all I may see",
)
def list_absences(request, q: Query[ListQuery]):
    rows = selectors.absences_for(
        request.auth, scope=q.scope, employee=q.employee, status=q.status, kind=q.kind
    )
    return paginate(request, rows, q, absence_out)


@router.get(ID_PATH, response={200: AbsenceDetailOut, **ERRORS}, summary="One request")
def get_absence(request, absence_id: PathId):
    return detail_out(_get(request.auth, absence_id))


@router.post(f"{ID_PATH}/withdraw", response={200: AbsenceOut, **ERRORS}, summary="Withdraw")
def withdraw(request, absence_id: PathId):
    req = services.absence_withdraw(actor=request.auth, request=_get(request.auth, absence_id))
    return absence_out(req)


@router.post(f"{ID_PATH}/approve", response={200: AbsenceOut, **ERRORS}, summary="Approve")
def approve(request, absence_id: PathId, payload: ApproveIn):
    req = services.absence_approve(
        actor=request.auth, request=_get(request.auth, absence_id), comment=payload.comment
    )
    return absence_out(req)


@router.post(f"{ID_PATH}/reject", response={200: AbsenceOut, **ERRORS}, summary="Reject")
def reject(request, absence_id: PathId, payload: RejectIn):
    req = services.absence_reject(
        actor=request.auth, request=_get(request.auth, absence_id), reason=payload.reason
    )
    return absence_out(req)


@router.post(
    f"{ID_PATH}/cancel",
    response={201: AbsenceOut, **ERRORS},
    summary="Ask to cancel an approved request (销假/撤销); answers the cancellation request",
)
def cancel(request, absence_id: PathId, payload: CancelIn):
    req = services.absence_cancel(
        actor=request.auth, request=_get(request.auth, absence_id), reason=payload.reason
    )
    return Status(201, absence_out(req))


# --------------------------------------------------------------------------- balances


class BalancesQuery(Schema):
    employee: str | None = Text(None, max_length=24, description="Default: the caller.")


class EntryOut(Schema):
    effective: Date
    kind: str
    amount: Decimal
    balance_after: Decimal
    source: str
    note: str


class BalanceOut(Schema):
    type: str
    name: str
    unit: str
    balance: Decimal
    allow_negative: bool
    ledger: list[EntryOut]


class BalancesOut(Schema):
    employee: PersonOut
    balances: list[BalanceOut]


@router.get(
    "/balances",
    response={200: BalancesOut, **ERRORS},
    summary="Leave balances (annual, 调休 …) of one employee, with every ledger movement",
)
def balances(request, q: Query[BalancesQuery]):
    employee = employee_for(request.auth, q.employee, may=may_see_employee)
    entries: dict[int, list[dict[str, Any]]] = {}
    for e in selectors.ledger_of(employee):
        entries.setdefault(e.leave_type_id, []).append(
            {"effective": e.effective, "kind": e.kind, "amount": e.amount,
             "balance_after": e.balance_after, "source": e.source, "note": e.note}
        )  # fmt: skip
    return {
        "employee": {"employee_no": employee.employee_no, "name": employee.name},
        "balances": [
            {
                "type": t.code,
                "name": t.name,
                "unit": t.unit,
                "balance": value,
                "allow_negative": t.allow_negative,
                "ledger": entries.get(t.pk, []),
            }
            for t, value in selectors.balances_for(employee)
        ],  # fmt: skip
    }
