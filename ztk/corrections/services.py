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
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk.approvals import chains
from ztk.approvals import services as approvals
from ztk.approvals.chains import SKIP_REASONS
from ztk.approvals.models import ActionKind, Delegation
from ztk.attendance.days import SlotInfo, closed_days, day_slots, employee_zone, is_closed
from ztk.attendance.explain import slot_label
from ztk.audit.services import record
from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.parse import FIRST_DAY, LAST_DAY
from ztk.core.text import clean_text
from ztk.engine.periods import period_of
from ztk.notifications.services import notify
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.rules import is_hr, is_sysadmin
from ztk.org.selectors import period_start_day
from ztk.punches.models import Punch
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.selectors import working_days_between

from . import policy as p
from .messages import refusal_message
from .models import (
    COUNTED_STATUSES,
    DEFAULT_DEADLINE_WORKING_DAYS,
    ApprovalAction,
    ApproverKind,
    Attachment,
    ChainPreset,
    Channel,
    CorrectionPolicy,
    CorrectionRequest,
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
QUOTA_OVERRIDE_REASON = "quota_override_reason_required"
BAD_DATE = "bad_date"
EARLIEST_DAY = FIRST_DAY
LATEST_DAY = LAST_DAY

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


def policy_row_for(group: AttendanceGroup | None) -> CorrectionPolicy:
    """The group's policy row, or an unsaved one with the defaults."""
    if group is None:
        return CorrectionPolicy()
    try:
        return group.correction_policy
    except CorrectionPolicy.DoesNotExist:
        return CorrectionPolicy(group=group)


def categories_for(row: CorrectionPolicy) -> dict[str, ReasonCategory]:
    """Active categories offered under a policy: the global ones, overridden by its own (an
    inactive row of the policy's own hides a global one of the same code)."""
    query = Q(policy__isnull=True, active=True)
    if row.pk:
        query |= Q(policy=row)
    found: dict[str, ReasonCategory] = {}
    for category in ReasonCategory.objects.filter(query).order_by(
        F("policy_id").asc(nulls_first=True), "order", "code"
    ):
        found[category.code] = category
    offered = {code: c for code, c in found.items() if c.active}
    return dict(sorted(offered.items(), key=lambda kv: (kv[1].order, kv[0])))


def policy_for(row: CorrectionPolicy, categories: dict[str, ReasonCategory]) -> p.Policy:
    return p.Policy(
        monthly_limit=row.monthly_limit,
        window_days=row.window_days,
        window_mode=cast(p.WindowMode, row.window_mode),  # the field's choices are the two modes
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


def working_days_after(day: date, horizon: int = WORKING_DAY_HORIZON) -> tuple[date, ...]:
    return tuple(working_days_between(day + timedelta(days=1), day + timedelta(days=horizon)))


def deadline_for(policy: p.Policy, day: date) -> date | None:
    """The last local date a correction for `day` may be filed, as people are told it
    (window and cut-off): the one answer for pages, the API and the missed-punch alert."""
    working: tuple[date, ...] = ()
    if policy.window_mode == "working":
        working = working_days_after(day, WORKING_DAY_HORIZON)
    return p.apply_deadline(policy, day, working)


def in_zone(value: datetime, tz: ZoneInfo) -> datetime:
    """A naive time read as wall-clock time in `tz`; an aware one as it is."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=tz)
    return value


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
    approve_url: str = "",
) -> None:
    """Inbox + email + robots, in each reader's language whatever the language of the
    request that triggered it (``notify`` renders the templates in every language; e-mail
    and robots get the company's). `title` and `body` are lazy templates filled with the
    request's description and `params`."""
    people = [u for u in recipients if u is not None]
    if not people:
        return
    notify(
        kind=kind,
        recipients=people,
        title=title,
        body=body,
        params={**_describe(req), **(params or {})},
        suffix=suffix,
        url=_detail_url(req),
        data={"correction_id": req.pk, "employee": req.employee.employee_no},
        department=req.employee.department,
        approve_url=approve_url,
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


def _detail_url(req: CorrectionRequest, page: str = "requests:detail") -> str:
    """The request's page (电子流转单), so the notification's “Open” leads to it (or
    another of its pages: the one-tap approve page)."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(page, args=[req.pk])
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""


# The slot's name, rendered when each language's text is written (``notify``).
lazy_slot_label = lazy(slot_label, str)


def _describe(req: CorrectionRequest) -> dict[str, Any]:
    tz = employee_zone(req.employee)
    return {
        "name": req.employee.name,
        "day": req.date.isoformat(),
        "slot": lazy_slot_label(req.slot_key),  # in each reader's language
        "time": req.requested_time.astimezone(tz).strftime("%H:%M"),
        "id": str(req.pk),
    }


def _notify_approvers(req: CorrectionRequest) -> None:
    people = [u for u in approvals.step_recipients(req.step()) if not is_participant(u, req)]
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
        approve_url=_detail_url(req, "requests:approve_confirm"),
    )


def _notify_participants(
    req: CorrectionRequest, kind: str, title: Any, body: Any, **kwargs: Any
) -> None:
    _notify(
        kind, approvals.users({req.employee.user_id, req.applicant_id}), req, title, body, **kwargs
    )


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
        tz = employee_zone(employee)
        _start, end = period_of(period_start, period_start_day())
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
    supervisor = (
        ApproverKind.SUPERVISOR,
        None,
        DEFAULT_DEADLINE_WORKING_DAYS[ApproverKind.SUPERVISOR],
    )
    hr = (ApproverKind.HR, None, DEFAULT_DEADLINE_WORKING_DAYS[ApproverKind.HR])
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


def resolve_chain(
    *,
    row: CorrectionPolicy,
    employee: Employee,
    applicant: Any,
    on_behalf: bool,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The chain snapshot stored on a request (``approvals.chains.resolve_chain`` over the
    policy's configured steps, on the employee's today)."""
    now = now or timezone.now()
    return chains.resolve_chain(
        configured=_configured_steps(row),
        employee=employee,
        applicant=applicant,
        on_behalf=on_behalf,
        day=now.astimezone(employee_zone(employee)).date(),
    )


def corrections_reroute(
    *, user_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Re-route every pending request nobody can decide any more (system action: the
    periodic sweep, a deactivation, a role change, a delegation). `user_ids`: only the
    requests whose current step names one of them. Returns how many moved."""
    return approvals.reroute(CORRECTIONS, user_ids=user_ids, now=now)


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


@dataclass
class SlotGround:
    """What the slot rules (``policy.check_slot``) look at for one employee's days, read
    once: the group's policy, the days' slots, periods and working days, then (``count``)
    the closed days, the places used per period and the requests pending. The submission
    reads it under its locks, the up-front check (``slot_checks``) without; both build
    each slot's facts with ``slot_facts``, so they cannot disagree."""

    employee: Employee
    on_behalf: bool
    may_file: bool
    row: CorrectionPolicy
    categories: dict[str, ReasonCategory]
    policy: p.Policy
    slots: dict[date, dict[str, SlotInfo]]
    periods: dict[date, date]
    working: tuple[date, ...]
    counts: bool
    quota_override: bool
    closed: set[date] = field(default_factory=set)
    used: dict[date, int] = field(default_factory=dict)
    pending: set[tuple[date, str]] = field(default_factory=set)

    @classmethod
    def of(
        cls,
        *,
        employee: Employee,
        actor: Any,
        days: Iterable[date],
        now: datetime,
        may_file: bool,
        counts: bool | None = True,
        quota_override: bool = False,
    ) -> SlotGround:
        """`counts` None: the paper channel, counted when the policy says so."""
        row = policy_row_for(employee.attendance_group)
        categories = categories_for(row)
        policy = policy_for(row, categories)
        wanted = sorted(set(days))
        working = (
            working_days_after(wanted[0], (wanted[-1] - wanted[0]).days + WORKING_DAY_HORIZON)
            if wanted
            else ()
        )
        return cls(
            employee=employee,
            on_behalf=employee.user_id != getattr(actor, "pk", None),
            may_file=may_file,
            row=row,
            categories=categories,
            policy=policy,
            slots=day_slots(employee, wanted, now=now),
            periods={d: period_of(d, policy.period_start_day)[0] for d in wanted},
            working=working,
            counts=row.paper_counts if counts is None else counts,
            quota_override=quota_override,
        )

    def count(self, *, lock: bool) -> None:
        """Closed days, places used and pending requests; `lock` (inside the submitting
        transaction) locks the closed periods and the quota counters first."""
        days = sorted(self.periods)
        if not days:
            return
        self.closed = set(closed_days(self.employee.attendance_group_id, days, lock=lock))
        starts = sorted(set(self.periods.values()))
        if lock:
            for start in starts:  # fixed order: no deadlock between two
                lock_quota(self.employee, start)
        self.used = {start: used_in_period(self.employee, start, self.row) for start in starts}
        self.pending = set(
            CorrectionRequest.objects.filter(
                employee=self.employee, status=Status.PENDING, date__in=days
            ).values_list("date", "slot_key")
        )

    def slot_facts(
        self,
        day: date,
        slot_key: str,
        *,
        today: date,
        batch_index: int = 0,
        also_in_batch: bool = False,
    ) -> p.SlotFacts:
        info = self.slots.get(day, {}).get(slot_key)
        return p.SlotFacts(
            employee_active=self.employee.active,
            on_behalf=self.on_behalf,
            applicant_may_file_on_behalf=self.may_file,
            day=day,
            slot_key=slot_key,
            slot_status=info.status if info else None,
            today=today,
            working_days_after=tuple(d for d in self.working if d > day),
            period_closed=day in self.closed,
            used_in_period=self.used.get(self.periods[day], 0),
            pending_for_slot=(day, slot_key) in self.pending or also_in_batch,
            quota_override=self.quota_override,
            counts_against_quota=self.counts,
            batch_index_in_period=batch_index,
        )


def slot_checks(
    *, actor: Any, employee: Employee, days: Iterable[date], now: datetime | None = None
) -> dict[tuple[date, str], list[p.Refusal]]:
    """Up front, before any form: for every slot of these days, what a correction filed
    now by `actor` for that slot alone would be refused with (``policy.check_slot``, over
    the facts the submission reads); an empty list means it can be filed. Nothing is
    locked or written. A fixed number of queries whatever the number of days."""
    now = now or timezone.now()
    wanted = sorted({d for d in days if EARLIEST_DAY <= d <= LATEST_DAY})
    if not wanted or actor is None or not getattr(actor, "is_authenticated", False):
        return {}
    ground = SlotGround.of(
        employee=employee,
        actor=actor,
        days=wanted,
        now=now,
        may_file=may_file_for(actor, employee),
    )
    ground.count(lock=False)
    today = now.astimezone(employee_zone(employee)).date()
    return {
        (day, key): p.check_slot(ground.policy, ground.slot_facts(day, key, today=today))
        for day in wanted
        for key in ground.slots.get(day, {})
    }


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
    tz = employee_zone(employee)
    local_now = now.astimezone(tz)
    items = [
        ItemIn(
            day=i.day,
            slot_key=i.slot_key,
            requested_time=in_zone(i.requested_time, tz),
            category=i.category,
            reason=i.reason or "",
            expedited=bool(i.expedited),
            justification=i.justification or "",
        )
        for i in items
    ]
    ground = SlotGround.of(
        employee=employee,
        actor=actor,
        days=[i.day for i in items],
        now=now,
        may_file=True,  # checked above (403 otherwise)
        counts=None if channel == Channel.PAPER else True,
        quota_override=override,
    )
    on_behalf, row, categories, policy = (
        ground.on_behalf,
        ground.row,
        ground.categories,
        ground.policy,
    )
    slots, periods, counts = ground.slots, ground.periods, ground.counts

    with transaction.atomic():
        # Inside the transaction: the closed days and the quota counters are locked (the
        # order period_close takes too), then counted.
        ground.count(lock=True)
        in_batch: Counter[date] = Counter()
        seen: set[tuple[date, str]] = set()
        details: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            info = slots.get(item.day, {}).get(item.slot_key)
            start = periods[item.day]
            key = (item.day, item.slot_key)
            slot_facts = ground.slot_facts(
                item.day,
                item.slot_key,
                batch_index=in_batch[start],
                also_in_batch=key in seen,
                today=local_now.date(),
            )
            facts = p.Facts(
                employee_active=slot_facts.employee_active,
                on_behalf=slot_facts.on_behalf,
                applicant_may_file_on_behalf=slot_facts.applicant_may_file_on_behalf,
                day=item.day,
                slot_key=item.slot_key,
                slot_status=slot_facts.slot_status,
                slot_window_start=info.window_start if info else None,
                slot_window_end=info.window_end if info else None,
                slot_window_end_inclusive=info.end_inclusive if info else True,
                requested_time=item.requested_time,
                now=local_now,
                working_days_after=slot_facts.working_days_after,
                period_closed=slot_facts.period_closed,
                used_in_period=slot_facts.used_in_period,
                pending_for_slot=slot_facts.pending_for_slot,
                category=item.category,
                reason=item.reason,
                attachment_count=len(checked),
                expedited=item.expedited,
                expedite_justification=item.justification,
                quota_override=slot_facts.quota_override,
                counts_against_quota=slot_facts.counts_against_quota,
                batch_index_in_period=slot_facts.batch_index_in_period,
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
            approvals.record_chain(CORRECTIONS, req, actor, SKIP_REASONS)
            saved = _store_attachments(req, checked, actor, stored_files)
            first = approvals.enter_first_step(req, now)
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
    value = in_zone(value, tz)
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
        rejected = result.rejected[0]
        raise DomainError(rejected.code, rejected.message)
    if result.punch_ids:
        req.punch_id = result.punch_ids[0]
    else:
        req.punch_id = Punch.objects.values_list("pk", flat=True).get(dedup_key=dedup_key)
    approvals.end_route(req, Status.APPROVED, actor, now, extra_fields=["punch"])
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
        following = approvals.advance(CORRECTIONS, req, now, actor)
        if following is None:
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
        approvals.end_route(req, Status.REJECTED, actor, now)
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
        approvals.transfer_step(req, actor, to_user, now)
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
        people = approvals.users(
            {req.employee.user_id, req.applicant_id, *step.get("approvers", [])}
        )
        _notify(
            "correction_comment",
            [u for u in people if u.pk != actor.pk],
            req,
            _("New comment on correction #%(id)s"),
            _("%(by)s: %(comment)s"),
            params={"by": chains.display_name(actor), "comment": comment},
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
        approvers = approvals.users(step.get("approvers", []))
        _action(req, ActionKind.WITHDRAW, actor, step=req.current_step)
        approvals.end_route(req, Status.WITHDRAWN, actor, now)
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
    notice_reason: Any = None,
) -> int:
    """Cancel the pending requests of a group's period (HR closes the period: 月结).

    `reason` is stored; `notice_reason` (lazy, optional) is what the cancellation notice
    says instead, in each reader's language."""
    _require_user(actor)
    if not (is_hr(actor) or is_sysadmin(actor)):
        raise PermissionDeniedError()
    now = now or timezone.now()
    typed = _text(reason, "reason")[:1000]
    note = typed or gettext("The attendance period was closed.")
    # in the notice, the default reason is in each reader's language
    shown_reason = notice_reason or typed or _("The attendance period was closed.")
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
            approvals.end_route(req, Status.CANCELLED, actor, now)
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
                params={"reason": shown_reason},
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

    The approver sets up their own; HR may set one up for anyone
    (``approvals.services.delegation_create``: every request type)."""
    return approvals.delegation_create(
        actor=actor, approver=approver, delegate=delegate, start=start, end=end, reason=reason
    )


# --------------------------------------------------------------------------- overdue steps


def corrections_notify_overdue(*, now: datetime | None = None) -> int:
    """Notify the approvers and HR of every step past its deadline, once per step."""
    return approvals.notify_overdue(CORRECTIONS, now=now)


class Corrections:
    """The corrections' adapter for the approval machinery (``approvals.registry``)."""

    name = "corrections"
    audit_prefix = "corrections.request"

    def pending(self) -> QuerySet[CorrectionRequest]:
        return CorrectionRequest.objects.select_related(
            "employee__user", "employee__department", "employee__attendance_group"
        ).filter(status=Status.PENDING)

    def lock(self, pk: int) -> CorrectionRequest:
        return _lock(CorrectionRequest(pk=pk))

    def zone(self, request: CorrectionRequest) -> ZoneInfo:
        return employee_zone(request.employee)

    def participants(self, request: CorrectionRequest) -> set[int]:
        return {request.applicant_id, request.employee.user_id}

    def record_action(
        self, request: CorrectionRequest, kind: str, actor: Any, **fields: Any
    ) -> ApprovalAction:
        return _action(request, kind, actor, **fields)

    def notify_approvers(self, request: CorrectionRequest) -> None:
        _notify_approvers(request)

    def describe(self, request: CorrectionRequest) -> str:
        """One line of the approvers' digest (``approvals.digest``): who, which day, slot."""
        return f"#{request.pk} {request.employee.name} {request.date:%m-%d} {request.slot_key}"

    def inbox_url(self) -> str:
        """The approver's queue page, linked from the digest."""
        try:
            return reverse("requests:inbox")
        except NoReverseMatch:
            return ""

    def notify_overdue(
        self,
        request: CorrectionRequest,
        recipients: Iterable[Any],
        deadline: datetime,
        tz: ZoneInfo,
    ) -> None:
        _notify(
            "approval_overdue",
            recipients,
            request,
            _("Approval overdue: correction #%(id)s of %(name)s"),
            _(
                "Step %(step)s of the correction of %(slot)s on %(day)s by %(name)s was due "
                "%(deadline)s."
            ),
            params={
                "deadline": deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "step": request.current_step,
            },
        )


CORRECTIONS = Corrections()
