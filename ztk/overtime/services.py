"""Every write of the overtime flow (加班): submit, approve, reject, withdraw, cancel, and
the per-group policy. Each service is keyword-only, checks permissions first, runs in one
transaction, writes an ``OvertimeAction`` for the request's trail and an audit event with
before/after, and notifies people inside the same transaction (delivered after commit).

A decision that changes what a day counts (final approval, cancellation) recomputes that
day at once (``attendance.services.recompute``): the engine counts the approved spans.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk import engine
from ztk.approvals import cancellation, chains, inboxes
from ztk.approvals import services as approvals
from ztk.approvals.chains import SKIP_REASONS
from ztk.approvals.models import DEFAULT_DEADLINE_WORKING_DAYS, ActionKind, ApproverKind
from ztk.attendance.days import attendance_date_at, employee_zone, is_closed
from ztk.attendance.models import AttendanceDay
from ztk.attendance.services import recompute
from ztk.audit.services import record
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.org.models import AttendanceGroup, Employee
from ztk.scheduling.plans import plan_for

from . import time_off
from .models import (
    HOLDING,
    ChainPreset,
    Compensation,
    OvertimeAction,
    OvertimePolicy,
    OvertimeRequest,
    Status,
    check_transition,
)
from .rules import is_participant, may_act, may_cancel, may_edit_policy, may_file_for, may_view
from .selectors import to_decide_q

log = logging.getLogger(__name__)

# Stable codes of the refusals (API: 422 with the code).
BAD_SPAN = "bad_span"
TOO_LONG = "too_long"
TOO_FAR_AHEAD = "too_far_ahead"
OVERLAPS_EXISTING = "overlaps_existing"
PERIOD_CLOSED = "period_closed"
TIME_OFF_USED = time_off.TIME_OFF_USED
REASON_REQUIRED = "reason_required"
BAD_COMPENSATION = "bad_compensation"
BAD_POLICY = "bad_policy"

MAX_SPAN = timedelta(hours=24)
MAX_AHEAD = timedelta(days=62)
MIN_REASON = 2
MESSAGES = {
    BAD_SPAN: _("The overtime must end after it starts."),
    TOO_LONG: _("One overtime request covers at most 24 hours."),
    TOO_FAR_AHEAD: _("Overtime can be requested at most 62 days ahead."),
    OVERLAPS_EXISTING: _("This overlaps overtime request #%(id)s (%(status)s)."),
    PERIOD_CLOSED: _("The attendance period of %(day)s is closed."),
    REASON_REQUIRED: _("Please give a reason."),
    BAD_COMPENSATION: _("Choose paid overtime or time off in lieu."),
    BAD_POLICY: _("The overtime policy is not valid: %(why)s"),
}


def _text(value: Any, field: str, label: Any) -> str:
    return clean_text(value or "", field=field, label=label, multiline=True)


def _require_user(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDeniedError()


# --------------------------------------------------------------------------- policy


def policy_row_for(group: AttendanceGroup | None) -> OvertimePolicy:
    """The group's policy row, or an unsaved one with the defaults."""
    if group is not None:
        found = OvertimePolicy.objects.filter(group=group).first()
        if found is not None:
            return found
    return OvertimePolicy(group=group) if group is not None else OvertimePolicy()


def engine_policy(row: OvertimePolicy) -> engine.OvertimePolicy:
    return engine.OvertimePolicy(
        min_block_minutes=row.min_block_minutes,
        unit_minutes=row.unit_minutes,
        needs_request=row.needs_request,
    )


POLICY_FIELDS = ("min_block_minutes", "unit_minutes", "needs_request", "chain_preset")


def policy_update(*, actor: Any, group: AttendanceGroup, **values: Any) -> OvertimePolicy:
    """Change a group's overtime policy (HR); audited; the group's open days recompute so
    the counted overtime follows the new rules."""
    _require_user(actor)
    if not may_edit_policy(actor):
        raise PermissionDeniedError()
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise DomainError(BAD_POLICY, MESSAGES[BAD_POLICY] % {"why": ", ".join(sorted(unknown))})
    with transaction.atomic():
        row, _created = OvertimePolicy.objects.select_for_update().get_or_create(group=group)
        before = {f: getattr(row, f) for f in POLICY_FIELDS}
        for name, value in values.items():
            setattr(row, name, value)
        try:
            engine_policy(row)
        except ValueError as error:
            raise DomainError(BAD_POLICY, MESSAGES[BAD_POLICY] % {"why": str(error)}) from error
        if row.chain_preset not in ChainPreset.values:
            raise DomainError(BAD_POLICY, MESSAGES[BAD_POLICY] % {"why": "chain_preset"})
        row.save()
        after = {f: getattr(row, f) for f in POLICY_FIELDS}
        record("overtime.policy.update", obj=row, actor=actor, before=before, after=after)
        if before != after:
            _recompute_group_open_days(group)
    return row


def _recompute_group_open_days(group: AttendanceGroup) -> None:
    """The days with computed overtime of the group's members since the start of last
    month (closed periods are left alone by the recompute itself)."""
    since = timezone.localdate().replace(day=1) - timedelta(days=31)
    pairs = AttendanceDay.objects.filter(
        employee__attendance_group=group, day__gte=since, overtime_minutes__gt=0
    ).values_list("employee_id", "day")
    recompute(list(pairs))


# --------------------------------------------------------------------------- helpers


def _snap(req: OvertimeRequest) -> dict[str, Any]:
    return {
        "status": req.status,
        "current_step": req.current_step,
        "start": req.start.isoformat(),
        "end": req.end.isoformat(),
        "compensation": req.compensation,
        "cancels": req.cancels_id,
    }


def _lock(pk: int) -> OvertimeRequest:
    return (
        OvertimeRequest.objects.select_for_update(of=("self",))
        .select_related("employee__user", "employee__department", "employee__attendance_group")
        .get(pk=pk)
    )


def _visible_or_404(actor: Any, req: OvertimeRequest) -> None:
    _require_user(actor)
    if not may_view(actor, req):
        raise NotFoundError()


def _action(req: OvertimeRequest, kind: str, actor: Any, **fields: Any) -> OvertimeAction:
    fields.pop("old_time", None)
    fields.pop("new_time", None)
    fields.pop("from_user", None)
    fields.pop("to_user", None)
    return OvertimeAction.objects.create(request=req, action=kind, actor=actor, **fields)


def detail_url(req: OvertimeRequest) -> str:
    try:
        return reverse("overtime:detail", args=[req.pk])
    except NoReverseMatch:
        return ""


def _describe(req: OvertimeRequest) -> dict[str, Any]:
    tz = employee_zone(req.employee)
    return {
        "name": req.employee.name,
        "day": req.date.isoformat(),
        "start": req.start.astimezone(tz).strftime("%H:%M"),
        "end": req.end.astimezone(tz).strftime("%H:%M"),
        "hours": f"{req.minutes / 60:.1f}",
        "id": str(req.pk),
    }


def _notify(
    kind: str,
    recipients: Iterable[Any],
    req: OvertimeRequest,
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
        params={**_describe(req), **(params or {})},
        suffix=suffix,
        url=detail_url(req),
        data={"overtime_id": req.pk},
    )


def _notify_approvers(req: OvertimeRequest) -> None:
    people = [u for u in approvals.step_recipients(req.step()) if not is_participant(u, req)]
    if req.cancels_id is not None:
        _notify(
            "overtime_submitted",
            people,
            req,
            _("To approve: cancel the overtime of %(name)s %(day)s"),
            _(
                "%(name)s asks to cancel the approved overtime on %(day)s from %(start)s to "
                "%(end)s (request #%(id)s)."
            ),
        )
        return
    _notify(
        "overtime_submitted",
        people,
        req,
        _("Overtime to approve: %(name)s %(day)s"),
        _("%(name)s asks for overtime on %(day)s from %(start)s to %(end)s (request #%(id)s)."),
    )


def _notify_participants(
    req: OvertimeRequest, kind: str, title: Any, body: Any, **kwargs: Any
) -> None:
    _notify(
        kind, approvals.users({req.employee.user_id, req.applicant_id}), req, title, body, **kwargs
    )


def _configured_steps(row: OvertimePolicy) -> list[tuple[str, int | None, int]]:
    supervisor = (
        ApproverKind.SUPERVISOR,
        None,
        DEFAULT_DEADLINE_WORKING_DAYS[ApproverKind.SUPERVISOR],
    )
    hr = (ApproverKind.HR, None, DEFAULT_DEADLINE_WORKING_DAYS[ApproverKind.HR])
    if row.chain_preset == ChainPreset.SINGLE:
        return [supervisor]
    if row.chain_preset == ChainPreset.FLAT:
        return [hr]
    return [supervisor, hr]


def _refuse_closed(employee: Employee, day: date) -> None:
    if is_closed(employee, day):
        raise DomainError(PERIOD_CLOSED, MESSAGES[PERIOD_CLOSED] % {"day": day.isoformat()})


def _recompute_day(req: OvertimeRequest, now: datetime) -> None:
    recompute([(req.employee_id, req.date)], now=now)


def counted_minutes(req: OvertimeRequest) -> int:
    """What the request's day counts now (the stored day, after its recompute)."""
    found = (
        AttendanceDay.objects.filter(employee_id=req.employee_id, day=req.date)
        .values_list("overtime_counted_minutes", flat=True)
        .first()
    )
    return int(found or 0)


# --------------------------------------------------------------------------- submit


def overtime_submit(
    *,
    actor: Any,
    employee: Employee,
    start: datetime,
    end: datetime,
    reason: str,
    compensation: str = Compensation.PAY,
    channel: str = "web",
    now: datetime | None = None,
) -> OvertimeRequest:
    """File an overtime request over [start, end) (aware), before or after the fact. Its
    attendance date is the one a punch at ``start`` would belong to (a night shift's
    morning overtime belongs to the night). Refusals: ``bad_span``, ``too_long``,
    ``too_far_ahead``, ``reason_required``, ``bad_compensation``, ``period_closed``,
    ``overlaps_existing``."""
    now = now or timezone.now()
    _require_user(actor)
    if not may_file_for(actor, employee):
        raise PermissionDeniedError()
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise DomainError(BAD_SPAN, MESSAGES[BAD_SPAN])
    if end - start > MAX_SPAN:
        raise DomainError(TOO_LONG, MESSAGES[TOO_LONG])
    if start - now > MAX_AHEAD:
        raise DomainError(TOO_FAR_AHEAD, MESSAGES[TOO_FAR_AHEAD])
    reason = _text(reason, "reason", _("Reason"))[:500]
    if len(reason) < MIN_REASON:
        raise DomainError(REASON_REQUIRED, MESSAGES[REASON_REQUIRED])
    if compensation not in Compensation.values:
        raise DomainError(BAD_COMPENSATION, MESSAGES[BAD_COMPENSATION])
    day = attendance_date_at(employee, start)
    on_behalf = actor.pk != employee.user_id
    row = policy_row_for(employee.attendance_group)
    with transaction.atomic():
        # One request at a time per employee: lock the employee row, then check overlaps.
        Employee.objects.select_for_update().filter(pk=employee.pk).first()
        _refuse_closed(employee, day)
        clash = (
            OvertimeRequest.objects.filter(
                employee=employee,
                status__in=HOLDING,
                cancels__isnull=True,
                start__lt=end,
                end__gt=start,
            )
            .order_by("pk")
            .first()
        )
        if clash is not None:
            raise DomainError(
                OVERLAPS_EXISTING,
                MESSAGES[OVERLAPS_EXISTING]
                % {"id": clash.pk, "status": Status(clash.status).label},
                details={"id": clash.pk},
            )
        req = OvertimeRequest.objects.create(
            employee=employee,
            applicant=actor,
            on_behalf=on_behalf,
            date=day,
            start=start,
            end=end,
            minutes=int((end - start).total_seconds() // 60),
            kind=engine.overtime_kind(plan_for(employee, day)),
            compensation=compensation,
            reason=reason,
            channel=channel[:8],
            chain=chains.resolve_chain(
                configured=_configured_steps(row),
                employee=employee,
                applicant=actor,
                on_behalf=on_behalf,
                day=now.astimezone(employee_zone(employee)).date(),
            ),
        )
        _action(req, ActionKind.SUBMIT, actor, comment=reason)
        approvals.record_chain(OVERTIME, req, actor, SKIP_REASONS)
        first = approvals.enter_first_step(req, now)
        record(
            "overtime.request.submit",
            obj=req,
            actor=actor,
            after=_snap(req),
            extra={"employee_id": employee.pk, "date": day.isoformat(), "minutes": req.minutes},
        )
        if first is None:  # HR filed it on the employee's behalf: final at once
            _finish_approval(req, actor=actor, now=now, comment="")
        else:
            _notify_approvers(req)
    return req


# --------------------------------------------------------------------------- time off


def settle_time_off(req: OvertimeRequest, *, actor: Any, now: datetime) -> bool:
    """Convert an approved time-off request once its day is final: what the day counts
    (at most the requested minutes) goes to the employee's 调休 balance (``time_off``).
    A day not final yet waits for ``settle_due`` (the periodic task). True when settled."""
    if req.status != Status.APPROVED or req.compensation != Compensation.TIME_OFF:
        return False
    if req.cancels_id is not None:
        return False
    if req.settled_at is not None:
        return False
    final = AttendanceDay.objects.filter(
        employee_id=req.employee_id, day=req.date, finalised=True
    ).exists()
    if not final:
        return False
    minutes = min(req.minutes, counted_minutes(req))
    credited = time_off.credit(req, minutes, actor)
    if credited is None:  # no balance ledger: stays unsettled, visibly
        return False
    req.credited_minutes, req.settled_at = credited, now
    req.save(update_fields=["credited_minutes", "settled_at"])
    record(
        "overtime.request.time_off",
        obj=req,
        actor=actor,
        after={"credited_minutes": credited},
        extra={"counted_minutes": minutes},
    )
    return True


def settle_due(*, now: datetime | None = None) -> int:
    """Settle every approved time-off request whose day became final (periodic task)."""
    now = now or timezone.now()
    count = 0
    pks = OvertimeRequest.objects.filter(
        status=Status.APPROVED,
        compensation=Compensation.TIME_OFF,
        settled_at__isnull=True,
        cancels__isnull=True,
    ).values_list("pk", flat=True)
    for pk in list(pks):
        with transaction.atomic():
            if settle_time_off(_lock(pk), actor=None, now=now):
                count += 1
    return count


# --------------------------------------------------------------------------- decide


def _finish_approval(req: OvertimeRequest, *, actor: Any, now: datetime, comment: str) -> None:
    """Final approval: the day recomputes and counts the approved span; time off in lieu
    is credited with what the day counts inside this request's span."""
    check_transition(req.status, Status.APPROVED)
    _refuse_closed(req.employee, req.date)
    approvals.end_route(req, Status.APPROVED, actor, now)
    _recompute_day(req, now)
    if req.compensation == Compensation.TIME_OFF:
        settle_time_off(req, actor=actor, now=now)
    _notify_participants(
        req,
        "overtime_approved",
        _("Overtime approved: %(day)s"),
        _("Your overtime on %(day)s from %(start)s to %(end)s was approved."),
        suffix=f"\n{comment}" if comment else "",
    )


def overtime_approve(
    *, actor: Any, request: OvertimeRequest, comment: str = "", now: datetime | None = None
) -> OvertimeRequest:
    """Approve the current step: on to the next approver, or final approval."""
    now = now or timezone.now()
    comment = _text(comment, "comment", _("Comment"))[:1000]
    with transaction.atomic():
        req = _lock(request.pk)
        _visible_or_404(actor, req)
        check_transition(req.status, Status.APPROVED)
        if not may_act(actor, req, now.astimezone(employee_zone(req.employee)).date()):
            raise PermissionDeniedError(_("You are not an approver of this step."))
        before = _snap(req)
        step = req.current_step
        _action(req, ActionKind.APPROVE, actor, step=step, comment=comment)
        following = approvals.advance(OVERTIME, req, now, actor)
        if following is None and req.cancels_id is not None:
            _finish_cancellation(req, actor=actor, now=now)
        elif following is None:
            _finish_approval(req, actor=actor, now=now, comment=comment)
        record(
            "overtime.request.approve",
            obj=req,
            actor=actor,
            before=before,
            after=_snap(req),
            extra={"step": step, "final": following is None, "comment": comment or None},
        )
        if following is not None:
            _notify_approvers(req)
    return req


def overtime_reject(
    *, actor: Any, request: OvertimeRequest, reason: str, now: datetime | None = None
) -> OvertimeRequest:
    now = now or timezone.now()
    reason = _text(reason, "reason", _("Reason"))[:1000]
    with transaction.atomic():
        req = _lock(request.pk)
        _visible_or_404(actor, req)
        check_transition(req.status, Status.REJECTED)
        if not may_act(actor, req, now.astimezone(employee_zone(req.employee)).date()):
            raise PermissionDeniedError(_("You are not an approver of this step."))
        if len(reason) < MIN_REASON:
            raise DomainError(REASON_REQUIRED, MESSAGES[REASON_REQUIRED])
        before = _snap(req)
        step = req.current_step
        _action(req, ActionKind.REJECT, actor, step=step, comment=reason)
        approvals.end_route(req, Status.REJECTED, actor, now)
        record(
            "overtime.request.reject",
            obj=req,
            actor=actor,
            before=before,
            after=_snap(req),
            extra={"step": step, "reason": reason},
        )
        if req.cancels_id is not None:
            _notify_participants(
                req,
                "overtime_rejected",
                _("Cancellation rejected: overtime %(day)s"),
                _(
                    "Your overtime on %(day)s stays approved; the cancellation was rejected: "
                    "%(reason)s"
                ),  # fmt: skip
                params={"reason": reason},
            )
        else:
            _notify_participants(
                req,
                "overtime_rejected",
                _("Overtime rejected: %(day)s"),
                _("Your overtime request for %(day)s was rejected: %(reason)s"),
                params={"reason": reason},
            )
    return req


def overtime_withdraw(
    *, actor: Any, request: OvertimeRequest, now: datetime | None = None
) -> OvertimeRequest:
    """The employee or the applicant takes back a pending request."""
    now = now or timezone.now()
    with transaction.atomic():
        req = _lock(request.pk)
        _visible_or_404(actor, req)
        if not is_participant(actor, req):
            raise PermissionDeniedError(_("Only the employee or the applicant may withdraw it."))
        check_transition(req.status, Status.WITHDRAWN)
        before = _snap(req)
        step = req.step() or {}
        approvers = approvals.users(step.get("approvers", []))
        _action(req, ActionKind.WITHDRAW, actor, step=req.current_step)
        approvals.end_route(req, Status.WITHDRAWN, actor, now)
        record("overtime.request.withdraw", obj=req, actor=actor, before=before, after=_snap(req))
        _notify(
            "overtime_withdrawn",
            approvers,
            req,
            _("Overtime withdrawn: %(name)s %(day)s"),
            _("%(name)s withdrew overtime request #%(id)s; nothing is left to approve."),
        )
    return req


def _undo_as(actor: Any) -> Callable[[OvertimeRequest, OvertimeRequest], None]:
    """What approving a cancellation undoes (``cancellation.finish_cancellation`` calls it
    with the original locked): refused in a closed period; the 调休 credit taken back in
    `actor`'s name (``time_off_used`` when it was already taken). The day recomputes after
    the original is marked cancelled."""

    def undo(original: OvertimeRequest, cancel_req: OvertimeRequest) -> None:
        _refuse_closed(original.employee, original.date)
        if original.credited_minutes:
            time_off.debit(original, original.credited_minutes, actor)
            original.credited_minutes = 0
            original.save(update_fields=["credited_minutes"])

    return undo


def _finish_cancellation(req: OvertimeRequest, *, actor: Any, now: datetime) -> None:
    original = cancellation.finish_cancellation(
        OVERTIME, req, actor=actor, now=now, undo=_undo_as(actor), snap=_snap
    )
    _recompute_day(original, now)
    _notify_participants(
        original,
        "overtime_cancelled",
        _("Overtime cancelled: %(day)s"),
        _(
            "Your overtime on %(day)s (request #%(id)s) is cancelled; the day no longer "
            "counts it and any time off in lieu credited for it was taken back."
        ),
    )


def overtime_cancel(
    *, actor: Any, request: OvertimeRequest, reason: str, now: datetime | None = None
) -> OvertimeRequest:
    """Ask to cancel an approved overtime (撤销): the employee, or on their behalf whoever
    may file for them (HR, the supervisor, a department head; audited as on behalf). The
    cancellation is a new request on the group's chain (inbox, SLA, delegation,
    notifications); once approved the day no longer counts the overtime and the 调休
    credited for it is taken back; rejected, nothing changes. Returns the cancellation
    (already approved when every step was skipped: HR filing on the employee's behalf).
    Refusals: ``not_approved``, ``already_cancelling``, ``reason_required``,
    ``period_closed``, ``time_off_used``."""
    _require_user(actor)
    now = now or timezone.now()
    reason = _text(reason, "reason", _("Reason"))[:500]
    with transaction.atomic():
        original = _lock(request.pk)
        _visible_or_404(actor, original)
        if not may_cancel(actor, original):
            raise PermissionDeniedError()
        cancellation.refuse_uncancellable(original)
        if len(reason) < MIN_REASON:
            raise DomainError(REASON_REQUIRED, MESSAGES[REASON_REQUIRED])
        _refuse_closed(original.employee, original.date)
        time_off.refuse_if_used(original, original.credited_minutes)
        employee = original.employee
        on_behalf = actor.pk != employee.user_id
        req = OvertimeRequest.objects.create(
            employee=employee,
            applicant=actor,
            on_behalf=on_behalf,
            date=original.date,
            start=original.start,
            end=original.end,
            minutes=original.minutes,
            kind=original.kind,
            compensation=original.compensation,
            reason=reason,
            cancels=original,
            chain=chains.resolve_chain(
                configured=_configured_steps(policy_row_for(employee.attendance_group)),
                employee=employee,
                applicant=actor,
                on_behalf=on_behalf,
                day=now.astimezone(employee_zone(employee)).date(),
            ),
        )
        _action(req, ActionKind.SUBMIT, actor, comment=reason)
        approvals.record_chain(OVERTIME, req, actor, SKIP_REASONS)
        first = approvals.enter_first_step(req, now)
        record(
            "overtime.request.cancel_submit",
            obj=req,
            actor=actor,
            after=_snap(req),
            extra={"cancels": original.pk, "on_behalf": on_behalf, "reason": reason},
        )
        if first is None:  # HR filed it on the employee's behalf: final at once
            _finish_cancellation(req, actor=actor, now=now)
        else:
            _notify_approvers(req)
    return req


# --------------------------------------------------------------------------- the adapter


class Overtime:
    """The overtime requests' adapter for the approval machinery (``approvals.registry``)."""

    name = "overtime"
    audit_prefix = "overtime.request"

    def pending(self) -> QuerySet[OvertimeRequest]:
        return OvertimeRequest.objects.select_related(
            "employee__user", "employee__department", "employee__attendance_group"
        ).filter(status=Status.PENDING)

    def lock(self, pk: int) -> OvertimeRequest:
        return _lock(pk)

    def zone(self, request: OvertimeRequest) -> ZoneInfo:
        return employee_zone(request.employee)

    def participants(self, request: OvertimeRequest) -> set[int]:
        return {request.applicant_id, request.employee.user_id}

    def record_action(
        self, request: OvertimeRequest, kind: str, actor: Any, **fields: Any
    ) -> OvertimeAction:
        return _action(request, kind, actor, **fields)

    def notify_approvers(self, request: OvertimeRequest) -> None:
        _notify_approvers(request)

    def describe(self, request: OvertimeRequest) -> str:
        """One line of the approvers' digest."""
        cancel = "撤销 " if request.cancels_id else ""
        return f"#{request.pk} {request.employee.name} {request.date:%m-%d} {cancel}加班"

    def inbox_url(self) -> str:
        try:
            return reverse("requests:inbox")
        except NoReverseMatch:
            return ""

    def inbox_types(self) -> list[tuple[str, str]]:
        return [("overtime", gettext("Overtime"))]

    def inbox_rows(self, user: Any, now: datetime) -> list[inboxes.InboxRow]:
        """The overtime (and its cancellations) waiting for ``user``: three queries (the
        requests, the work calendar, the delegations) however many."""
        found = list(to_decide_q(user)[: inboxes.MAX_ROWS])
        rows = []
        for req in found:
            tz = employee_zone(req.employee)
            start, end = req.start.astimezone(tz), req.end.astimezone(tz)
            cancel = req.cancels_id is not None
            rows.append(
                inboxes.InboxRow(
                    source=self.name,
                    type="overtime",
                    type_label=gettext("Overtime"),
                    pk=req.pk,
                    employee_name=req.employee.name,
                    employee_no=req.employee.employee_no,
                    first_day=req.date,
                    last_day=req.date,
                    when=f"{req.date.isoformat()} {start:%H:%M}–{end:%H:%M}",
                    url=detail_url(req),
                    waiting_since=req.step_started_at,
                    cancellation=cancel,
                    reason=req.reason,
                    detail=gettext("%(h)s h") % {"h": f"{req.minutes / 60:.1f}"}
                    + (f" · {Compensation(req.compensation).label}" if req.compensation else ""),
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
        waiting = {r.pk: r for r in to_decide_q(actor).filter(pk__in=ids)}
        inboxes.refuse_missing(ids, waiting, _("This request is no longer waiting for you."))
        return inboxes.approve_each(
            ids, lambda pk: overtime_approve(actor=actor, request=waiting[pk], comment=comment)
        )

    def notify_overdue(
        self, request: OvertimeRequest, recipients: Iterable[Any], deadline: datetime, tz: ZoneInfo
    ) -> None:
        _notify(
            "approval_overdue",
            recipients,
            request,
            _("Approval overdue: overtime #%(id)s of %(name)s"),
            _(
                "Step %(step)s of the overtime request of %(name)s for %(day)s was due "
                "%(deadline)s."
            ),
            params={
                "deadline": deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "step": request.current_step,
            },
        )


OVERTIME = Overtime()
