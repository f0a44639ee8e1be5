"""Every write of the correction flow (补卡): submit, approve, reject, transfer, comment,
withdraw, resubmit, attachments, period cancellation, delegations and overdue notices.

Each service is keyword-only, checks permissions first, runs in one transaction, writes
an ``ApprovalAction`` for the request's trail and an audit event with before/after, and
notifies people through ``ztk.notifications`` inside the same transaction (delivery
happens after the commit, so a rolled-back change notifies nobody).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk.attendance.days import closed_days, day_slots, employee_zone, is_closed
from ztk.audit.services import record
from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.parse import FIRST_DAY, LAST_DAY
from ztk.core.text import clean_text
from ztk.org.models import AttendanceGroup, Company, Employee
from ztk.org.roles import HR
from ztk.org.rules import is_hr, is_sysadmin

from . import policy as p
from . import routing
from .messages import refusal_message
from .models import (
    COUNTED_STATUSES,
    DEFAULT_DEADLINE_WORKING_DAYS,
    ActionKind,
    ApprovalAction,
    ApproverKind,
    Attachment,
    ChainPreset,
    Channel,
    CorrectionPolicy,
    CorrectionRequest,
    Delegation,
    QuotaCounter,
    ReasonCategory,
    Status,
    check_transition,
)
from .rules import is_participant, may_act, may_file_for, may_view

log = logging.getLogger(__name__)
User = get_user_model()

MAX_ITEMS = 31
MIN_DECISION_REASON = 2
WORKING_DAY_HORIZON = 90  # calendar days of work calendar looked at for working-day windows

# Stable codes of the refusals raised here (the rule check's own codes live in policy.py).
NO_ITEMS = "no_items"
TOO_MANY_ITEMS = "too_many_items"
BAD_CHANNEL = "bad_channel"
ATTACHMENT_TYPE = uploads.PROOF.type_code
ATTACHMENT_TOO_LARGE = uploads.PROOF.size_code
MAX_ATTACHMENTS = 5  # proof files per request
TOO_MANY_ATTACHMENTS = "too_many_attachments"
REASON_REQUIRED = "reason_required"
COMMENT_REQUIRED = "comment_required"
NOT_REJECTED = "not_rejected"
BAD_TRANSFER = "bad_transfer"
BAD_DELEGATION = "bad_delegation"
QUOTA_OVERRIDE_REASON = "quota_override_reason_required"
BAD_DATE = "bad_date"
EARLIEST_DAY = FIRST_DAY
LATEST_DAY = LAST_DAY

SKIP_REASONS = {
    "applicant": _("The approver of this step is the applicant."),
    "duplicate": _("HR already approves at an earlier step."),
}
# Why a step fell back (routing's reasons) and to whom: the routing form and the trail.
FALLBACK_REASONS = {
    routing.MISSING: _("Nobody holds this approver's role (no supervisor or HR admin)."),
    routing.INACTIVE: _("The approver has left or their account is deactivated."),
    routing.APPLICANT: _("The only approver is the applicant or the employee."),
    routing.AWAY: _("The approver is away and the delegation leads back to the applicant."),
}
FALLBACK_TO = {
    routing.HR: _("Another HR admin decides."),
    routing.SUPERUSER: _("No other HR admin: a superuser decides."),
    routing.OVERSIGHT: _(
        "Nobody else can decide: the request waits on the oversight page for an HR admin "
        "or a superuser."
    ),
}

MESSAGES = {
    NO_ITEMS: _("Choose at least one day and punch to correct."),
    TOO_MANY_ITEMS: _("At most %(max)d days and punches can be submitted at once."),
    BAD_CHANNEL: _("Unknown channel."),
    ATTACHMENT_TYPE: uploads.PROOF.type_message,
    ATTACHMENT_TOO_LARGE: uploads.PROOF.size_message,
    TOO_MANY_ATTACHMENTS: _("A request may have at most %(max)d attachments."),
    REASON_REQUIRED: _("Give a reason for the rejection."),
    COMMENT_REQUIRED: _("Write a comment."),
    NOT_REJECTED: _("Only a rejected request can be resubmitted."),
    BAD_TRANSFER: _("The request cannot be transferred to this person."),
    BAD_DELEGATION: _("The delegation is not valid: %(why)s"),
    QUOTA_OVERRIDE_REASON: _("Give the reason for overriding the limit."),
    BAD_DATE: _("The date is out of range."),
}


# Names of the free-text fields, for a refused character (core.text's `invalid_text`).
TEXT_LABELS = {
    "reason": _("Reason"),
    "justification": _("Justification"),
    "category": _("Category"),
    "comment": _("Comment"),
    "quota_override_reason": _("Reason for overriding the limit"),
}


def _text(value: Any, field: str, *, multiline: bool = True) -> str:
    """Free text from any caller (page, API, import, CLI), stripped, or `invalid_text`."""
    return clean_text(value, field=field, label=TEXT_LABELS[field], multiline=multiline)


def check_day(day: date) -> None:
    """Dates the calendar and the engine can work with (2000–2100)."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise DomainError(BAD_DATE, MESSAGES[BAD_DATE], details={"date": day.isoformat()})


@dataclass(frozen=True, slots=True)
class ItemIn:
    """One day-slot to correct; several in one submission give one request each."""

    day: date
    slot_key: str
    requested_time: datetime
    category: str
    reason: str
    expedited: bool = False
    justification: str = ""


# --------------------------------------------------------------------------- helpers


def _require_user(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDeniedError()


def period_start_day() -> int:
    """The company's period start day (1–28); the attendance periods follow it too."""
    value = Company.objects.values_list("period_start_day", flat=True).first()
    return value if value and 1 <= value <= 28 else 1


def policy_row_for(group: AttendanceGroup | None) -> CorrectionPolicy:
    """The group's policy row, or an unsaved one with the defaults."""
    if group is None:
        return CorrectionPolicy()
    try:
        return group.correction_policy
    except CorrectionPolicy.DoesNotExist:
        return CorrectionPolicy(group=group)


def categories_for(row: CorrectionPolicy) -> dict[str, ReasonCategory]:
    """Active categories offered under a policy: the global ones, overridden by its own."""
    query = Q(policy__isnull=True)
    if row.pk:
        query |= Q(policy=row)
    found: dict[str, ReasonCategory] = {}
    for category in ReasonCategory.objects.filter(query, active=True).order_by(
        F("policy_id").asc(nulls_first=True), "order", "code"
    ):
        found[category.code] = category
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


def policy_for(row: CorrectionPolicy, categories: dict[str, ReasonCategory]) -> p.Policy:
    return p.Policy(
        monthly_limit=row.monthly_limit,
        window_days=row.window_days,
        window_mode=row.window_mode,
        cutoff_day=row.cutoff_day,
        correctable=row.correctable,
        min_reason_length=row.min_reason_length,
        self_apply=row.self_apply,
        attachment_categories=frozenset(
            c for c, cat in categories.items() if cat.requires_attachment
        ),
        categories=frozenset(categories),
        expedite_allowed=row.expedite_allowed,
        period_start_day=period_start_day(),
    )


def working_days_between(start: date, end: date) -> list[date]:
    """Working days in [start, end] by the company work calendar: Monday–Friday, minus
    statutory holidays, plus make-up working days (调休)."""
    from ztk.scheduling.models import WorkCalendarDay

    if end < start:
        return []
    marked = dict(
        WorkCalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "kind")
    )
    days = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        kind = marked.get(day)
        if kind == WorkCalendarDay.Kind.WORKDAY or (
            kind != WorkCalendarDay.Kind.HOLIDAY and day.weekday() < 5
        ):
            days.append(day)
    return days


def working_days_after(day: date, horizon: int = WORKING_DAY_HORIZON) -> tuple[date, ...]:
    return tuple(working_days_between(day + timedelta(days=1), day + timedelta(days=horizon)))


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=tz)
    return value


def _display_name(user: Any) -> str:
    try:
        return user.employee.name
    except Exception:  # noqa: BLE001 - an account without an employee record
        return user.get_username()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _snap(req: CorrectionRequest) -> dict[str, Any]:
    return {
        "status": req.status,
        "current_step": req.current_step,
        "requested_time": _iso(req.requested_time),
        "original_requested_time": _iso(req.original_requested_time),
        "punch_id": req.punch_id,
    }


def request_snapshot(req: CorrectionRequest) -> dict[str, Any]:
    """A request's state as its audit events record it (status, step, times, punch), for
    the writes of other apps that create or change requests (the HR desk's paper forms)."""
    return _snap(req)


def _lock(request: CorrectionRequest) -> CorrectionRequest:
    """The request re-read under a row lock, so two approvers cannot both decide it."""
    return (
        CorrectionRequest.objects.select_for_update(of=("self",))
        .select_related("employee__user", "employee__department", "employee__attendance_group")
        .get(pk=request.pk)
    )


def _visible_or_404(actor: Any, req: CorrectionRequest) -> None:
    _require_user(actor)
    if not may_view(actor, req):
        raise NotFoundError()


def _action(req: CorrectionRequest, kind: str, actor: Any, **fields: Any) -> ApprovalAction:
    return ApprovalAction.objects.create(request=req, action=kind, actor=actor, **fields)


# --------------------------------------------------------------------------- notifications


def _notify(
    kind: str,
    recipients: Iterable[Any],
    req: CorrectionRequest,
    title: Any,
    body: Any,
    params: dict[str, Any] | None = None,
    suffix: str = "",
) -> None:
    """Inbox + email + robots, written in the company's language whatever the language of
    the request that triggered it (the recipient reads it later). `title` and `body` are
    lazy templates filled with the request's description and `params`."""
    try:
        from ztk.notifications.services import notify
    except ImportError:  # notifications not installed: nothing to deliver
        return
    people = [u for u in recipients if u is not None]
    if not people:
        return
    with translation.override(settings.LANGUAGE_CODE):
        text = {**_describe(req), **(params or {})}
        notify(
            kind=kind,
            recipients=people,
            title=str(title) % text,
            body=str(body) % text + suffix,
            url=_detail_url(req),
            data={"correction_id": req.pk, "employee": req.employee.employee_no},
            department=req.employee.department,
        )


def notify_request(
    kind: str,
    recipients: Iterable[Any],
    req: CorrectionRequest,
    title: Any,
    body: Any,
    *,
    params: dict[str, Any] | None = None,
) -> None:
    """Tell `recipients` about `req` the way every correction notice does (inbox, e-mail,
    robots; the company's language; a link to the request's page): `title` and `body` are
    lazy templates filled with the request's name, day, slot, time and id plus `params`.
    For other apps' writes on requests (the HR desk's paper forms)."""
    _notify(kind, recipients, req, title, body, params=params)


def _detail_url(req: CorrectionRequest) -> str:
    """The request's page (电子流转单), so the notification's “Open” leads to it."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("requests:detail", args=[req.pk])
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""


def _hr_users() -> list[Any]:
    return list(User.objects.filter(groups__name=HR, is_active=True).order_by("pk").distinct())


def _users(ids: Iterable[int]) -> list[Any]:
    return list(User.objects.filter(pk__in=list(ids), is_active=True).order_by("pk"))


def _describe(req: CorrectionRequest) -> dict[str, str]:
    from ztk.attendance.explain import slot_label

    tz = employee_zone(req.employee)
    return {
        "name": req.employee.name,
        "day": req.date.isoformat(),
        "slot": slot_label(req.slot_key),
        "time": req.requested_time.astimezone(tz).strftime("%H:%M"),
        "id": str(req.pk),
    }


def _notify_approvers(req: CorrectionRequest) -> None:
    step = req.step() or {}
    people = _users(step.get("approvers", []))
    if step.get("kind") == ApproverKind.HR:
        people = [*people, *_hr_users()]
    people = [u for u in people if not is_participant(u, req)]
    title = (
        _("[Expedited] Correction to approve: %(name)s %(day)s %(slot)s")
        if req.expedited
        else _("Correction to approve: %(name)s %(day)s %(slot)s")
    )
    _notify(
        "correction_submitted",
        people,
        req,
        title,
        _("%(name)s asks to record %(slot)s on %(day)s at %(time)s (request #%(id)s)."),
    )


def _notify_participants(
    req: CorrectionRequest, kind: str, title: Any, body: Any, **kwargs: Any
) -> None:
    _notify(kind, _users({req.employee.user_id, req.applicant_id}), req, title, body, **kwargs)


# --------------------------------------------------------------------------- quota


def lock_quota(employee: Employee, period_start: date) -> QuotaCounter:
    """The employee's counter row for the period, locked until the transaction ends."""
    QuotaCounter.objects.get_or_create(employee=employee, period_start=period_start)
    return QuotaCounter.objects.select_for_update().get(
        employee=employee, period_start=period_start
    )


def used_in_period(
    employee: Employee, period_start: date, row: CorrectionPolicy | None = None
) -> int:
    """Places used in the period: pending and approved requests that count, plus HR manual
    adds when the policy counts them."""
    used = CorrectionRequest.objects.filter(
        employee=employee,
        period_start=period_start,
        status__in=COUNTED_STATUSES,
        counts_against_quota=True,
    ).count()
    row = row if row is not None else policy_row_for(employee.attendance_group)
    if row.manual_adds_count:
        from ztk.punches.models import Punch

        tz = employee_zone(employee)
        _start, end = p.period_of(period_start, period_start_day())
        used += (
            Punch.objects.filter(
                employee=employee,
                source="manual",
                void__isnull=True,
                at__gte=datetime.combine(period_start, time.min, tzinfo=tz),
                at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
            )
            .values("pk")
            .count()
        )
    return used


def quota_refresh(
    employee: Employee, period_start: date, row: CorrectionPolicy | None = None
) -> int:
    """Store the places used in the period (``used_in_period``) in the employee's counter
    row, when there is one, and return them. Every write that changes the count calls it:
    submit and decisions here, the HR desk's paper forms and manual adds."""
    used = used_in_period(employee, period_start, row)
    QuotaCounter.objects.filter(employee=employee, period_start=period_start).update(used=used)
    return used


def _refresh_counter(req: CorrectionRequest) -> None:
    quota_refresh(req.employee, req.period_start)


# --------------------------------------------------------------------------- chains


def _configured_steps(row: CorrectionPolicy) -> list[tuple[str, int | None, int]]:
    """(approver kind, named user, deadline in working days) per configured step."""
    supervisor = (ApproverKind.SUPERVISOR, None, DEFAULT_DEADLINE_WORKING_DAYS["supervisor"])
    hr = (ApproverKind.HR, None, DEFAULT_DEADLINE_WORKING_DAYS["hr"])
    preset = row.chain_preset
    if preset == ChainPreset.SINGLE:
        return [supervisor]
    if preset == ChainPreset.FLAT:
        return [hr]
    if preset == ChainPreset.CUSTOM:
        steps = (
            [(s.approver_kind, s.user_id, s.deadline) for s in row.steps.all()] if row.pk else []
        )
        return steps or [hr]
    return [supervisor, hr]


def _resolve(kind: str, user_id: int | None, employee: Employee) -> list[int]:
    """The users a configured step names for `employee` (empty: nobody holds the role).

    Whether they can decide (present, not the applicant, not away) is routing's question.
    """
    if kind == ApproverKind.SUPERVISOR:
        boss = employee.supervisor
        if boss is not None and boss.pk != employee.pk:
            return [boss.user_id]
        return []
    if kind == ApproverKind.DEPARTMENT_HEAD:
        department = employee.department
        chain = [department, *department.ancestors()] if department is not None else []
        for dept in chain:  # a vacant head (or the employee heading it) → walk up
            head = dept.head
            if head is not None and head.active and head.pk != employee.pk:
                return [head.user_id]
        return []
    if kind == ApproverKind.USER:
        return [user_id] if user_id is not None else []
    return []


class OrgFacts:
    """The organisation as routing sees it on one day: HR admins, superusers, delegations
    in force and who is present — read once for a submission or a sweep."""

    def __init__(self, day: date, extra_ids: Iterable[int] = ()) -> None:
        self.day = day
        self.hr = tuple(
            User.objects.filter(groups__name=HR, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
            .distinct()
        )
        self.superusers = tuple(
            User.objects.filter(is_superuser=True, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        delegations: dict[int, set[int]] = {}
        for approver, delegate in Delegation.objects.filter(
            start__lte=day, end__gte=day
        ).values_list("approver_id", "delegate_id"):
            delegations.setdefault(approver, set()).add(delegate)
        self.delegations = {k: frozenset(v) for k, v in delegations.items()}
        self._present: set[int] = set()
        self._known: set[int] = set()
        known = {*self.hr, *self.superusers, *extra_ids}
        for approver, delegates in self.delegations.items():
            known |= {approver, *delegates}
        self._learn(known)

    @classmethod
    def for_request(cls, req: CorrectionRequest, now: datetime) -> OrgFacts:
        day = now.astimezone(employee_zone(req.employee)).date()
        return cls(day, [uid for step in req.chain for uid in step.get("approvers", [])])

    def _learn(self, ids: Iterable[int]) -> None:
        """Which of these accounts may act: active, their employee (if any) active and not
        past the leave date."""
        new = {i for i in ids if i is not None} - self._known
        if not new:
            return
        self._known |= new
        self._present |= set(
            User.objects.filter(pk__in=new, is_active=True)
            .exclude(employee__active=False)
            .exclude(employee__leave_date__lt=self.day)
            .values_list("pk", flat=True)
        )

    def people(self, participants: Iterable[int], approvers: Iterable[int] = ()) -> routing.People:
        self._learn([*participants, *approvers])
        return routing.People(
            participants=frozenset(participants),
            present=frozenset(self._present),
            hr=self.hr,
            superusers=self.superusers,
            delegations=self.delegations,
        )


# Approver kinds that stand for HR's check: a later HR step after one of them is a duplicate.
HR_LIKE = (ApproverKind.HR, routing.SUPERUSER, routing.OVERSIGHT)


def _step(
    position: int, configured: str, deadline: int, route: routing.Route | None, skip: str = ""
) -> dict[str, Any]:
    return {
        "position": position,
        "kind": str(route.kind if route else configured),
        "configured": str(configured),
        "approvers": list(route.approvers) if route else [],
        "deadline_working_days": deadline,
        "skipped": bool(skip),
        "skip_reason": skip,
        "fallback": bool(route and route.fell_back),
        "fallback_reason": route.reason if route else "",
        "fallback_to": route.to if route else "",
    }


def _names(ids: Iterable[int]) -> dict[int, str]:
    return {
        u.pk: _display_name(u)
        for u in User.objects.filter(pk__in=set(ids)).select_related("employee")
    }


def resolve_chain(
    *,
    row: CorrectionPolicy,
    employee: Employee,
    applicant: Any,
    on_behalf: bool,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The chain snapshot stored on a request: who approves each step, resolved now.

    - A step is skipped when the applicant filing on the employee's behalf is its approver
      (a supervisor filing for a report; HR filing when no other HR admin can decide), and
      an HR step after a step that already stands for HR is skipped as a duplicate.
    - Any other step whose approvers cannot decide it (vacant, departed, the applicant or
      the employee themselves, away with the delegation leading back) falls back to another
      HR admin, else a superuser, else it is flagged for the oversight page
      (``routing.route_step``). Nobody ever approves their own correction.
    - When every step is skipped, HR approves (a last HR step is added, with the same
      fallback) — unless HR filed it on the employee's behalf, which is then final (HR has
      the last word; the request is approved at once).
    """
    now = now or timezone.now()
    configured = _configured_steps(row)
    named = {kind_user: _resolve(kind_user[0], kind_user[1], employee) for kind_user in
             {(kind, user_id) for kind, user_id, _deadline in configured}}  # fmt: skip
    facts = OrgFacts(
        now.astimezone(employee_zone(employee)).date(),
        [uid for ids in named.values() for uid in ids],
    )
    people = facts.people({applicant.pk, employee.user_id})
    applicant_is_hr = applicant.pk in facts.hr
    steps: list[dict[str, Any]] = []
    for position, (kind, user_id, deadline) in enumerate(configured, start=1):
        approvers = named[(kind, user_id)]
        skip = ""
        if kind == ApproverKind.HR:
            if any(s["kind"] in HR_LIKE and not s["skipped"] for s in steps):
                skip = "duplicate"  # HR approves once
            elif on_behalf and applicant_is_hr and not routing.step_deciders(kind, [], people)[0]:
                skip = "applicant"
        elif on_behalf and approvers == [applicant.pk]:
            skip = "applicant"
        route = None if skip else routing.route_step(kind, approvers, people)
        steps.append(_step(position, kind, deadline, route, skip))
    if all(s["skipped"] for s in steps) and not (on_behalf and applicant_is_hr):
        route = routing.route_step(ApproverKind.HR, [], people)
        steps.append(_step(len(steps) + 1, "", DEFAULT_DEADLINE_WORKING_DAYS["hr"], route))
        steps[-1]["configured"] = ""
    names = _names(uid for s in steps for uid in s["approvers"])
    for step in steps:
        step["names"] = [names.get(uid, str(uid)) for uid in step["approvers"]]
    return steps


def _reroute_if_stuck(
    req: CorrectionRequest, facts: OrgFacts, now: datetime, actor: Any = None
) -> bool:
    """Re-route the current step when nobody can decide it any more (the approver left or
    was deactivated, went away with a delegation leading back, lost the HR role …), or
    when a flagged step now has someone to decide it. Inside the caller's transaction, with
    `req` locked; recorded on the trail and in the audit log. The caller notifies."""
    step = req.step()
    if not req.is_pending or step is None:
        return False
    people = facts.people({req.applicant_id, req.employee.user_id}, step.get("approvers", []))
    route = routing.route_step(step["kind"], step.get("approvers", []), people)
    if not route.fell_back or (step["kind"] == routing.OVERSIGHT and route.flagged):
        return False
    reason = route.reason or step.get("fallback_reason", "") or routing.MISSING
    before = {"kind": step["kind"], "approvers": list(step.get("approvers", []))}
    chain = [dict(s) for s in req.chain]
    current = next(s for s in chain if s["position"] == req.current_step)
    current.update(
        kind=route.kind,
        approvers=list(route.approvers),
        names=[_names(route.approvers).get(uid, str(uid)) for uid in route.approvers],
        fallback=True,
        fallback_reason=reason,
        fallback_to=route.to,
        rerouted_from=before["approvers"],
    )
    req.chain = chain
    req.current_kind = route.kind
    req.step_started_at = now
    req.overdue_notified_step = None
    req.current_approvers.set(route.approvers)
    req.save(update_fields=["chain", "current_kind", "step_started_at", "overdue_notified_step"])
    _action(req, ActionKind.REROUTE, actor, step=req.current_step, comment=fallback_text(current))
    record(
        "corrections.request.reroute",
        obj=req,
        actor=actor,
        before=before,
        after={"kind": route.kind, "approvers": list(route.approvers)},
        extra={"step": req.current_step, "reason": reason, "to": route.to},
    )
    return True


def fallback_text(step: dict[str, Any]) -> str:
    """Why a step fell back and to whom, as the routing form and the trail say it."""
    if not step.get("fallback"):
        return ""
    why = FALLBACK_REASONS.get(step.get("fallback_reason", ""), FALLBACK_REASONS["missing"])
    to = FALLBACK_TO.get(step.get("fallback_to", ""), FALLBACK_TO["hr"])
    return f"{why} {to}"


def corrections_reroute(
    *, user_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Re-route every pending request nobody can decide any more (system action: the
    periodic sweep, a deactivation, a role change, a delegation). `user_ids`: only the
    requests whose current step names one of them. Returns how many moved."""
    now = now or timezone.now()
    qs = CorrectionRequest.objects.filter(status=Status.PENDING, current_step__isnull=False)
    if user_ids is not None:
        qs = qs.filter(current_approvers__in=list(user_ids))
    pks = list(qs.values_list("pk", flat=True).distinct().order_by("pk"))
    facts_by_day: dict[date, OrgFacts] = {}
    moved = 0
    for pk in pks:
        with transaction.atomic():
            req = _lock(CorrectionRequest(pk=pk))
            day = now.astimezone(employee_zone(req.employee)).date()
            if day not in facts_by_day:
                facts_by_day[day] = OrgFacts(day)
            if _reroute_if_stuck(req, facts_by_day[day], now):
                _notify_approvers(req)
                moved += 1
    return moved


def _enter_step(req: CorrectionRequest, step: dict[str, Any] | None, now: datetime) -> None:
    if step is None:
        req.current_step, req.current_kind, req.step_started_at = None, "", None
        req.current_approvers.clear()
        return
    req.current_step = step["position"]
    req.current_kind = step["kind"]
    req.step_started_at = now
    req.current_approvers.set(step["approvers"])


def _decide(
    req: CorrectionRequest, status: str, actor: Any, now: datetime, extra_fields=()
) -> None:
    """End the request's route in `status` (approved, rejected, withdrawn or cancelled)."""
    req.status = status
    req.decided_at, req.decided_by = now, actor
    _enter_step(req, None, now)
    req.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            *extra_fields,
            "current_step",
            "current_kind",
            "step_started_at",
        ]
    )


def _next_step(req: CorrectionRequest, after: int | None) -> dict[str, Any] | None:
    for step in req.chain:
        if step.get("skipped"):
            continue
        if after is None or step["position"] > after:
            return step
    return None


# --------------------------------------------------------------------------- submit


def _check_files(attachments: Sequence[Any], already: int = 0) -> list[uploads.Checked]:
    if already + len(attachments) > MAX_ATTACHMENTS:
        raise DomainError(
            TOO_MANY_ATTACHMENTS,
            MESSAGES[TOO_MANY_ATTACHMENTS] % {"max": MAX_ATTACHMENTS},
            details={"max": MAX_ATTACHMENTS},
        )
    return uploads.check_all(attachments, uploads.PROOF)


def _store_attachments(
    req: CorrectionRequest, checked: Sequence[uploads.Checked], actor: Any, stored: dict
) -> list[Attachment]:
    """Save each file once; further requests of the same submission share the stored file."""
    out = []
    for index, upload in enumerate(checked):
        attachment = Attachment(
            request=req,
            original_name=upload.name,
            content_type=upload.content_type,
            size=upload.size,
            uploaded_by=actor,
        )
        if index in stored:
            attachment.file.name = stored[index]
            attachment.save()
        else:
            file = uploads.as_stored(upload)
            attachment.file.save(file.name, file, save=False)
            attachment.save()
            stored[index] = attachment.file.name
        out.append(attachment)
    return out


def correction_submit(
    *,
    actor: Any,
    employee: Employee,
    items: Sequence[ItemIn],
    channel: str = Channel.WEB,
    attachments: Sequence[Any] = (),
    quota_override_reason: str | None = None,
    now: datetime | None = None,
) -> list[CorrectionRequest]:
    """File one request per day-slot, all or nothing.

    Any refusal of any item refuses the whole submission with DomainError (status 422):
    ``code``/``message`` of the first refusal and ``details`` listing every refusal of
    every item as ``{"index", "code", "message", "params"}``.
    """
    return _submit(
        actor=actor,
        employee=employee,
        items=items,
        channel=channel,
        attachments=attachments,
        quota_override_reason=quota_override_reason,
        now=now,
    )


def _submit(
    *,
    actor: Any,
    employee: Employee,
    items: Sequence[ItemIn],
    channel: str,
    attachments: Sequence[Any] = (),
    quota_override_reason: str | None = None,
    resubmission_of: CorrectionRequest | None = None,
    now: datetime | None = None,
) -> list[CorrectionRequest]:
    _require_user(actor)
    now = now or timezone.now()
    items = list(items)
    if not items:
        raise DomainError(NO_ITEMS, MESSAGES[NO_ITEMS])
    if len(items) > MAX_ITEMS:
        raise DomainError(TOO_MANY_ITEMS, MESSAGES[TOO_MANY_ITEMS] % {"max": MAX_ITEMS})
    if channel not in Channel.values:
        raise DomainError(BAD_CHANNEL, MESSAGES[BAD_CHANNEL])
    for entry in items:
        check_day(entry.day)
        check_day(entry.requested_time.date())
        _text(entry.reason, "reason")
        _text(entry.justification, "justification")
        _text(entry.category, "category", multiline=False)
    hr = is_hr(actor)
    if channel == Channel.PAPER and not hr:
        raise PermissionDeniedError(_("Only HR registers paper forms."))
    if not may_file_for(actor, employee):
        raise PermissionDeniedError(_("You may not file a correction on behalf of this employee."))
    override = quota_override_reason is not None
    if override:
        if not hr:
            raise PermissionDeniedError(_("Only HR may override the correction limit."))
        quota_override_reason = _text(quota_override_reason, "quota_override_reason")
        if not quota_override_reason:
            raise DomainError(QUOTA_OVERRIDE_REASON, MESSAGES[QUOTA_OVERRIDE_REASON])
    checked = _check_files(attachments)

    employee = Employee.objects.select_related(
        "user", "department", "supervisor", "attendance_group"
    ).get(pk=employee.pk)
    on_behalf = employee.user_id != actor.pk
    tz = employee_zone(employee)
    local_now = now.astimezone(tz)
    items = [
        ItemIn(
            day=i.day,
            slot_key=i.slot_key,
            requested_time=_aware(i.requested_time, tz),
            category=i.category,
            reason=i.reason or "",
            expedited=bool(i.expedited),
            justification=i.justification or "",
        )
        for i in items
    ]
    row = policy_row_for(employee.attendance_group)
    categories = categories_for(row)
    policy = policy_for(row, categories)
    days = sorted({i.day for i in items})
    slots = day_slots(employee, days, now=now)
    periods = {d: p.period_of(d, policy.period_start_day)[0] for d in days}
    working = working_days_after(days[0], (days[-1] - days[0]).days + WORKING_DAY_HORIZON)
    counts = channel != Channel.PAPER or row.paper_counts

    with transaction.atomic():
        # Inside the transaction, before the quota locks (the order period_close takes too).
        closed = closed_days(employee.attendance_group_id, days, lock=True)
        for start in sorted(set(periods.values())):  # fixed order: no deadlock between two
            lock_quota(employee, start)
        used = {start: used_in_period(employee, start, row) for start in set(periods.values())}
        pending = set(
            CorrectionRequest.objects.filter(
                employee=employee, status=Status.PENDING, date__in=days
            ).values_list("date", "slot_key")
        )
        in_batch: Counter[date] = Counter()
        seen: set[tuple[date, str]] = set()
        details: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            info = slots.get(item.day, {}).get(item.slot_key)
            start = periods[item.day]
            key = (item.day, item.slot_key)
            facts = p.Facts(
                employee_active=employee.active,
                on_behalf=on_behalf,
                applicant_may_file_on_behalf=True,  # checked above (403 otherwise)
                day=item.day,
                slot_key=item.slot_key,
                slot_status=info.status if info else None,
                slot_window_start=info.window_start if info else None,
                slot_window_end=info.window_end if info else None,
                slot_window_end_inclusive=info.end_inclusive if info else True,
                requested_time=item.requested_time,
                now=local_now,
                working_days_after=tuple(d for d in working if d > item.day),
                period_closed=item.day in closed,
                used_in_period=used[start],
                pending_for_slot=key in pending or key in seen,
                category=item.category,
                reason=item.reason,
                attachment_count=len(checked),
                expedited=item.expedited,
                expedite_justification=item.justification,
                quota_override=override,
                counts_against_quota=counts,
                batch_index_in_period=in_batch[start],
            )
            seen.add(key)
            if counts:
                in_batch[start] += 1
            for refusal in p.check_submission(policy, facts):
                details.append(
                    {
                        "index": index,
                        "code": refusal.code,
                        "message": refusal_message(refusal),
                        "params": dict(refusal.params),
                    }
                )
        if details:
            raise DomainError(details[0]["code"], details[0]["message"], details=details)

        created: list[CorrectionRequest] = []
        stored_files: dict[int, str] = {}
        chain = resolve_chain(
            row=row, employee=employee, applicant=actor, on_behalf=on_behalf, now=now
        )
        for item in items:
            info = slots[item.day][item.slot_key]
            req = CorrectionRequest.objects.create(
                employee=employee,
                applicant=actor,
                on_behalf=on_behalf,
                date=item.day,
                slot_key=item.slot_key,
                slot_kind=info.kind,
                slot_expected=info.expected,
                requested_time=item.requested_time,
                category=categories[item.category],
                reason=item.reason.strip()[:500],
                expedited=item.expedited,
                expedite_justification=item.justification.strip()[:500] if item.expedited else "",
                channel=channel,
                period_start=periods[item.day],
                counts_against_quota=counts,
                quota_override_reason=(quota_override_reason or "")[:500],
                resubmission_of=resubmission_of,
            )
            req.chain = [dict(step) for step in chain]
            _action(req, ActionKind.SUBMIT, actor, comment=req.reason)
            for step in req.chain:
                if step["skipped"]:
                    _action(
                        req,
                        ActionKind.SKIP,
                        actor,
                        step=step["position"],
                        comment=str(SKIP_REASONS.get(step["skip_reason"], "")),
                    )
                elif step["fallback"]:
                    _action(
                        req, ActionKind.REROUTE, None, step=step["position"],
                        comment=fallback_text(step),
                    )  # fmt: skip
            saved = _store_attachments(req, checked, actor, stored_files)
            first = _next_step(req, None)
            _enter_step(req, first, now)
            req.save(update_fields=["chain", "current_step", "current_kind", "step_started_at"])
            record(
                "corrections.request.submit",
                obj=req,
                actor=actor,
                before=None,
                after={
                    **_snap(req),
                    "employee_id": employee.pk,
                    "date": req.date,
                    "slot_key": req.slot_key,
                    "category": item.category,
                    "channel": channel,
                    "on_behalf": on_behalf,
                },
                extra={
                    "chain": [
                        {
                            k: s[k]
                            for k in (
                                "position",
                                "kind",
                                "approvers",
                                "skipped",
                                "fallback_reason",
                                "fallback_to",
                            )
                        }
                        for s in req.chain
                    ],
                    "attachments": [a.pk for a in saved],
                    "quota_override_reason": req.quota_override_reason or None,
                    "resubmission_of": resubmission_of.pk if resubmission_of else None,
                },
            )
            if first is None:  # HR filed it on the employee's behalf: final at once
                before = _snap(req)
                note = gettext("Filed by HR on the employee's behalf: approved at once.")
                _action(req, ActionKind.APPROVE, actor, comment=note)
                _finish_approval(req, actor=actor, now=now, comment="")
                record(
                    "corrections.request.approve",
                    obj=req,
                    actor=actor,
                    before=before,
                    after=_snap(req),
                    extra={"step": None, "final": True, "auto": True},
                )
            else:
                _notify_approvers(req)
            created.append(req)
        for start in set(periods.values()):
            quota_refresh(employee, start, row)
    return created


# --------------------------------------------------------------------------- decisions


def _validate_time(req: CorrectionRequest, value: datetime, now: datetime) -> datetime:
    tz = employee_zone(req.employee)
    check_day(value.date())
    value = _aware(value, tz)
    info = day_slots(req.employee, [req.date], now=now).get(req.date, {}).get(req.slot_key)
    local_now = now.astimezone(tz)
    refusal = None
    if value > local_now:
        refusal = p.Refusal(
            p.FUTURE_TIME,
            {
                "requested": value.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "now": local_now.strftime("%Y-%m-%d %H:%M"),
            },
        )
    elif info is not None and info.window_start and info.window_end:
        outside = value < info.window_start or value > info.window_end
        outside = outside or (value == info.window_end and not info.end_inclusive)
        if outside:
            refusal = p.Refusal(
                p.TIME_OUTSIDE_SLOT_WINDOW,
                {
                    "day": req.date.isoformat(),
                    "slot": req.slot_key,
                    "requested": value.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    "start": info.window_start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    "end": info.window_end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                },
            )
    if refusal is not None:
        raise DomainError(
            refusal.code, refusal_message(refusal), details={"params": dict(refusal.params)}
        )
    return value


def _finish_approval(req: CorrectionRequest, *, actor: Any, now: datetime, comment: str) -> None:
    """Final approval: the correction punch goes through record_punches → the day
    recomputes and the slot shows 'corrected' (补卡)."""
    from ztk.punches.models import Punch
    from ztk.punches.services import PunchInput, record_punches

    check_transition(req.status, Status.APPROVED)
    if is_closed(req.employee, req.date):
        refusal = p.Refusal(
            p.PERIOD_CLOSED,
            {"period_start": req.period_start.isoformat(), "period_end": "", "cutoff": ""},
        )
        raise DomainError(p.PERIOD_CLOSED, refusal_message(refusal))
    dedup_key = f"correction:{req.pk}"
    result = record_punches(
        [
            PunchInput(
                at=req.requested_time,
                source="correction",
                employee_id=req.employee_id,
                correction_id=req.pk,
                remark=f"补卡 #{req.pk}: {req.reason}"[:500],
                dedup_key=dedup_key,
            )
        ],
        actor=actor,
        now=now,
        audit_action="corrections.punch",
        audit_extra={"correction_id": req.pk},
    )
    if result.rejected:
        refusal = result.rejected[0]
        raise DomainError(refusal.code, refusal.message)
    if result.punch_ids:
        req.punch_id = result.punch_ids[0]
    else:
        req.punch_id = Punch.objects.values_list("pk", flat=True).get(dedup_key=dedup_key)
    _decide(req, Status.APPROVED, actor, now, extra_fields=["punch"])
    _notify_participants(
        req,
        "correction_approved",
        _("Correction approved: %(day)s %(slot)s"),
        _("Your correction of %(slot)s on %(day)s at %(time)s was approved."),
        suffix=f"\n{comment}" if comment else "",
    )


def correction_approve(
    *,
    actor: Any,
    request: CorrectionRequest,
    comment: str = "",
    adjusted_time: datetime | None = None,
    now: datetime | None = None,
) -> CorrectionRequest:
    """Approve the current step: on to the next approver, or — at the last step — final
    approval with the correction punch. `adjusted_time` corrects the time first (the
    first requested time is kept in `original_requested_time`)."""
    now = now or timezone.now()
    comment = _text(comment, "comment")[:1000]
    with transaction.atomic():
        req = _lock(request)
        _visible_or_404(actor, req)
        check_transition(req.status, Status.APPROVED)
        if not may_act(actor, req, now.astimezone(employee_zone(req.employee)).date()):
            raise PermissionDeniedError(_("You are not an approver of this step."))
        before = _snap(req)
        step = req.current_step
        if adjusted_time is not None:
            new_time = _validate_time(req, adjusted_time, now)
            if new_time != req.requested_time:
                old_time = req.requested_time
                req.original_requested_time = req.original_requested_time or old_time
                req.requested_time = new_time
                req.save(update_fields=["requested_time", "original_requested_time"])
                _action(
                    req,
                    ActionKind.ADJUST_TIME,
                    actor,
                    step=step,
                    old_time=old_time,
                    new_time=new_time,
                    comment=comment,
                )
                record(
                    "corrections.request.adjust_time",
                    obj=req,
                    actor=actor,
                    before={"requested_time": _iso(old_time)},
                    after={"requested_time": _iso(new_time)},
                    extra={"step": step},
                )
        _action(req, ActionKind.APPROVE, actor, step=step, comment=comment)
        following = _next_step(req, step)
        if following is not None:
            _enter_step(req, following, now)
            req.save(update_fields=["current_step", "current_kind", "step_started_at"])
            # The chain was resolved at submission; whoever left since is routed around.
            _reroute_if_stuck(req, OrgFacts.for_request(req, now), now)
        else:
            _finish_approval(req, actor=actor, now=now, comment=comment)
        record(
            "corrections.request.approve",
            obj=req,
            actor=actor,
            before=before,
            after=_snap(req),
            extra={"step": step, "final": following is None, "comment": comment or None},
        )
        if following is not None:
            _notify_approvers(req)
    return req


def correction_batch_approve(
    *,
    actor: Any,
    requests: Sequence[CorrectionRequest],
    comment: str = "",
    now: datetime | None = None,
) -> list[CorrectionRequest]:
    """Approve several requests at once, all or nothing: any refusal refuses the batch,
    listing each failure as ``{"index", "id", "code", "message"}``."""
    now = now or timezone.now()
    approved: list[CorrectionRequest] = []
    details: list[dict[str, Any]] = []
    with transaction.atomic():
        for index, req in enumerate(requests):
            try:
                with transaction.atomic():
                    approved.append(
                        correction_approve(actor=actor, request=req, comment=comment, now=now)
                    )
            except DomainError as error:
                details.append(
                    {"index": index, "id": req.pk, "code": error.code, "message": error.message,
                     "status": error.status}
                )  # fmt: skip
        if details:
            first = details[0]
            # Not allowed to decide one of them is a permission problem (403), as for one
            # request at a time; otherwise the batch is refused as invalid (422).
            status = 403 if any(d["status"] == 403 for d in details) else 422
            for d in details:
                del d["status"]
            raise DomainError(first["code"], first["message"], status=status, details=details)
    return approved


def correction_reject(
    *, actor: Any, request: CorrectionRequest, reason: str, now: datetime | None = None
) -> CorrectionRequest:
    """Reject at the current step (a reason is required); the employee may resubmit while
    the window is open."""
    now = now or timezone.now()
    reason = _text(reason, "reason")[:1000]
    with transaction.atomic():
        req = _lock(request)
        _visible_or_404(actor, req)
        check_transition(req.status, Status.REJECTED)
        if not may_act(actor, req, now.astimezone(employee_zone(req.employee)).date()):
            raise PermissionDeniedError(_("You are not an approver of this step."))
        if len(reason) < MIN_DECISION_REASON:
            raise DomainError(REASON_REQUIRED, MESSAGES[REASON_REQUIRED])
        before = _snap(req)
        step = req.current_step
        _action(req, ActionKind.REJECT, actor, step=step, comment=reason)
        _decide(req, Status.REJECTED, actor, now)
        _refresh_counter(req)
        record(
            "corrections.request.reject",
            obj=req,
            actor=actor,
            before=before,
            after=_snap(req),
            extra={"step": step, "reason": reason},
        )
        _notify_participants(
            req,
            "correction_rejected",
            _("Correction rejected: %(day)s %(slot)s"),
            _("Your correction of %(slot)s on %(day)s was rejected: %(reason)s"),
            params={"reason": reason},
        )
    return req


def correction_transfer(
    *,
    actor: Any,
    request: CorrectionRequest,
    to_user: Any,
    comment: str = "",
    now: datetime | None = None,
) -> CorrectionRequest:
    """Hand the current step to another person (e.g. the approver is not the right one)."""
    now = now or timezone.now()
    comment = _text(comment, "comment")[:1000]
    with transaction.atomic():
        req = _lock(request)
        _visible_or_404(actor, req)
        check_transition(req.status, Status.APPROVED)  # still pending: may move on
        if not may_act(actor, req, now.astimezone(employee_zone(req.employee)).date()):
            raise PermissionDeniedError(_("You are not an approver of this step."))
        if (
            to_user is None
            or not to_user.is_active
            or to_user.pk == actor.pk
            or is_participant(to_user, req)
        ):
            raise DomainError(BAD_TRANSFER, MESSAGES[BAD_TRANSFER])
        before = {**_snap(req), "approvers": (req.step() or {}).get("approvers", [])}
        chain = [dict(s) for s in req.chain]
        for step in chain:
            if step["position"] == req.current_step:
                step.update(
                    kind=str(ApproverKind.USER),
                    approvers=[to_user.pk],
                    names=[_display_name(to_user)],
                    transferred_from=actor.pk,
                )
                current = step
        req.chain = chain
        _enter_step(req, current, now)
        req.save(update_fields=["chain", "current_step", "current_kind", "step_started_at"])
        _action(
            req,
            ActionKind.TRANSFER,
            actor,
            step=req.current_step,
            comment=comment,
            from_user=actor,
            to_user=to_user,
        )
        record(
            "corrections.request.transfer",
            obj=req,
            actor=actor,
            before=before,
            after={**_snap(req), "approvers": [to_user.pk]},
            extra={"comment": comment or None},
        )
        _notify_approvers(req)
    return req


def correction_comment(*, actor: Any, request: CorrectionRequest, comment: str) -> ApprovalAction:
    """A remark on the request's trail by anyone who may see it; the others are told."""
    comment = _text(comment, "comment")[:1000]
    with transaction.atomic():
        req = _lock(request)
        _visible_or_404(actor, req)
        if not comment:
            raise DomainError(COMMENT_REQUIRED, MESSAGES[COMMENT_REQUIRED])
        action = _action(req, ActionKind.COMMENT, actor, step=req.current_step, comment=comment)
        record(
            "corrections.request.comment",
            obj=req,
            actor=actor,
            extra={"comment": comment, "action_id": action.pk},
        )
        step = req.step() or {}
        people = _users({req.employee.user_id, req.applicant_id, *step.get("approvers", [])})
        _notify(
            "correction_comment",
            [u for u in people if u.pk != actor.pk],
            req,
            _("New comment on correction #%(id)s"),
            _("%(by)s: %(comment)s"),
            params={"by": _display_name(actor), "comment": comment},
        )
    return action


def correction_withdraw(
    *, actor: Any, request: CorrectionRequest, now: datetime | None = None
) -> CorrectionRequest:
    """The employee or the applicant takes back a pending request; its place is freed."""
    now = now or timezone.now()
    with transaction.atomic():
        req = _lock(request)
        _visible_or_404(actor, req)
        if not is_participant(actor, req):
            raise PermissionDeniedError(_("Only the employee or the applicant may withdraw it."))
        check_transition(req.status, Status.WITHDRAWN)
        before = _snap(req)
        step = req.step() or {}
        approvers = _users(step.get("approvers", []))
        _action(req, ActionKind.WITHDRAW, actor, step=req.current_step)
        _decide(req, Status.WITHDRAWN, actor, now)
        _refresh_counter(req)
        record(
            "corrections.request.withdraw", obj=req, actor=actor, before=before, after=_snap(req)
        )
        _notify(
            "correction_withdrawn",
            approvers,
            req,
            _("Correction withdrawn: %(name)s %(day)s %(slot)s"),
            _("%(name)s withdrew request #%(id)s; nothing is left to approve."),
        )
    return req


def correction_resubmit(
    *,
    actor: Any,
    request: CorrectionRequest,
    requested_time: datetime | None = None,
    category: str | None = None,
    reason: str | None = None,
    expedited: bool | None = None,
    justification: str | None = None,
    channel: str | None = None,
    attachments: Sequence[Any] = (),
    now: datetime | None = None,
) -> CorrectionRequest:
    """A new request pre-filled from a rejected one (linked by `resubmission_of`); every
    rule applies again, so it is refused once the window has closed."""
    _require_user(actor)
    request = CorrectionRequest.objects.select_related("employee__user", "category").get(
        pk=request.pk
    )
    if not may_view(actor, request):
        raise NotFoundError()
    if not is_participant(actor, request):
        raise PermissionDeniedError(_("Only the employee or the applicant may resubmit it."))
    if request.status != Status.REJECTED:
        raise DomainError(NOT_REJECTED, MESSAGES[NOT_REJECTED])
    item = ItemIn(
        day=request.date,
        slot_key=request.slot_key,
        requested_time=requested_time or request.requested_time,
        category=category or request.category.code,
        reason=reason if reason is not None else request.reason,
        expedited=request.expedited if expedited is None else expedited,
        justification=(
            justification if justification is not None else request.expedite_justification
        ),
    )
    return _submit(
        actor=actor,
        employee=request.employee,
        items=[item],
        channel=channel or request.channel,
        attachments=attachments,
        resubmission_of=request,
        now=now,
    )[0]


# --------------------------------------------------------------------------- attachments


def attachment_add(*, actor: Any, request: CorrectionRequest, file: Any) -> Attachment:
    """Add proof while the request is pending: JPEG, PNG, HEIC, WebP or PDF by content,
    at most 10 MB each and 5 per request."""
    with transaction.atomic():
        req = _lock(request)
        _visible_or_404(actor, req)
        if not (is_participant(actor, req) or is_hr(actor)):
            raise PermissionDeniedError(_("Only the employee, the applicant or HR add proof."))
        if req.status != Status.PENDING:
            check_transition(req.status, Status.PENDING)
        checked = _check_files([file], already=req.attachments.count())
        (attachment,) = _store_attachments(req, checked, actor, {})
        record(
            "corrections.attachment.add",
            obj=attachment,
            actor=actor,
            after={
                "request_id": req.pk,
                "original_name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "file": attachment.file.name,
            },
        )
    return attachment


# --------------------------------------------------------------------------- HR


def corrections_cancel_for_period(
    *,
    actor: Any,
    group: AttendanceGroup,
    period_start: date,
    reason: str = "",
    now: datetime | None = None,
) -> int:
    """Cancel the pending requests of a group's period (HR closes the period: 月结)."""
    _require_user(actor)
    if not (is_hr(actor) or is_sysadmin(actor)):
        raise PermissionDeniedError()
    now = now or timezone.now()
    note = _text(reason, "reason")[:1000] or gettext("The attendance period was closed.")
    with transaction.atomic():
        pending = list(
            CorrectionRequest.objects.select_for_update(of=("self",))
            .select_related("employee__user", "employee__department", "employee__attendance_group")
            .filter(
                employee__attendance_group=group,
                period_start=period_start,
                status=Status.PENDING,
            )
            .order_by("pk")
        )
        for req in pending:
            before = _snap(req)
            check_transition(req.status, Status.CANCELLED)
            _action(req, ActionKind.CANCEL, actor, step=req.current_step, comment=note)
            _decide(req, Status.CANCELLED, actor, now)
            _refresh_counter(req)
            record(
                "corrections.request.cancel",
                obj=req,
                actor=actor,
                before=before,
                after=_snap(req),
                extra={"reason": note, "group_id": group.pk, "period_start": period_start},
            )
            _notify_participants(
                req,
                "correction_cancelled",
                _("Correction cancelled: %(day)s %(slot)s"),
                _("Request #%(id)s was cancelled: %(reason)s"),
                params={"reason": note},
            )
    return len(pending)


def delegation_create(
    *,
    actor: Any,
    approver: Any,
    delegate: Any,
    start: date,
    end: date,
    reason: str = "",
) -> Delegation:
    """Let `delegate` act on `approver`'s steps from `start` to `end` (both inclusive).

    The approver sets up their own; HR may set one up for anyone."""
    _require_user(actor)
    if actor.pk != approver.pk and not (is_hr(actor) or is_sysadmin(actor)):
        raise PermissionDeniedError()
    why = None
    if delegate is None or not delegate.is_active:
        why = gettext("the delegate's account is not active")
    elif delegate.pk == approver.pk:
        why = gettext("the delegate must be someone else")
    elif end < start:
        why = gettext("the end is before the start")
    elif (end - start).days > 366:
        why = gettext("a delegation lasts at most a year")
    if why:
        raise DomainError(BAD_DELEGATION, MESSAGES[BAD_DELEGATION] % {"why": why})
    with transaction.atomic():
        delegation = Delegation.objects.create(
            approver=approver,
            delegate=delegate,
            start=start,
            end=end,
            reason=_text(reason, "reason")[:200],
            created_by=actor,
        )
        record(
            "corrections.delegation.create",
            obj=delegation,
            actor=actor,
            after={
                "approver_id": approver.pk,
                "delegate_id": delegate.pk,
                "start": start,
                "end": end,
                "reason": delegation.reason,
            },
        )
        _notify_delegate(delegation)
        # The approver is away from now on: their waiting steps may have nobody left.
        corrections_reroute(user_ids={approver.pk})
    return delegation


def _notify_delegate(delegation: Delegation) -> None:
    try:
        from ztk.notifications.services import notify
    except ImportError:
        return
    with translation.override(settings.LANGUAGE_CODE):
        text = {
            "name": _display_name(delegation.approver),
            "start": delegation.start.isoformat(),
            "end": delegation.end.isoformat(),
        }
        notify(
            kind="correction_delegation",
            recipients=[delegation.delegate],
            title=str(_("You approve corrections for %(name)s") % text),
            body=str(
                _("From %(start)s to %(end)s you may approve correction requests for %(name)s.")
                % text
            ),
            data={"delegation_id": delegation.pk},
        )


# --------------------------------------------------------------------------- overdue steps


def step_deadline(
    started: datetime, working_days: int, tz: ZoneInfo, work: Sequence[date]
) -> datetime | None:
    """The end of the `working_days`-th working day after the step started (local)."""
    start_day = started.astimezone(tz).date()
    later = [d for d in work if d > start_day]
    if len(later) < max(working_days, 1):
        return None
    last = later[max(working_days, 1) - 1]
    return datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)


def corrections_notify_overdue(*, now: datetime | None = None) -> int:
    """Notify the approvers and HR of every step past its deadline, once per step."""
    now = now or timezone.now()
    candidates = list(
        CorrectionRequest.objects.select_related(
            "employee__user", "employee__department", "employee__attendance_group"
        )
        .filter(status=Status.PENDING, current_step__isnull=False, step_started_at__isnull=False)
        .filter(Q(overdue_notified_step__isnull=True) | ~Q(overdue_notified_step=F("current_step")))
        .order_by("pk")
    )
    if not candidates:
        return 0
    earliest = min(r.step_started_at for r in candidates).date() - timedelta(days=1)
    work = working_days_between(earliest, now.date() + timedelta(days=1))
    hr_people = _hr_users()
    count = 0
    for req in candidates:
        step = req.step() or {}
        tz = employee_zone(req.employee)
        deadline = step_deadline(
            req.step_started_at, int(step.get("deadline_working_days") or 1), tz, work
        )
        if deadline is None or now < deadline:
            continue
        with transaction.atomic():
            locked = _lock(req)
            if locked.status != Status.PENDING or locked.current_step != req.current_step:
                continue
            locked.overdue_notified_step = locked.current_step
            locked.save(update_fields=["overdue_notified_step"])
            record(
                "corrections.request.overdue_notice",
                obj=locked,
                actor=None,
                before={"overdue_notified_step": req.overdue_notified_step},
                after={"overdue_notified_step": locked.current_step},
                extra={"deadline": deadline},
            )
            _notify(
                "approval_overdue",
                [*_users(step.get("approvers", [])), *hr_people],
                locked,
                _("Approval overdue: correction #%(id)s of %(name)s"),
                _(
                    "Step %(step)s of the correction of %(slot)s on %(day)s by %(name)s was due "
                    "%(deadline)s."
                ),
                params={
                    "deadline": deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    "step": locked.current_step,
                },
            )
            count += 1
    return count
