"""Every write of absence requests (leave 请假, outing 外出, business trip 出差): submit,
approve, reject, withdraw, and cancel after approval (销假/撤销, itself a request decided
on the same chain). On the approval machinery (``ztk.approvals``): the chain comes from
the group's ``AbsencePolicy``, the inbox, delegation, SLA reminders and re-routing are the
machinery's, the adapter is ``ABSENCES``.

Final approval: the balance is debited (a balance-tracked type; refused below zero unless
the type allows it) and each covered date becomes a ``scheduling.Exemption`` (unless the
group expects field punches for outings or trips), which recomputes the days. Cancelling
voids those exemptions and restores exactly what was debited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk.approvals import cancellation, chains, inboxes
from ztk.approvals import services as approvals
from ztk.approvals.chains import SKIP_REASONS
from ztk.approvals.models import DEFAULT_DEADLINE_WORKING_DAYS, ActionKind, ApproverKind
from ztk.attendance.days import employee_zone
from ztk.audit.services import record
from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.org.models import Employee
from ztk.scheduling import services as scheduling

from . import planning
from .models import (
    AbsenceAction,
    AbsenceAttachment,
    AbsencePolicy,
    AbsenceRequest,
    ChainPreset,
    Channel,
    Kind,
    LeaveType,
    LedgerEntry,
    Movement,
    Part,
    Status,
)
from .rules import is_participant, may_act, may_file_for, may_view
from .selectors import absences_for
from .services import post

NOT_PENDING = "not_pending"
NOT_APPROVED = cancellation.NOT_APPROVED  # the cancellation refusals: ztk.approvals owns them
SELF_APPLY_OFF = "self_apply_off"
REASON_REQUIRED = "reason_required"
ALREADY_CANCELLING = cancellation.ALREADY_CANCELLING
MAX_ATTACHMENTS = 5
MESSAGES = {
    NOT_PENDING: _("This request is no longer pending; it cannot be changed."),
    SELF_APPLY_OFF: _("In your group the supervisor or HR files these requests for you."),
    REASON_REQUIRED: _("Give a reason."),
    **cancellation.MESSAGES,
}
KIND_NAMES = {
    Kind.LEAVE: _("leave"),
    Kind.OUTING: _("outing"),
    Kind.TRIP: _("business trip"),
}


def _require_user(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDeniedError()


def _text(value: Any, field: str, label: Any, limit: int) -> str:
    return clean_text(value or "", field=field, label=label, multiline=True).strip()[:limit]


def _snap(req: AbsenceRequest) -> dict[str, Any]:
    return {
        "status": req.status,
        "current_step": req.current_step,
        "kind": req.kind,
        "type": req.leave_type.code if req.leave_type_id else None,
        "start": req.start_date.isoformat(),
        "end": req.end_date.isoformat(),
        "amount": str(req.amount),
        "cancels": req.cancels_id,
    }


def _lock(pk: int) -> AbsenceRequest:
    return (
        AbsenceRequest.objects.select_for_update(of=("self",))
        .select_related(
            "employee__user",
            "employee__department",
            "employee__attendance_group",
            "leave_type",
        )
        .get(pk=pk)
    )


def _action(req: AbsenceRequest, kind: str, actor: Any, **fields: Any) -> AbsenceAction:
    fields.pop("old_time", None)
    fields.pop("new_time", None)
    fields.pop("from_user", None)
    return AbsenceAction.objects.create(request=req, action=kind, actor=actor, **fields)


def _visible_or_404(actor: Any, req: AbsenceRequest) -> None:
    _require_user(actor)
    if not may_view(actor, req):
        raise NotFoundError()


# --------------------------------------------------------------------------- notices


def what(req: AbsenceRequest) -> Any:
    """ "年假" / "外出" / "出差" — the request's kind as people say it."""
    if req.leave_type_id is not None:
        return req.leave_type.name_zh if req.leave_type else ""
    return KIND_NAMES.get(req.kind, req.kind)


def what_label(req: AbsenceRequest) -> Any:
    """The kind as the page shows it: the leave type in the page's language (年假 / Annual
    leave), else outing or business trip."""
    if req.leave_type_id is not None and req.leave_type is not None:
        return req.leave_type.name
    return KIND_NAMES.get(req.kind, req.kind)


def describe(req: AbsenceRequest) -> dict[str, Any]:
    span = req.start_date.isoformat()
    if req.end_date != req.start_date:
        span = f"{span}–{req.end_date.isoformat()}"
    return {
        "name": req.employee.name,
        "what": what(req),
        "span": span,
        "id": str(req.pk),
        "cancel": "销假 " if req.cancels_id else "",
    }


def detail_url(req: AbsenceRequest) -> str:
    try:
        return reverse("absences:detail", args=[req.pk])
    except NoReverseMatch:
        return ""


def _notify(
    kind: str,
    recipients: Iterable[Any],
    req: AbsenceRequest,
    title: Any,
    body: Any,
    params: dict[str, Any] | None = None,
    suffix: str = "",
) -> None:
    approvals.notify_about_request(
        kind,
        recipients,
        employee=req.employee,
        title=title,
        body=body,
        params={**describe(req), **(params or {})},
        suffix=suffix,
        url=detail_url(req),
        data={"absence_id": req.pk},
    )


def _notify_approvers(req: AbsenceRequest) -> None:
    people = [u for u in approvals.step_recipients(req.step()) if not is_participant(u, req)]
    _notify(
        "absence_submitted",
        people,
        req,
        _("To approve: %(cancel)s%(what)s of %(name)s, %(span)s"),
        _("%(name)s asks for %(cancel)s%(what)s on %(span)s (request #%(id)s)."),
    )


def _notify_participants(req: AbsenceRequest, kind: str, title: Any, body: Any, **kw: Any) -> None:
    _notify(kind, approvals.users({req.employee.user_id, req.applicant_id}), req, title, body, **kw)


# --------------------------------------------------------------------------- chain


def configured_steps(row: AbsencePolicy) -> list[tuple[str, int | None, int]]:
    supervisor = (ApproverKind.SUPERVISOR, None,
                  DEFAULT_DEADLINE_WORKING_DAYS[ApproverKind.SUPERVISOR])  # fmt: skip
    hr = (ApproverKind.HR, None, DEFAULT_DEADLINE_WORKING_DAYS[ApproverKind.HR])
    if row.chain_preset == ChainPreset.SINGLE:
        return [supervisor]
    if row.chain_preset == ChainPreset.FLAT:
        return [hr]
    return [supervisor, hr]


# --------------------------------------------------------------------------- submit


def absence_submit(
    *,
    actor: Any,
    employee: Employee,
    kind: str,
    start_date: date,
    end_date: date | None = None,
    leave_type: LeaveType | None = None,
    start_part: str = Part.FULL,
    end_part: str = Part.FULL,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    destination: str = "",
    purpose: str = "",
    reason: str = "",
    attachments: Sequence[Any] = (),
    channel: str = Channel.WEB,
    now: datetime | None = None,
) -> AbsenceRequest:
    """File a request for `employee` (themselves, or on their behalf: supervisor, HR).
    Refused (``DomainError``, 422) with the first of ``planning``'s codes that applies."""
    _require_user(actor)
    now = now or timezone.now()
    if not may_file_for(actor, employee):
        raise PermissionDeniedError()
    on_behalf = actor.pk != employee.user_id
    row = planning.policy_row_for(employee.attendance_group)
    if not on_behalf and not row.self_apply:
        raise DomainError(SELF_APPLY_OFF, MESSAGES[SELF_APPLY_OFF])
    destination = _text(destination, "destination", _("Destination"), 120)
    purpose = _text(purpose, "purpose", _("Purpose"), 300)
    reason = _text(reason, "reason", _("Reason"), 500)
    if len(attachments) > MAX_ATTACHMENTS:
        raise DomainError("too_many_attachments", _("Attach at most 5 files."))
    checked = uploads.check_all(attachments, uploads.PROOF) if attachments else []
    if kind == Kind.TRIP and not destination:
        raise DomainError("destination_required", _("Give the destination of the trip."))
    spec = planning.Spec(
        kind=kind,
        start_date=start_date,
        end_date=end_date or start_date,
        leave_type=leave_type,
        start_part=start_part,
        end_part=end_part,
        start_at=start_at,
        end_at=end_at,
        attachments=len(checked),
    )
    with transaction.atomic():
        # The employee row serialises this employee's submissions (overlaps, balance).
        Employee.objects.select_for_update().filter(pk=employee.pk).first()
        planned = planning.plan_request(employee, spec, now=now, lock=True)
        refusal = planned.first_refusal()
        if refusal is not None:
            raise refusal
        req = AbsenceRequest.objects.create(
            employee=employee,
            applicant=actor,
            on_behalf=on_behalf,
            kind=kind,
            leave_type=spec.leave_type,
            start_date=spec.start_date,
            end_date=spec.end_date,
            start_part=spec.start_part,
            end_part=spec.end_part,
            start_at=spec.start_at,
            end_at=spec.end_at,
            amount=planned.amount,
            intervals=[i.as_json() for i in planned.intervals],
            destination=destination,
            purpose=purpose,
            reason=reason,
            channel=channel if channel in Channel.values else Channel.WEB,
        )
        for item in checked:
            attachment = AbsenceAttachment(
                request=req,
                original_name=item.name,
                content_type=item.content_type,
                size=item.size,
            )
            file = uploads.as_stored(item)
            attachment.file.save(file.name, file, save=False)
            attachment.save()
        _route(req, actor, row, now, "leave.request.submit")
    return req


def _route(req: AbsenceRequest, actor: Any, row: AbsencePolicy, now: datetime,
           audit: str) -> None:  # fmt: skip
    """Resolve the chain, enter its first step (or approve at once when every step was
    skipped: HR filing on the employee's behalf), trail, audit, notify."""
    req.chain = chains.resolve_chain(
        configured=configured_steps(row),
        employee=req.employee,
        applicant=actor,
        on_behalf=req.on_behalf,
        day=now.astimezone(employee_zone(req.employee)).date(),
    )
    _action(req, ActionKind.SUBMIT, actor, comment=req.reason[:1000])
    approvals.record_chain(ABSENCES, req, actor, SKIP_REASONS)
    first = approvals.enter_first_step(req, now)
    record(audit, obj=req, actor=actor, after=_snap(req), extra={"chain": req.chain})
    if first is None:
        _finish_approval(req, actor=actor, now=now, comment="")
    else:
        _notify_approvers(req)


# --------------------------------------------------------------------------- decisions


def _exemption_kind(req: AbsenceRequest) -> str:
    return {"leave": "leave", "outing": "outing", "trip": "trip"}[req.kind]


def _deduct_source(req: AbsenceRequest) -> str:
    return f"absence:{req.pk}:deduct"


def _apply(req: AbsenceRequest, now: datetime) -> None:
    """The approved request's effects: debit the balance, create the exemptions."""
    days = [date.fromisoformat(i[2]) for i in req.intervals]
    closed = planning.closed_days(req.employee.attendance_group_id, days)
    if closed:
        message = planning.MESSAGES[planning.PERIOD_CLOSED] % {"day": min(closed).isoformat()}
        raise DomainError(planning.PERIOD_CLOSED, message)
    leave_type = req.leave_type
    if leave_type is not None and leave_type.balance_tracked and req.amount > 0:
        post(
            employee=req.employee,
            leave_type=leave_type,
            kind=Movement.DEDUCTION,
            amount=-req.amount,
            source=_deduct_source(req),
            effective=req.start_date,
            note=f"#{req.pk}",
        )
    row = planning.policy_row_for(req.employee.attendance_group)
    if not planning.exempts(req.kind, row):
        return
    made = []
    for start, end, _day in req.intervals:
        try:
            exemption, _changes = scheduling.exemption_create(
                actor=None,
                employee=req.employee,
                start=datetime.fromisoformat(start),
                end=datetime.fromisoformat(end),
                kind=_exemption_kind(req),
                reason=f"#{req.pk} {what(req)}"[:200],
            )
        except DomainError as error:
            if error.code == scheduling.EXEMPTION_OVERLAP:
                raise DomainError(
                    planning.OVERLAPS_EXISTING,
                    planning.MESSAGES[planning.OVERLAPS_EXISTING] % {"what": error.message},
                ) from None
            raise
        made.append(exemption)
    req.exemptions.add(*made)


def _undo(original: AbsenceRequest, cancel_req: AbsenceRequest) -> None:
    """Cancel an approved request: void its exemptions, restore what was debited."""
    for exemption in original.exemptions.filter(voided_at__isnull=True):
        scheduling.exemption_void(
            actor=None, exemption=exemption, reason=f"销假 #{cancel_req.pk} (#{original.pk})"
        )
    debit = LedgerEntry.objects.filter(
        employee=original.employee, source=_deduct_source(original)
    ).first()
    if debit is not None and original.leave_type is not None:
        post(
            employee=original.employee,
            leave_type=original.leave_type,
            kind=Movement.RESTORATION,
            amount=-debit.amount,
            source=f"absence:{original.pk}:restore",
            effective=original.start_date,
            note=f"#{original.pk} ← #{cancel_req.pk}",
            allow_negative=True,
        )


def _finish_approval(req: AbsenceRequest, *, actor: Any, now: datetime, comment: str) -> None:
    if req.cancels_id is not None:
        original = cancellation.finish_cancellation(
            ABSENCES, req, actor=actor, now=now, undo=_undo, snap=_snap
        )
        _notify_participants(
            original,
            "absence_cancelled",
            _("Cancelled: %(what)s %(span)s"),
            _(
                "Your %(what)s on %(span)s (request #%(id)s) is cancelled; its days and "
                "balance are restored."
            ),  # fmt: skip
        )
        return
    _apply(req, now)
    approvals.end_route(req, Status.APPROVED, actor, now)
    _notify_participants(
        req,
        "absence_approved",
        _("Approved: %(what)s %(span)s"),
        _("Your request for %(what)s on %(span)s (#%(id)s) was approved."),
        suffix=f"\n{comment}" if comment else "",
    )


def absence_approve(
    *, actor: Any, request: AbsenceRequest, comment: str = "", now: datetime | None = None
) -> AbsenceRequest:
    """Approve the current step: on to the next approver, or at the last step the effects
    (balance, exemptions; for a cancellation: void and restore)."""
    now = now or timezone.now()
    comment = _text(comment, "comment", _("Comment"), 1000)
    with transaction.atomic():
        req = _lock(request.pk)
        _visible_or_404(actor, req)
        if req.status != Status.PENDING:
            raise DomainError(NOT_PENDING, MESSAGES[NOT_PENDING], details={"status": req.status})
        if not may_act(actor, req, now.astimezone(employee_zone(req.employee)).date()):
            raise PermissionDeniedError(_("You are not an approver of this step."))
        before = _snap(req)
        step = req.current_step
        _action(req, ActionKind.APPROVE, actor, step=step, comment=comment)
        following = approvals.advance(ABSENCES, req, now, actor)
        if following is None:
            _finish_approval(req, actor=actor, now=now, comment=comment)
        record("leave.request.approve", obj=req, actor=actor, before=before, after=_snap(req),
               extra={"step": step, "final": following is None})  # fmt: skip
        if following is not None:
            _notify_approvers(req)
    return req


def absence_reject(
    *, actor: Any, request: AbsenceRequest, reason: str, now: datetime | None = None
) -> AbsenceRequest:
    now = now or timezone.now()
    reason = _text(reason, "reason", _("Reason"), 1000)
    with transaction.atomic():
        req = _lock(request.pk)
        _visible_or_404(actor, req)
        if req.status != Status.PENDING:
            raise DomainError(NOT_PENDING, MESSAGES[NOT_PENDING], details={"status": req.status})
        if not may_act(actor, req, now.astimezone(employee_zone(req.employee)).date()):
            raise PermissionDeniedError(_("You are not an approver of this step."))
        if len(reason) < 2:
            raise DomainError(REASON_REQUIRED, MESSAGES[REASON_REQUIRED])
        before = _snap(req)
        step = req.current_step
        _action(req, ActionKind.REJECT, actor, step=step, comment=reason)
        approvals.end_route(req, Status.REJECTED, actor, now)
        record("leave.request.reject", obj=req, actor=actor, before=before, after=_snap(req),
               extra={"step": step, "reason": reason})  # fmt: skip
        _notify_participants(
            req,
            "absence_rejected",
            _("Rejected: %(what)s %(span)s"),
            _("Your request for %(what)s on %(span)s was rejected: %(reason)s"),
            params={"reason": reason},
        )
    return req


def absence_withdraw(
    *, actor: Any, request: AbsenceRequest, now: datetime | None = None
) -> AbsenceRequest:
    """The employee or the applicant takes back a pending request (nothing happened yet)."""
    now = now or timezone.now()
    with transaction.atomic():
        req = _lock(request.pk)
        _visible_or_404(actor, req)
        if not is_participant(actor, req):
            raise PermissionDeniedError(_("Only the employee or the applicant may withdraw it."))
        if req.status != Status.PENDING:
            raise DomainError(NOT_PENDING, MESSAGES[NOT_PENDING], details={"status": req.status})
        before = _snap(req)
        approvers = approvals.users((req.step() or {}).get("approvers", []))
        _action(req, ActionKind.WITHDRAW, actor, step=req.current_step)
        approvals.end_route(req, Status.WITHDRAWN, actor, now)
        record("leave.request.withdraw", obj=req, actor=actor, before=before, after=_snap(req))
        _notify(
            "absence_withdrawn",
            approvers,
            req,
            _("Withdrawn: %(what)s of %(name)s, %(span)s"),
            _("%(name)s withdrew request #%(id)s; nothing is left to approve."),
        )
    return req


def absence_cancel(
    *, actor: Any, request: AbsenceRequest, reason: str = "", now: datetime | None = None
) -> AbsenceRequest:
    """Ask to cancel an approved request (销假/撤销): a new request on the same chain;
    when it is approved the exemptions are voided and the balance restored. Returns the
    cancellation request (already approved when HR filed it and no step remained)."""
    _require_user(actor)
    now = now or timezone.now()
    reason = _text(reason, "reason", _("Reason"), 500)
    with transaction.atomic():
        original = _lock(request.pk)
        _visible_or_404(actor, original)
        if not may_file_for(actor, original.employee):
            raise PermissionDeniedError()
        cancellation.refuse_uncancellable(original)
        days = [date.fromisoformat(i[2]) for i in original.intervals]
        closed = planning.closed_days(original.employee.attendance_group_id, days)
        if closed:
            raise DomainError(
                planning.PERIOD_CLOSED,
                planning.MESSAGES[planning.PERIOD_CLOSED] % {"day": min(closed).isoformat()},
            )
        req = AbsenceRequest.objects.create(
            employee=original.employee,
            applicant=actor,
            on_behalf=actor.pk != original.employee.user_id,
            kind=original.kind,
            leave_type=original.leave_type,
            start_date=original.start_date,
            end_date=original.end_date,
            start_part=original.start_part,
            end_part=original.end_part,
            start_at=original.start_at,
            end_at=original.end_at,
            amount=original.amount,
            intervals=original.intervals,
            destination=original.destination,
            purpose=original.purpose,
            reason=reason,
            cancels=original,
        )
        row = planning.policy_row_for(original.employee.attendance_group)
        _route(req, actor, row, now, "leave.request.cancel_submit")
    return req


def absences_reroute(*, user_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    return approvals.reroute(ABSENCES, user_ids=user_ids, now=now)


# --------------------------------------------------------------------------- adapter


class Absences:
    """The absence requests' adapter for the approval machinery (``approvals.registry``)."""

    name = "absences"
    audit_prefix = "leave.request"

    def pending(self) -> QuerySet[AbsenceRequest]:
        return AbsenceRequest.objects.select_related(
            "employee__user", "employee__department", "employee__attendance_group", "leave_type"
        ).filter(status=Status.PENDING)

    def lock(self, pk: int) -> AbsenceRequest:
        return _lock(pk)

    def zone(self, request: AbsenceRequest) -> ZoneInfo:
        return employee_zone(request.employee)

    def participants(self, request: AbsenceRequest) -> set[int]:
        return {request.applicant_id, request.employee.user_id}

    def record_action(
        self, request: AbsenceRequest, kind: str, actor: Any, **fields: Any
    ) -> AbsenceAction:
        return _action(request, kind, actor, **fields)

    def notify_approvers(self, request: AbsenceRequest) -> None:
        _notify_approvers(request)

    def describe(self, request: AbsenceRequest) -> str:
        """One line of the approvers' digest."""
        d = describe(request)
        return f"#{request.pk} {d['name']} {d['cancel']}{d['what']} {d['span']}"

    def inbox_url(self) -> str:
        try:
            return reverse("requests:inbox")
        except NoReverseMatch:
            return ""

    def inbox_types(self) -> list[tuple[str, str]]:
        return [(k, str(KIND_NAMES[k])) for k in (Kind.LEAVE, Kind.OUTING, Kind.TRIP)]

    def inbox_rows(self, user: Any, now: datetime) -> list[inboxes.InboxRow]:
        """The absences (and their cancellations, 销假) waiting for ``user``: a constant
        number of queries however many."""
        found = list(absences_for(user, scope="to_approve")[: inboxes.MAX_ROWS])
        rows = []
        for req in found:
            span = req.start_date.isoformat()
            if req.end_date != req.start_date:
                span = f"{span} – {req.end_date.isoformat()}"
            unit = req.leave_type.unit if req.leave_type_id and req.leave_type else ""
            short = gettext("%(n)s h") if unit == "hour" else gettext("%(n)s d")
            amount = short % {"n": f"{req.amount.normalize():f}"} if req.amount else ""
            rows.append(
                inboxes.InboxRow(
                    source=self.name,
                    type=req.kind,
                    type_label=str(what_label(req)),
                    pk=req.pk,
                    employee_name=req.employee.name,
                    employee_no=req.employee.employee_no,
                    first_day=req.start_date,
                    last_day=req.end_date,
                    when=span,
                    url=detail_url(req),
                    waiting_since=req.step_started_at,
                    cancellation=req.cancels_id is not None,
                    reason=req.reason,
                    detail=" · ".join(x for x in (amount, req.destination) if x),
                )
            )
        return inboxes.with_deadlines(
            rows,
            [r.step() for r in found],
            lambda i: employee_zone(found[i].employee),
            [r.employee.attendance_group_id or 0 for r in found],
            now,
        )

    def inbox_approve(self, actor: Any, ids: list[int], comment: str) -> int:
        waiting = {r.pk: r for r in absences_for(actor, scope="to_approve").filter(pk__in=ids)}
        inboxes.refuse_missing(ids, waiting, _("This request is no longer waiting for you."))
        return inboxes.approve_each(
            ids, lambda pk: absence_approve(actor=actor, request=waiting[pk], comment=comment)
        )

    def notify_overdue(
        self, request: AbsenceRequest, recipients: Iterable[Any], deadline: datetime,
        tz: ZoneInfo,
    ) -> None:  # fmt: skip
        _notify(
            "approval_overdue",
            recipients,
            request,
            _("Approval overdue: request #%(id)s of %(name)s"),
            _("Step %(step)s of %(name)s's %(what)s on %(span)s was due %(deadline)s."),
            params={
                "deadline": deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "step": request.current_step,
            },
        )


ABSENCES = Absences()
