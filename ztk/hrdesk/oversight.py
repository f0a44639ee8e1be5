"""Approvals oversight for HR (审批监控): every pending correction request with its age, its
current step and approver, the step's SLA deadline, breaches first — and escalation.

Requests nobody could be found to decide (``routing.OVERSIGHT``: the applicant is the only
HR admin and there is no superuser, …) are flagged and come before everything else; any HR
admin or superuser who is not a participant decides them from the request's page, so
superusers may open this page too (escalating stays HR's).

The deadline of a step is the one the overdue notices use (``approvals.sla.step_deadline``):
the end of the N-th working day after the step started, N from the chain snapshot
(supervisor 2, HR 1 by default), working days from the company work calendar.

``correction_escalate`` is a service (HR only, atomic, audited): it reminds the step's
approvers and tells their direct supervisors and HR. An escalation is an audit event, not
a move of the request; the same step is escalated at most once every
``ESCALATE_INTERVAL`` (a second click is refused with ``escalated_recently``).

The pages are in ``ztk.hrdesk.views.oversight``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.approvals import routing
from ztk.approvals.chains import fallback_text
from ztk.approvals.sla import step_deadline
from ztk.attendance.days import employee_zone
from ztk.attendance.explain import slot_label
from ztk.audit.models import AuditEvent
from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.corrections.models import CorrectionRequest, Status, check_transition
from ztk.corrections.page_selectors import kind_label
from ztk.corrections.rules import is_participant
from ztk.notifications.services import notify
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.roles import HR
from ztk.org.rules import is_hr
from ztk.scheduling.selectors import working_days_between

User = get_user_model()

ESCALATED_RECENTLY = "escalated_recently"
ESCALATE_ACTION = "corrections.request.escalate"
ESCALATE_INTERVAL = timedelta(minutes=10)
DEADLINE_HORIZON = timedelta(days=60)  # working days looked at beyond today
NOTE_MAX = 500
PAGE_SIZE = 50

MESSAGES = {
    ESCALATED_RECENTLY: _(
        "This step was escalated at %(at)s already; wait a little before escalating it again."
    ),
}


# --- reads --------------------------------------------------------------------------------


@dataclass
class OversightRow:
    request: CorrectionRequest
    step: dict[str, Any]
    approvers: list[str]
    age: timedelta
    deadline: datetime | None
    overdue: bool
    overdue_by: timedelta | None
    last_escalated: datetime | None = None
    escalations: int = 0
    approver_kind: str = field(default="")

    @property
    def slot(self) -> str:
        key = self.request.slot_key
        return slot_label(key, int(key[-1]) if key[-1:].isdigit() else 1)

    @property
    def kind_label(self) -> str:
        return kind_label(self.approver_kind)

    @property
    def flagged(self) -> bool:
        """Nobody could be found to decide it: an HR admin or a superuser must."""
        return self.approver_kind == routing.OVERSIGHT

    @property
    def fallback(self) -> str:
        return fallback_text(self.step)


def _last_escalations(ids: list[int]) -> dict[int, tuple[datetime, int, int | None]]:
    """Per request: (last escalation time, escalations so far, the step last escalated)."""
    out: dict[int, tuple[datetime, int, int | None]] = {}
    if not ids:
        return out
    for object_id, at, changes in (
        AuditEvent.objects.filter(action=ESCALATE_ACTION, object_id__in=[str(i) for i in ids])
        .order_by("seq")
        .values_list("object_id", "at", "changes")
    ):
        pk = int(object_id)
        count = out.get(pk, (at, 0, None))[1] + 1
        out[pk] = (at, count, (changes or {}).get("step"))
    return out


def _deadlines(requests: list[CorrectionRequest], now: datetime) -> dict[int, datetime | None]:
    started = [r.step_started_at for r in requests if r.step_started_at is not None]
    if not started:
        return {}
    work = working_days_between(
        min(started).date() - timedelta(days=1), (now + DEADLINE_HORIZON).date()
    )
    out: dict[int, datetime | None] = {}
    for req in requests:
        if req.step_started_at is None:
            out[req.pk] = None
            continue
        step = req.step() or {}
        out[req.pk] = step_deadline(
            req.step_started_at,
            int(step.get("deadline_working_days") or 1),
            employee_zone(req.employee),
            work,
        )
    return out


def pending_oversight(
    *,
    now: datetime | None = None,
    group: AttendanceGroup | None = None,
    overdue_only: bool = False,
) -> list[OversightRow]:
    """Every pending request: flagged ones (nobody to decide) first, then overdue ones
    (longest overdue first), then by the nearest deadline, then oldest. A fixed number of
    queries whatever the count."""
    now = now or timezone.now()
    qs = CorrectionRequest.objects.filter(status=Status.PENDING).select_related(
        "employee__department", "employee__attendance_group", "applicant", "category"
    )
    if group is not None:
        qs = qs.filter(employee__attendance_group=group)
    requests = list(qs.order_by("created_at", "pk"))
    deadlines = _deadlines(requests, now)
    escalations = _last_escalations([r.pk for r in requests])
    rows = []
    for req in requests:
        step = req.step() or {}
        deadline = deadlines.get(req.pk)
        overdue = deadline is not None and now >= deadline
        last = escalations.get(req.pk)
        names = list(step.get("names") or [])
        rows.append(
            OversightRow(
                request=req,
                step=step,
                approvers=names,
                age=now - req.created_at,
                deadline=deadline,
                overdue=overdue,
                overdue_by=(now - deadline) if overdue and deadline else None,
                last_escalated=last[0] if last else None,
                escalations=last[1] if last else 0,
                approver_kind=str(step.get("kind") or req.current_kind or ""),
            )
        )
    if overdue_only:
        rows = [r for r in rows if r.overdue]
    far = now + timedelta(days=36500)
    rows.sort(
        key=lambda r: (
            not r.flagged,
            not r.overdue,
            r.deadline or far,
            r.request.created_at,
            r.request.pk,
        )
    )
    return rows


# --- escalation ---------------------------------------------------------------------------


def _display_name(user: Any) -> str:
    try:
        return user.employee.name
    except Exception:  # noqa: BLE001 - an account without an employee record
        return user.get_username()


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the page is not mounted in this deployment
        return ""


def correction_escalate(
    *,
    actor: Any,
    request: CorrectionRequest,
    note: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Escalate a pending request's current step (催办/升级): the step's approvers are
    reminded, their direct supervisors and HR are told. HR only; audited; refused for a
    request that is no longer pending or a step escalated within ESCALATE_INTERVAL.
    Returns who was told."""
    if not is_hr(actor):
        raise PermissionDeniedError()
    now = now or timezone.now()
    note = clean_text(note, field="note", label=_("Note"), multiline=True)
    note = " ".join(note.split())[:NOTE_MAX]
    with transaction.atomic():
        req = (
            CorrectionRequest.objects.select_for_update(of=("self",))
            .select_related("employee__user", "employee__department", "employee__attendance_group")
            .get(pk=request.pk)
        )
        check_transition(req.status, Status.APPROVED)  # refuses anything not pending
        step = req.step() or {}
        last = _last_escalations([req.pk]).get(req.pk)
        if last and last[2] == req.current_step and now - last[0] < ESCALATE_INTERVAL:
            tz = employee_zone(req.employee)
            raise DomainError(
                ESCALATED_RECENTLY,
                MESSAGES[ESCALATED_RECENTLY]
                % {"at": last[0].astimezone(tz).strftime("%Y-%m-%d %H:%M")},
            )
        approver_ids = list(step.get("approvers") or [])
        approvers = [
            u
            for u in User.objects.filter(pk__in=approver_ids, is_active=True).order_by("pk")
            if not is_participant(u, req)
        ]
        bosses_by_id = {}
        for emp in Employee.objects.filter(user_id__in=approver_ids).select_related(
            "supervisor__user"
        ):
            boss = emp.supervisor
            if boss is not None and boss.active and boss.user.is_active:
                bosses_by_id[boss.user_id] = boss.user
        hr_people = list(
            User.objects.filter(groups__name=HR, is_active=True).order_by("pk").distinct()
        )
        told_approvers = {u.pk for u in approvers}
        managers = [
            u
            for u in [*bosses_by_id.values(), *hr_people]
            if u.pk not in told_approvers and u.pk != actor.pk and not is_participant(u, req)
        ]
        deadline = _deadlines([req], now).get(req.pk)
        tz = employee_zone(req.employee)
        record(
            ESCALATE_ACTION,
            obj=req,
            actor=actor,
            extra={
                "step": req.current_step,
                "kind": step.get("kind"),
                "approvers": approver_ids,
                "supervisors": sorted(bosses_by_id),
                "notified": sorted({u.pk for u in [*approvers, *managers]}),
                "deadline": deadline,
                "overdue": bool(deadline and now >= deadline),
                "note": note or None,
            },
        )
        text = {
            "id": req.pk,
            "name": req.employee.name,
            "day": req.date.isoformat(),
            "step": req.current_step,
            "approvers": "、".join(step.get("names") or []) or _("HR"),
            "since": req.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "deadline": deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M") if deadline else "—",
            "by": _display_name(actor),
        }
        # Templates, not text: ``notify`` writes them in every language (each reader's own).
        suffix = f"\n{note}" if note else ""
        data = {"correction_id": req.pk, "employee": req.employee.employee_no}
        if approvers:
            notify(
                kind="approval_escalated",
                recipients=approvers,
                title=_("Reminder: correction #%(id)s of %(name)s waits for you"),
                body=_(
                    "HR (%(by)s) asks you to decide the correction of %(name)s for "
                    "%(day)s, submitted %(since)s; the step was due %(deadline)s."
                ),
                params=text,
                suffix=suffix,
                url=_url("requests:detail", req.pk),
                data=data,
                department=req.employee.department,
            )
        if managers:
            notify(
                kind="approval_escalated",
                recipients=managers,
                title=_("Escalated: correction #%(id)s of %(name)s is waiting"),
                body=_(
                    "Step %(step)s of the correction of %(name)s for %(day)s waits for "
                    "%(approvers)s since %(since)s; it was due %(deadline)s. Escalated "
                    "by %(by)s."
                ),
                params=text,
                suffix=suffix,
                url=_url("requests:detail", req.pk),
                data=data,
                department=req.employee.department,
            )
    return {
        "approvers": [u.pk for u in approvers],
        "notified": [u.pk for u in managers],
        "deadline": deadline,
    }
