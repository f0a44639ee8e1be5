"""Missed-punch corrections (补卡) over the API: thin handlers over corrections.services.

A refusal is HTTP 422 `{code, message, details}`; for a submission `details` lists every
refusal of every item as `{index, code, message, params}`. A request the caller may not
see answers 404, one they may see but not decide answers 403.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.urls import reverse
from ninja import Field, File, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import field_validator

from ztk.attendance import selectors as day_selectors
from ztk.attendance.explain import render_notes
from ztk.core.errors import DomainError, NotFoundError
from ztk.core.parse import MAX_ID, parse_day
from ztk.corrections import selectors, services
from ztk.corrections.messages import refusal_message
from ztk.corrections.models import CorrectionRequest, ReasonCategory
from ztk.corrections.policy import period_of
from ztk.corrections.rules import may_act, may_file_for
from ztk.engine import slot_to_json
from ztk.org.models import Employee
from ztk.org.selectors import employee_for, user_named
from ztk.reports.summary import parse_period

from .attendance import SlotOut
from .org import require_sync
from .pagination import Page, PageParams, paginate
from .schemas import CODE_PATTERN, ErrorOut, Multiline, MultilineForm, Period, Text

router = Router(tags=["corrections"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ID_PATH = "/corrections/{int:correction_id}"
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="Correction request id.")]


# --------------------------------------------------------------------------- schemas


class ItemSchema(Schema):
    date: date
    slot: str = Text(..., max_length=8, description="Slot key, e.g. `in1` (上班卡), `out1`.")
    requested_time: datetime = Field(
        ..., description="The time to record; without an offset it is the employee's local time."
    )
    category: str = Text(..., max_length=32, description="Reason category code, e.g. `forgot`.")
    reason: str = Multiline(..., max_length=500)
    expedited: bool = False
    justification: str = Multiline("", max_length=500)


class SubmitIn(Schema):
    employee: str | None = Text(
        None, max_length=24, description="Employee number; default: the caller."
    )
    items: list[ItemSchema] = Field(..., min_length=1, max_length=services.MAX_ITEMS)
    channel: str = Field("api", pattern="^(web|mobile|api)$")
    quota_override_reason: str | None = Multiline(
        None, max_length=500, description="HR only: exceed the limit."
    )


class PersonOut(Schema):
    employee_no: str
    name: str


class CategoryOut(Schema):
    code: str
    name: str
    requires_attachment: bool


class StepOut(Schema):
    position: int
    kind: str
    approvers: list[int]
    names: list[str] = []
    skipped: bool
    fallback: bool = False
    fallback_reason: str = ""  # missing | inactive | applicant | away
    fallback_to: str = ""  # hr | superuser | oversight
    deadline_working_days: int | None = None


# The field `date` of CorrectionOut hides the type's name inside the class body.
Date = date


class CorrectionOut(Schema):
    id: int
    employee: PersonOut
    applicant: str
    on_behalf: bool
    date: date
    slot: str
    slot_kind: str
    expected: datetime | None
    requested_time: datetime
    original_requested_time: datetime | None
    category: CategoryOut
    reason: str
    expedited: bool
    expedite_justification: str
    channel: str
    status: str
    current_step: int | None
    chain: list[StepOut]
    resubmission_of: int | None
    period_start: Date
    counts_against_quota: bool
    decided_at: datetime | None
    created_at: datetime
    punch_id: int | None


class ActionOut(Schema):
    at: datetime
    step: int | None
    action: str
    actor: str | None
    comment: str
    from_user: str | None
    to_user: str | None
    old_time: datetime | None
    new_time: datetime | None


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: datetime
    url: str


class PreviewOut(Schema):
    date: date
    status: str
    provisional: bool
    slots: list[SlotOut]
    explanation: list[str]


class CorrectionDetailOut(CorrectionOut):
    can_act: bool
    actions: list[ActionOut]
    attachments: list[AttachmentOut]
    preview: PreviewOut | None


class ListQuery(PageParams):
    scope: str = Field("mine", pattern="^(mine|to_approve|all)$")
    employee: str | None = Text(None, max_length=24)
    status: Literal["pending", "approved", "rejected", "withdrawn", "cancelled"] | None = None


class QuotaQuery(Schema):
    employee: str | None = Text(None, max_length=24)
    period: str | None = Period(
        None,
        note="; default: the period of today. (The old form, any day of the period as "
        "YYYY-MM-DD, is still accepted.)",
    )

    @field_validator("period", mode="before")
    @classmethod
    def _old_day_form(cls, value: Any) -> Any:
        """The old form, a day (YYYY-MM-DD), names the period containing it."""
        day = parse_day(value) if isinstance(value, str) and len(value) == 10 else None
        if day is None:
            return value
        start, _end = period_of(day, services.period_start_day())
        return f"{start.year:04d}-{start.month:02d}"


class AnomalyOut(Schema):
    day: date
    slot: str
    status: str
    expected: datetime | None
    last_day_to_apply: date


class QuotaOut(Schema):
    employee: str
    period_start: date
    period_end: date
    used: int
    limit: int
    remaining: int | None
    open_anomalies: list[AnomalyOut]


class ApproveIn(Schema):
    comment: str = Multiline("", max_length=1000)
    adjusted_time: datetime | None = None


class RejectIn(Schema):
    reason: str = Multiline(..., max_length=1000)


class CommentIn(Schema):
    comment: str = Multiline(..., max_length=1000)


class TransferIn(Schema):
    to_employee: str = Text(
        ...,
        max_length=150,
        description="Employee number (or user name) of the new approver, as on the page.",
    )
    comment: str = Multiline("", max_length=1000)


class BatchApproveIn(Schema):
    ids: list[Id] = Field(..., min_length=1, max_length=200)
    comment: str = Multiline("", max_length=1000)


class PreviewIn(Schema):
    employee: str | None = Text(None, max_length=24)
    date: date
    slot: str = Text(..., max_length=8)
    requested_time: datetime


# --------------------------------------------------------------------------- output


def _user_label(user) -> str | None:
    return user.get_username() if user is not None else None


def correction_out(req: CorrectionRequest) -> dict[str, Any]:
    return {
        "id": req.pk,
        "employee": {"employee_no": req.employee.employee_no, "name": req.employee.name},
        "applicant": req.applicant.get_username(),
        "on_behalf": req.on_behalf,
        "date": req.date,
        "slot": req.slot_key,
        "slot_kind": req.slot_kind,
        "expected": req.slot_expected,
        "requested_time": req.requested_time,
        "original_requested_time": req.original_requested_time,
        "category": {
            "code": req.category.code,
            "name": req.category.name,
            "requires_attachment": req.category.requires_attachment,
        },
        "reason": req.reason,
        "expedited": req.expedited,
        "expedite_justification": req.expedite_justification,
        "channel": req.channel,
        "status": req.status,
        "current_step": req.current_step,
        "chain": req.chain,
        "resubmission_of": req.resubmission_of_id,
        "period_start": req.period_start,
        "counts_against_quota": req.counts_against_quota,
        "decided_at": req.decided_at,
        "created_at": req.created_at,
        "punch_id": req.punch_id,
    }


def _slot(slot) -> dict[str, Any]:
    data = slot_to_json(slot)
    if not isinstance(data["punch_id"], int):  # the previewed punch is not stored
        data["punch_id"] = None
    return data


def preview_out(result) -> dict[str, Any] | None:
    if result is None:
        return None
    notes = [
        {
            "code": n.code,
            "slot": n.slot,
            "params": json.loads(json.dumps(n.params, default=str)),
        }
        for n in result.notes
    ]
    segments = max((s.segment for s in result.slots), default=1)
    return {
        "date": result.day,
        "status": result.status,
        "provisional": result.provisional,
        "slots": [_slot(s) for s in result.slots],
        "explanation": render_notes(notes, segments),
    }


def detail_out(user, req: CorrectionRequest) -> dict[str, Any]:
    return {
        **correction_out(req),
        "can_act": may_act(user, req),
        "actions": [
            {
                "at": a.at,
                "step": a.step,
                "action": a.action,
                "actor": _user_label(a.actor),
                "comment": a.comment,
                "from_user": _user_label(a.from_user),
                "to_user": _user_label(a.to_user),
                "old_time": a.old_time,
                "new_time": a.new_time,
            }
            for a in req.actions.all()
        ],
        "attachments": [
            {
                "id": f.pk,
                "name": f.original_name,
                "content_type": f.content_type,
                "size": f.size,
                "uploaded_at": f.uploaded_at,
                "url": reverse("corrections:attachment", args=[f.pk]),
            }
            for f in req.attachments.all()
        ],
        "preview": preview_out(selectors.correction_preview(req)),
    }


def _get(user, correction_id: int) -> CorrectionRequest:
    return selectors.correction_get(user, correction_id)


def _period_day(value: str | None) -> date | None:
    """The first day of the period `value` (YYYY-MM) names; None: today's period."""
    return parse_period(value)[0] if value else None


def _employee(user, employee_no: str | None) -> Employee:
    """The employee a caller files for: themselves by default; on behalf needs the right."""
    return employee_for(user, employee_no, may=may_file_for)


def _items(payload_items: list[ItemSchema]) -> list[services.ItemIn]:
    return [
        services.ItemIn(
            day=i.date,
            slot_key=i.slot,
            requested_time=i.requested_time,
            category=i.category,
            reason=i.reason,
            expedited=i.expedited,
            justification=i.justification,
        )
        for i in payload_items
    ]


# --------------------------------------------------------------------------- operations


@router.post(
    "/corrections",
    response={201: list[CorrectionOut], **ERRORS},
    summary="Submit one or several corrections (one request per day-slot, all or nothing)",
)
def submit(request, payload: SubmitIn):
    created = services.correction_submit(
        actor=request.auth,
        employee=_employee(request.auth, payload.employee),
        items=_items(payload.items),
        channel=payload.channel,
        quota_override_reason=payload.quota_override_reason,
    )
    return Status(201, [correction_out(r) for r in created])


@router.post(
    "/corrections/multipart",
    response={201: list[CorrectionOut], **ERRORS},
    summary="Submit with proof files: `payload` (the JSON body of POST /corrections) + `files`",
)
def submit_with_files(
    request,
    payload: str = MultilineForm(max_length=100_000, description="the JSON of POST /corrections"),
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
):
    try:
        data = SubmitIn.model_validate_json(payload)
    except ValueError as error:
        raise DomainError(
            "validation_error", "payload is not a valid submission", details=str(error)[:2000]
        ) from None
    created = services.correction_submit(
        actor=request.auth,
        employee=_employee(request.auth, data.employee),
        items=_items(data.items),
        channel=data.channel,
        attachments=list(files or []),
        quota_override_reason=data.quota_override_reason,
    )
    return Status(201, [correction_out(r) for r in created])


@router.post(
    "/corrections/preview",
    response={200: PreviewOut, **ERRORS},
    summary="The day as it would be with this correction (nothing is saved)",
)
def preview(request, payload: PreviewIn):
    employee = employee_for(request.auth, payload.employee)
    item = services.ItemIn(
        day=payload.date,
        slot_key=payload.slot,
        requested_time=payload.requested_time,
        category="",
        reason="",
    )
    result = selectors.correction_preview(item, employee=employee)
    if result is None:
        raise NotFoundError(code="no_plan")
    return preview_out(result)


class ReasonCategoryQuery(PageParams):
    active: bool | None = Field(None, description="only active (true) or inactive (false) ones")
    group: str | None = Field(
        None,
        pattern=CODE_PATTERN,
        description="attendance group code: the global categories and that group's own",
    )


class ReasonCategoryOut(Schema):
    code: str = Field(..., description="stable code, sent as `category` when submitting")
    name: str
    requires_attachment: bool = Field(..., description="a request with it needs a file")
    active: bool
    order: int = Field(..., description="position in the lists people see")
    group: str | None = Field(
        ...,
        description="the attendance group whose correction policy defines it; null: a "
        "global category, offered to every group (a group's own of the same code wins)",
    )
    group_name: str | None

    @staticmethod
    def from_model(c: ReasonCategory) -> dict[str, Any]:
        group = c.policy.group if c.policy is not None else None
        return {
            "code": c.code,
            "name": c.name,
            "requires_attachment": c.requires_attachment,
            "active": c.active,
            "order": c.order,
            "group": group.code if group else None,
            "group_name": group.name if group else None,
        }


class ReasonCategoryPage(Page):
    items: list[ReasonCategoryOut]


@router.get(
    "/corrections/categories",
    response={200: ReasonCategoryPage, **ERRORS},
    summary="Correction reason categories (for integrators: HR and system admins)",
)
def categories(request, q: Query[ReasonCategoryQuery]):
    require_sync(request)
    rows = selectors.reason_categories(active=q.active, group=q.group)
    return paginate(request, rows, q, ReasonCategoryOut.from_model)


@router.get(
    "/corrections/quota",
    response={200: QuotaOut, **ERRORS},
    summary="Corrections used and left in a period, and the anomalies still correctable",
)
def quota(request, q: Query[QuotaQuery]):
    employee = employee_for(request.auth, q.employee)
    return selectors.quota_for(employee, _period_day(q.period))


class SlotChecksQuery(PageParams):
    employee: str | None = Text(
        None, max_length=24, description="employee number; default: the caller"
    )
    from_: date = Field(..., alias="from", description="first day (YYYY-MM-DD)")
    to: date = Field(
        ...,
        description=f"last day, included; at most {day_selectors.MAX_RANGE_DAYS} days from "
        "`from` (a longer range: 422 `range_too_long`)",
    )


class RefusalOut(Schema):
    code: str
    message: str
    params: dict[str, Any]


class SlotCheckOut(Schema):
    date: date
    slot: str
    correctable: bool
    refusals: list[RefusalOut]


class SlotCheckPage(Page):
    items: list[SlotCheckOut]


@router.get(
    "/corrections/slot-checks",
    response={200: SlotCheckPage, **ERRORS},
    summary="Whether each slot of some days can be corrected now by the caller, and if not "
    "why: the refusals a submission of that slot alone would get (its slot rules)",
)
def slot_checks(request, q: Query[SlotChecksQuery]):
    employee = employee_for(request.auth, q.employee)
    day_selectors.check_range(q.from_, q.to)
    days = [date.fromordinal(n) for n in range(q.from_.toordinal(), q.to.toordinal() + 1)]
    found = services.slot_checks(actor=request.auth, employee=employee, days=days)

    def out(entry: tuple[tuple[date, str], list]) -> dict[str, Any]:
        (day, key), refusals = entry
        return {
            "date": day,
            "slot": key,
            "correctable": not refusals,
            "refusals": [
                {"code": r.code, "message": refusal_message(r), "params": dict(r.params)}
                for r in refusals
            ],
        }

    return paginate(request, sorted(found.items()), q, out)


class CorrectionPage(Page):
    items: list[CorrectionOut]


@router.get(
    "/corrections",
    response={200: CorrectionPage, **ERRORS},
    summary="Correction requests: mine, waiting for me, or all I may see",
)
def list_corrections(request, q: Query[ListQuery]):
    rows = selectors.corrections_for(
        request.auth, scope=q.scope, employee=q.employee, status=q.status
    )
    if q.scope == "to_approve":  # the approver's queue, in the same order as the inbox page
        queue = selectors.approval_queue(request.auth, within=rows)
        return paginate(request, queue.items, q, correction_out)
    return paginate(request, rows, q, correction_out)


@router.post(
    "/corrections/batch-approve",
    response={200: list[CorrectionOut], **ERRORS},
    summary="Approve several requests at once (all or nothing)",
)
def batch_approve(request, payload: BatchApproveIn):
    found = {
        r.pk: r
        for r in selectors.corrections_for(request.auth, scope="all").filter(pk__in=payload.ids)
    }
    missing = [i for i in payload.ids if i not in found]
    if missing:
        raise NotFoundError()
    approved = services.correction_batch_approve(
        actor=request.auth, requests=[found[i] for i in payload.ids], comment=payload.comment
    )
    return [correction_out(r) for r in approved]


@router.get(ID_PATH, response={200: CorrectionDetailOut, **ERRORS}, summary="One request")
def get_correction(request, correction_id: PathId):
    return detail_out(request.auth, _get(request.auth, correction_id))


@router.post(f"{ID_PATH}/withdraw", response={200: CorrectionOut, **ERRORS}, summary="Withdraw")
def withdraw(request, correction_id: PathId):
    req = services.correction_withdraw(
        actor=request.auth, request=_get(request.auth, correction_id)
    )
    return correction_out(req)


@router.post(
    f"{ID_PATH}/attachments",
    response={201: AttachmentOut, **ERRORS},
    summary="Add proof (JPEG, PNG, HEIC, WebP or PDF; ≤ 10 MB; ≤ 5 per request)",
)
def add_attachment(request, correction_id: PathId, file: File[UploadedFile]):
    attachment = services.attachment_add(
        actor=request.auth, request=_get(request.auth, correction_id), file=file
    )
    return Status(
        201,
        {
            "id": attachment.pk,
            "name": attachment.original_name,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "uploaded_at": attachment.uploaded_at,
            "url": reverse("corrections:attachment", args=[attachment.pk]),
        },
    )


@router.post(
    f"{ID_PATH}/approve",
    response={200: CorrectionOut, **ERRORS},
    summary="Approve the current step (optionally with an adjusted time)",
)
def approve(request, correction_id: PathId, payload: ApproveIn):
    req = services.correction_approve(
        actor=request.auth,
        request=_get(request.auth, correction_id),
        comment=payload.comment,
        adjusted_time=payload.adjusted_time,
    )
    return correction_out(req)


@router.post(f"{ID_PATH}/reject", response={200: CorrectionOut, **ERRORS}, summary="Reject")
def reject(request, correction_id: PathId, payload: RejectIn):
    req = services.correction_reject(
        actor=request.auth, request=_get(request.auth, correction_id), reason=payload.reason
    )
    return correction_out(req)


@router.post(
    f"{ID_PATH}/transfer",
    response={200: CorrectionOut, **ERRORS},
    summary="Hand the current step to another person",
)
def transfer(request, correction_id: PathId, payload: TransferIn):
    req = _get(request.auth, correction_id)
    to = user_named(payload.to_employee)
    if to is None:
        raise DomainError(services.BAD_TRANSFER, services.MESSAGES[services.BAD_TRANSFER])
    req = services.correction_transfer(
        actor=request.auth, request=req, to_user=to, comment=payload.comment
    )
    return correction_out(req)


@router.post(
    f"{ID_PATH}/comment", response={201: ActionOut, **ERRORS}, summary="Comment on a request"
)
def comment(request, correction_id: PathId, payload: CommentIn):
    action = services.correction_comment(
        actor=request.auth, request=_get(request.auth, correction_id), comment=payload.comment
    )
    return Status(
        201,
        {
            "at": action.at,
            "step": action.step,
            "action": action.action,
            "actor": _user_label(action.actor),
            "comment": action.comment,
            "from_user": None,
            "to_user": None,
            "old_time": None,
            "new_time": None,
        },
    )
