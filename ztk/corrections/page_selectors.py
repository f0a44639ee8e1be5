"""Reads for the correction pages (申请补卡, 我的申请, 审批): what the templates show.

Nothing here writes and nothing here decides a rule: permissions come from ``rules``, the
refusals from ``services``/``policy``; this module only gathers and shapes what the pages
display, with a fixed number of queries per page (no query per row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk import engine
from ztk.approvals import inboxes, routing
from ztk.approvals.chains import SKIP_REASONS, fallback_text
from ztk.approvals.models import ActionKind
from ztk.approvals.selectors import QueueEntry, queue_order
from ztk.approvals.sla import Deadlines
from ztk.attendance import days as day_api
from ztk.attendance.days import employee_zone
from ztk.attendance.explain import SLOT_STATUS, render_notes, slot_label
from ztk.attendance.models import DayStatus
from ztk.core.parse import parse_day
from ztk.org.models import Employee
from ztk.org.rules import employee_of, is_hr
from ztk.org.selectors import employee_matches
from ztk.org.zones import EmployeeZones

from . import policy as p
from . import selectors, services
from .models import ApproverKind, CorrectionRequest, ReasonCategory, Status
from .rules import is_participant, may_act

User = get_user_model()

MAX_WAITING = 500  # rows of "waiting for me" shown (the whole queue is ordered first)
# Short names of a step's approver kind, for a page (the model's labels explain more).
KIND_LABELS = {
    ApproverKind.SUPERVISOR: _("Supervisor"),
    ApproverKind.DEPARTMENT_HEAD: _("Department head"),
    ApproverKind.HR: _("HR"),
    ApproverKind.USER: _("Designated approver"),
    routing.SUPERUSER: _("Superuser"),
    routing.OVERSIGHT: _("Oversight (HR or a superuser)"),
}


# The action that ended a request without a correction, per final status.
ENDING_ACTIONS = {
    Status.REJECTED: ActionKind.REJECT,
    Status.WITHDRAWN: ActionKind.WITHDRAW,
    Status.CANCELLED: ActionKind.CANCEL,
}


# --------------------------------------------------------------------------- small helpers


def clock(moment: datetime | None, tz: ZoneInfo, day: date | None = None) -> str:
    """HH:MM in the employee's zone, with the date when it is not `day`."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    if day is None or local.date() == day:
        return local.strftime("%H:%M")
    return local.strftime("%m-%d %H:%M")


def segments_of(keys: Iterable[str]) -> int:
    """Segments of a day from its slot keys (in1/out1/in2 …): labels number them when > 1."""
    return len({k[-1:] for k in keys}) or 1


def request_slot_label(req: CorrectionRequest) -> str:
    """A request's slot as people read it; a second segment's key carries its number."""
    return slot_label(req.slot_key, 1 if req.slot_key.endswith("1") else 2)


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind


def display_name(user: Any) -> str:
    if user is None:
        return ""
    employee = employee_of(user)
    return employee.name if employee is not None else user.get_username()


# --------------------------------------------------------------------------- slots of a day


@dataclass(frozen=True)
class DaySlot:
    """One scheduled punch of the day as the apply form offers it."""

    key: str
    label: str
    kind: str
    status: str
    status_label: str
    expected: datetime | None  # local
    window_start: datetime | None  # local
    window_end: datetime | None  # local
    end_inclusive: bool
    correctable: bool  # an anomaly the group's policy lets people correct
    pending_id: int | None  # an open request for this slot already

    @property
    def expected_text(self) -> str:
        return self.expected.strftime("%H:%M") if self.expected else ""

    @property
    def window_text(self) -> str:
        if not (self.window_start and self.window_end):
            return ""
        day = self.expected.date() if self.expected else self.window_start.date()

        def fmt(moment: datetime) -> str:
            return moment.strftime("%H:%M" if moment.date() == day else "%m-%d %H:%M")

        return f"{fmt(self.window_start)}–{fmt(self.window_end)}"

    @property
    def selectable(self) -> bool:
        return self.correctable and self.pending_id is None

    def at(self, clock_time: time, day: date, tz: ZoneInfo) -> datetime:
        """The moment with wall-clock `clock_time` inside this slot's window (a night
        shift's check-out lies on the next day); else the one nearest the expected time
        (the service refuses it later, naming the window)."""
        base = (self.expected or datetime.combine(day, time(12), tzinfo=tz)).date()
        candidates = [
            datetime.combine(base + timedelta(days=offset), clock_time, tzinfo=tz)
            for offset in (-1, 0, 1)
        ]
        if self.window_start and self.window_end:
            inside = [
                c
                for c in candidates
                if self.window_start <= c
                and (c < self.window_end or (self.end_inclusive and c == self.window_end))
            ]
            if inside:
                candidates = inside
        anchor = self.expected or candidates[1]
        return min(candidates, key=lambda c: abs(c - anchor))


def day_slots(
    employee: Employee,
    day: date,
    *,
    correctable: frozenset[str],
    now: datetime | None = None,
) -> list[DaySlot]:
    """The day's slots with their status and window (stored result, else evaluated)."""
    tz = employee_zone(employee)
    infos = day_api.day_slots(employee, [day], now=now).get(day, {})
    pending = dict(
        CorrectionRequest.objects.filter(
            employee=employee, date=day, status=Status.PENDING
        ).values_list("slot_key", "pk")
    )
    segments = segments_of(infos)

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(tz) if value is not None else None

    return [
        DaySlot(
            key=info.key,
            label=slot_label(info.key, segments),
            kind=info.kind,
            status=info.status,
            status_label=str(SLOT_STATUS.get(info.status, info.status)),
            expected=local(info.expected),
            window_start=local(info.window_start),
            window_end=local(info.window_end),
            end_inclusive=info.end_inclusive,
            correctable=info.status in correctable,
            pending_id=pending.get(info.key),
        )
        for info in infos.values()
    ]


# --------------------------------------------------------------------------- apply form


@dataclass
class ApplyInfo:
    """Everything the apply form shows for one employee-day."""

    employee: Employee
    day: date
    today: date
    tz: ZoneInfo
    on_behalf: bool
    slots: list[DaySlot]
    categories: list[ReasonCategory]
    expedite_allowed: bool
    self_apply: bool
    min_reason_length: int
    quota: dict[str, Any]
    last_day: date | None
    closed: bool
    future: bool

    @property
    def slot_map(self) -> dict[str, DaySlot]:
        return {s.key: s for s in self.slots}

    @property
    def window_open(self) -> bool:
        return (
            not self.closed
            and not self.future
            and self.last_day is not None
            and self.today <= self.last_day
        )

    @property
    def self_apply_blocked(self) -> bool:
        return not self.on_behalf and not self.self_apply

    @property
    def attachment_categories(self) -> list[str]:
        return [c.code for c in self.categories if c.requires_attachment]

    @property
    def max_attachments(self) -> int:
        return services.MAX_ATTACHMENTS


def apply_info(
    *, actor: Any, employee: Employee, day: date, now: datetime | None = None
) -> ApplyInfo:
    now = now or timezone.now()
    tz = employee_zone(employee)
    row = services.policy_row_for(employee.attendance_group)
    categories = services.categories_for(row)
    policy = services.policy_for(row, categories)
    today = now.astimezone(tz).date()
    return ApplyInfo(
        employee=employee,
        day=day,
        today=today,
        tz=tz,
        on_behalf=employee.user_id != actor.pk,
        slots=day_slots(employee, day, correctable=policy.correctable, now=now),
        categories=list(categories.values()),
        expedite_allowed=row.expedite_allowed,
        self_apply=row.self_apply,
        min_reason_length=row.min_reason_length,
        quota=selectors.quota_for(employee, day, now=now),
        last_day=services.deadline_for(policy, day),
        closed=day_api.is_closed(employee, day),
        future=day > today,
    )


# --------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class PreviewSlot:
    key: str
    label: str
    expected: str
    punch_time: str
    status: str
    status_label: str
    previewed: bool  # filled by the requested (not yet stored) correction


@dataclass(frozen=True)
class PreviewView:
    day: date
    status: str
    status_label: str
    provisional: bool
    slots: list[PreviewSlot]
    explanation: list[str]


def preview_view(result: engine.DayResult | None, tz: ZoneInfo) -> PreviewView | None:
    if result is None:
        return None
    segments = max((s.segment for s in result.slots), default=1)
    notes = [{"code": n.code, "slot": n.slot, "params": dict(n.params)} for n in result.notes]
    try:
        status_label = str(DayStatus(result.status).label)
    except ValueError:
        status_label = str(result.status)
    return PreviewView(
        day=result.day,
        status=str(result.status),
        status_label=status_label,
        provisional=result.provisional,
        slots=[
            PreviewSlot(
                key=s.key,
                label=slot_label(s.key, segments),
                expected=clock(s.expected, tz, result.day),
                punch_time=clock(s.punch_at, tz, result.day),
                status=str(s.status),
                status_label=str(SLOT_STATUS.get(s.status, s.status)),
                previewed=isinstance(s.punch_id, str),
            )
            for s in result.slots
        ],
        explanation=render_notes(notes, segments),
    )


def preview_times(
    employee: Employee, day: date, times: Mapping[str, datetime], *, now: datetime | None = None
) -> PreviewView | None:
    """The day as the engine gives it with a correction punch at each requested time (the
    same evaluation as ``selectors.correction_preview``, for several slots at once)."""
    tz = employee_zone(employee)
    extra = [engine.PunchIn(f"preview:{key}", at, "correction") for key, at in times.items()]
    return preview_view(day_api.day_preview(employee, day, extra, now=now), tz)


def request_preview(
    req: CorrectionRequest, *, adjusted: datetime | None = None, now: datetime | None = None
) -> PreviewView | None:
    """What approvers and the applicant see: the day with the request's (or an approver's
    adjusted) time added; an approved request shows the stored day, one rejected, withdrawn
    or cancelled the day as it is (no correction was added)."""
    tz = employee_zone(req.employee)
    if req.status in ENDING_ACTIONS:  # ended without a punch: the day as it is now
        return preview_view(day_api.day_preview(req.employee, req.date, now=now), tz)
    if adjusted is not None and req.punch_id is None:
        return preview_times(req.employee, req.date, {req.slot_key: adjusted}, now=now)
    return preview_view(selectors.correction_preview(req, now=now), tz)


# --------------------------------------------------------------------------- deadlines


def step_deadline(req: CorrectionRequest, tz: ZoneInfo, deadlines: Deadlines) -> datetime | None:
    """When the request's current step is due (``approvals.sla``); None when decided."""
    if not req.is_pending:
        return None
    step = req.step() or {}
    return deadlines.of(req.step_started_at, int(step.get("deadline_working_days") or 1), tz)


# --------------------------------------------------------------------------- lists


@dataclass
class RequestRow:
    """One request as a list card shows it."""

    req: CorrectionRequest
    tz: ZoneInfo
    slot_label: str
    expected: str
    requested: str
    original: str
    waiting_for: list[str]
    step_label: str
    deadline: datetime | None = None
    overdue: bool = False
    can_batch: bool = False
    age: timedelta | None = None
    type_label: str = ""  # set on the approver's inbox, where every request type is listed

    @property
    def status_label(self) -> str:
        return str(Status(self.req.status).label)

    @property
    def deadline_local(self) -> datetime | None:
        return self.deadline.astimezone(self.tz) if self.deadline else None


def _row(req: CorrectionRequest, tz: ZoneInfo, now: datetime) -> RequestRow:
    step = req.step() if req.is_pending else None
    return RequestRow(
        req=req,
        tz=tz,
        slot_label=request_slot_label(req),
        expected=clock(req.slot_expected, tz, req.date),
        requested=clock(req.requested_time, tz, req.date),
        original=clock(req.original_requested_time, tz, req.date),
        waiting_for=list(step.get("names", [])) if step else [],
        step_label=kind_label(step.get("kind", "")) if step else "",
        age=(now - req.step_started_at) if req.is_pending and req.step_started_at else None,
    )


def _with_list_fields(qs: QuerySet[CorrectionRequest]) -> QuerySet[CorrectionRequest]:
    return qs.select_related("employee__attendance_group").annotate(
        attachment_count=Count("attachments")
    )


def my_requests(user: Any, *, status: str = "") -> QuerySet[CorrectionRequest]:
    """我的申请: filed by or for `user`, newest first (rows are built per page)."""
    qs = selectors.corrections_for(user, scope="mine", status=status or None)
    return _with_list_fields(qs)


def rows_for(requests: Iterable[CorrectionRequest], *, now: datetime | None = None) -> list:
    now = now or timezone.now()
    zones = EmployeeZones()
    requests = list(requests)
    deadlines = Deadlines((r.step_started_at for r in requests if r.is_pending), now)
    rows = []
    for req in requests:
        tz = zones(req.employee)
        row = _row(req, tz, now)
        row.deadline = step_deadline(req, tz, deadlines)
        row.overdue = row.deadline is not None and now >= row.deadline
        rows.append(row)
    return rows


@dataclass(frozen=True)
class InboxFilters:
    view: str = "waiting"  # waiting | all
    status: str = ""
    search: str = ""
    date_from: date | None = None
    date_to: date | None = None
    type: str = ""  # waiting: one request type ("correction", "overtime" …) or every one

    def apply(self, qs: QuerySet[CorrectionRequest]) -> QuerySet[CorrectionRequest]:
        if self.search:
            term = self.search
            qs = qs.filter(employee_matches(term, via="employee__"))
        if self.date_from:
            qs = qs.filter(date__gte=self.date_from)
        if self.date_to:
            qs = qs.filter(date__lte=self.date_to)
        return qs


def waiting_for(
    user: Any, filters: InboxFilters, *, now: datetime | None = None
) -> tuple[list[RequestRow], bool]:
    """Waiting for `user` (as approver, delegate or HR) in the queue order
    (``selectors.approval_queue``: overdue first, then expedited, then the longest
    waiting). Returns the rows and whether the list was cut off."""
    now = now or timezone.now()
    within = filters.apply(_with_list_fields(selectors.corrections_for(user, scope="to_approve")))
    found = selectors.approval_queue(user, within=within, now=now)[: MAX_WAITING + 1]
    rows = rows_for(found[:MAX_WAITING], now=now)
    for row in rows:
        row.can_batch = True
    return rows, len(found) > MAX_WAITING


CORRECTION = "correction"  # the inbox's type filter (and the API's type) for corrections


def inbox_type_choices() -> list[tuple[str, str]]:
    """The inbox's type filter: corrections, every other registered type, cancellations."""
    return [
        (CORRECTION, gettext("Correction (补卡)")),
        *inboxes.type_choices(),
        (inboxes.CANCELLATION, gettext("Cancellations (撤销/销假)")),
    ]


def one_inbox(
    user: Any, filters: InboxFilters, *, now: datetime | None = None
) -> tuple[list[Any], bool]:
    """The approver's one inbox (审批, and ``GET /api/v1/inbox``): every step waiting for
    `user` — corrections (``RequestRow``) and every other request type
    (``approvals.inboxes.InboxRow``) — in the one queue order (overdue first, then
    expedited, then the longest waiting). Returns the rows and whether the corrections
    were cut off. A constant number of queries whatever the number of rows."""
    now = now or timezone.now()
    corrections: list[RequestRow] = []
    truncated = False
    if filters.type in ("", CORRECTION):
        corrections, truncated = waiting_for(user, filters, now=now)
    label = gettext("Correction (补卡)")
    entries: list[QueueEntry[Any]] = []
    for row in corrections:
        row.type_label = label
        entries.append(
            QueueEntry(row, row.req.pk, row.req.expedited, row.req.step_started_at, row.deadline)
        )
    if filters.type != CORRECTION:
        others = inboxes.waiting_rows(
            user,
            now,
            type=filters.type,
            search=filters.search,
            date_from=filters.date_from,
            date_to=filters.date_to,
        )
        entries.extend(QueueEntry(o, o.pk, o.urgent, o.waiting_since, o.deadline) for o in others)
    return queue_order(entries, now), truncated


def all_requests(user: Any, filters: InboxFilters) -> QuerySet[CorrectionRequest]:
    """Every request `user` may see (HR: all), pending ones longest waiting first."""
    qs = filters.apply(selectors.corrections_for(user, scope="all", status=filters.status or None))
    qs = _with_list_fields(qs)
    if filters.status == Status.PENDING:
        return qs.order_by("step_started_at", "pk")
    return qs.order_by("-created_at", "-pk")


def all_rows(user: Any, page: Iterable[CorrectionRequest], *, now: datetime | None = None):
    rows = rows_for(page, now=now)
    ids = [r.req.pk for r in rows if r.req.is_pending]
    actable = (
        set(
            selectors.corrections_for(user, scope="to_approve")
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        if ids
        else set()
    )
    for row in rows:
        row.can_batch = row.req.pk in actable
    return rows


def waiting_count(user: Any) -> int:
    return selectors.corrections_for(user, scope="to_approve").count()


# --------------------------------------------------------------------------- detail


@dataclass(frozen=True)
class StepView:
    position: int
    label: str
    names: list[str]
    state: (
        str  # done | current | skipped | waiting | rejected | withdrawn | cancelled | not_reached
    )
    skip_reason: str = ""
    fallback: bool = False
    fallback_text: str = ""  # why it fell back and to whom (routing form)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    step: int | None
    step_label: str
    action: str
    action_label: str
    who: str
    comment: str
    to_name: str = ""
    old_time: str = ""
    new_time: str = ""


@dataclass(frozen=True)
class Outcome:
    """How a request ended: what was decided, by whom, when and why (the page's banner)."""

    status: str
    headline: str
    who: str
    at: datetime | None  # local
    comment: str
    step: int | None = None
    step_label: str = ""


def _outcome(req: CorrectionRequest, tz: ZoneInfo) -> Outcome | None:
    """The decision of a request that is no longer pending (None while pending)."""
    if req.is_pending:
        return None
    ending = ENDING_ACTIONS.get(Status(req.status))
    action = None
    if ending is not None:
        action = next((a for a in reversed(req.actions.all()) if a.action == ending), None)
    elif req.status == Status.APPROVED:
        approvals = [a for a in req.actions.all() if a.action == ActionKind.APPROVE]
        action = approvals[-1] if approvals else None
    actor = action.actor if action is not None and action.actor_id else req.decided_by
    at = action.at if action is not None else req.decided_at
    who = display_name(actor)
    headlines = {
        Status.APPROVED: _("Approved: the correction punch is recorded."),
        Status.REJECTED: _("Rejected: no punch was added; the day stays as it was."),
        Status.WITHDRAWN: _("Withdrawn before a decision; no punch was added."),
        Status.CANCELLED: _("Cancelled when the attendance period was closed; no punch was added."),
    }
    step = action.step if action is not None else None
    labels = {st.get("position"): kind_label(st.get("kind", "")) for st in req.chain}
    return Outcome(
        status=req.status,
        headline=str(headlines.get(Status(req.status), "")),
        who=who,
        at=at.astimezone(tz) if at else None,
        comment=action.comment if action is not None else "",
        step=step,
        step_label=labels.get(step, "") if step else "",
    )


@dataclass
class RequestDetail:
    req: CorrectionRequest
    tz: ZoneInfo
    slot_label: str
    expected: str
    requested: str
    original: str
    requested_clock: str
    steps: list[StepView]
    timeline: list[TimelineEntry]
    attachments: list[Any]
    preview: PreviewView | None
    deadline: datetime | None
    overdue: bool
    resubmissions: list[CorrectionRequest]
    last_day: date | None
    can_act: bool
    can_withdraw: bool
    can_attach: bool
    can_resubmit: bool
    can_comment: bool = True
    outcome: Outcome | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return str(Status(self.req.status).label)

    @property
    def deadline_local(self) -> datetime | None:
        return self.deadline.astimezone(self.tz) if self.deadline else None

    @property
    def decided(self) -> bool:
        return not self.req.is_pending

    @property
    def preview_is_current(self) -> bool:
        """The preview shows the day as it is (approved: with the stored correction; ended
        without one: without it), not the day it would be if approved."""
        return not self.req.is_pending


def _step_label(step: dict[str, Any]) -> str:
    """The step's approver kind; for a step that fell back, from what to what."""
    label = kind_label(step.get("kind", ""))
    configured = step.get("configured", "")
    if step.get("fallback") and configured and configured != step.get("kind"):
        return f"{kind_label(configured)} → {label}"
    return label


def _steps(req: CorrectionRequest) -> list[StepView]:
    decided_positions = {
        a.step for a in req.actions.all() if a.action == ActionKind.APPROVE and a.step
    }
    ending = ENDING_ACTIONS.get(Status(req.status)) if not req.is_pending else None
    ended_at = next(
        (a.step for a in reversed(req.actions.all()) if ending and a.action == ending), None
    )
    views = []
    for step in req.chain:
        position = step.get("position")
        if step.get("skipped"):
            state = "skipped"
        elif position in decided_positions:
            state = "done"
        elif req.is_pending and position == req.current_step:
            state = "current"
        elif req.is_pending:
            state = "waiting"
        elif position == ended_at:
            state = str(req.status)  # rejected | withdrawn | cancelled at this step
        else:
            state = "not_reached"
        views.append(
            StepView(
                position=position,
                label=_step_label(step),
                names=list(step.get("names", [])),
                state=state,
                skip_reason=str(SKIP_REASONS.get(step.get("skip_reason", ""), "")),
                fallback=bool(step.get("fallback")),
                fallback_text=fallback_text(step),
            )
        )
    return views


def _timeline(req: CorrectionRequest, tz: ZoneInfo) -> list[TimelineEntry]:
    actions = list(req.actions.all())
    extra_ids = {a.to_user_id for a in actions if a.to_user_id}
    names = {
        u.pk: display_name(u)
        for u in User.objects.filter(pk__in=extra_ids).select_related("employee")
    }
    labels = {s.get("position"): kind_label(s.get("kind", "")) for s in req.chain}
    entries = []
    for a in actions:
        entries.append(
            TimelineEntry(
                at=a.at.astimezone(tz),
                step=a.step,
                step_label=labels.get(a.step, "") if a.step else "",
                action=a.action,
                action_label=str(ActionKind(a.action).label),
                who=display_name(a.actor) if a.actor_id else "",
                comment=a.comment,
                to_name=names.get(a.to_user_id, "") if a.to_user_id else "",
                old_time=clock(a.old_time, tz, req.date),
                new_time=clock(a.new_time, tz, req.date),
            )
        )
    return entries


def can_resubmit(user: Any, req: CorrectionRequest, *, now: datetime | None = None) -> bool:
    """Rejected, the user is the employee or the applicant, the window is still open and
    no newer request for the slot is already under way."""
    if req.status != Status.REJECTED or not is_participant(user, req):
        return False
    now = now or timezone.now()
    row = services.policy_row_for(req.employee.attendance_group)
    policy = services.policy_for(row, services.categories_for(row))
    last = services.deadline_for(policy, req.date)
    today = now.astimezone(employee_zone(req.employee)).date()
    if last is None or today > last or day_api.is_closed(req.employee, req.date):
        return False
    return not CorrectionRequest.objects.filter(
        employee=req.employee,
        date=req.date,
        slot_key=req.slot_key,
        status__in=(Status.PENDING, Status.APPROVED),
    ).exists()


def request_detail(
    user: Any,
    pk: int,
    *,
    adjusted: datetime | None = None,
    now: datetime | None = None,
) -> RequestDetail:
    """One request for its page; NotFoundError for anyone who may not see it."""
    now = now or timezone.now()
    req = selectors.correction_get(user, pk)
    req.employee = Employee.objects.select_related("attendance_group", "user", "department").get(
        pk=req.employee_id
    )
    tz = employee_zone(req.employee)
    attachments = list(req.attachments.all())
    deadline = step_deadline(
        req, tz, Deadlines([req.step_started_at] if req.is_pending else [], now)
    )
    participant = is_participant(user, req)
    row = services.policy_row_for(req.employee.attendance_group)
    policy = services.policy_for(row, services.categories_for(row))
    return RequestDetail(
        req=req,
        tz=tz,
        slot_label=request_slot_label(req),
        expected=clock(req.slot_expected, tz, req.date),
        requested=clock(req.requested_time, tz, req.date),
        original=clock(req.original_requested_time, tz, req.date),
        requested_clock=req.requested_time.astimezone(tz).strftime("%H:%M"),
        steps=_steps(req),
        timeline=_timeline(req, tz),
        attachments=attachments,
        preview=request_preview(req, adjusted=adjusted, now=now),
        deadline=deadline,
        overdue=deadline is not None and now >= deadline,
        resubmissions=list(req.resubmissions.order_by("pk")),
        last_day=services.deadline_for(policy, req.date),
        can_act=may_act(user, req, now.astimezone(tz).date()),
        can_withdraw=req.is_pending and participant,
        can_attach=req.is_pending
        and (participant or is_hr(user))
        and len(attachments) < services.MAX_ATTACHMENTS,
        can_resubmit=can_resubmit(user, req, now=now),
        outcome=_outcome(req, tz),
    )


# --------------------------------------------------------------------------- several days


@dataclass
class BatchSlot:
    """One chosen day-slot of a batch (多天一起申诉), with the up-front verdict."""

    day: date
    slot: DaySlot
    refusals: list[p.Refusal]

    @property
    def name(self) -> str:
        """The form value that chooses it: ``YYYY-MM-DD:key``."""
        return f"{self.day.isoformat()}:{self.slot.key}"

    @property
    def correctable(self) -> bool:
        return not self.refusals


@dataclass
class BatchInfo:
    """What the batch form shows: the chosen slots of several days and one set of details."""

    employee: Employee
    tz: ZoneInfo
    on_behalf: bool
    slots: list[BatchSlot]
    categories: list[ReasonCategory]
    min_reason_length: int
    quota: dict[str, Any]

    @property
    def by_name(self) -> dict[str, BatchSlot]:
        return {s.name: s for s in self.slots}

    @property
    def attachment_categories(self) -> list[str]:
        return [c.code for c in self.categories if c.requires_attachment]

    @property
    def max_attachments(self) -> int:
        return services.MAX_ATTACHMENTS


def parse_slot_names(values: Iterable[str]) -> list[tuple[date, str]]:
    """``YYYY-MM-DD:key`` values, in order, without repeats and unreadable ones, at most as
    many as one submission takes."""
    out: list[tuple[date, str]] = []
    for value in values:
        day_text, _sep, key = str(value).partition(":")
        day = parse_day(day_text)
        key = key.strip()[:8]
        if day is None or not key or (day, key) in out:
            continue
        out.append((day, key))
        if len(out) >= services.MAX_ITEMS:
            break
    return out


def batch_info(
    *,
    actor: Any,
    employee: Employee,
    chosen: Sequence[tuple[date, str]],
    now: datetime | None = None,
) -> BatchInfo:
    """The chosen slots that exist (in the order chosen), each with what a correction of it
    alone would be refused with now (``services.slot_checks``: the submission's own slot
    rules), the categories and the limit of the first day's period."""
    now = now or timezone.now()
    tz = employee_zone(employee)
    row = services.policy_row_for(employee.attendance_group)
    categories = services.categories_for(row)
    policy = services.policy_for(row, categories)
    days = sorted({day for day, _key in chosen})
    infos = day_api.day_slots(employee, days, now=now) if days else {}
    checks = services.slot_checks(actor=actor, employee=employee, days=days, now=now)
    pending = {
        (d, k): pk
        for d, k, pk in CorrectionRequest.objects.filter(
            employee=employee, date__in=days, status=Status.PENDING
        ).values_list("date", "slot_key", "pk")
    }

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(tz) if value is not None else None

    slots = []
    for day, key in chosen:
        info = infos.get(day, {}).get(key)
        if info is None:
            continue
        slot = DaySlot(
            key=info.key,
            label=slot_label(info.key, segments_of(infos[day])),
            kind=info.kind,
            status=info.status,
            status_label=str(SLOT_STATUS.get(info.status, info.status)),
            expected=local(info.expected),
            window_start=local(info.window_start),
            window_end=local(info.window_end),
            end_inclusive=info.end_inclusive,
            correctable=info.status in policy.correctable,
            pending_id=pending.get((day, key)),
        )
        slots.append(BatchSlot(day=day, slot=slot, refusals=checks.get((day, key), [])))
    return BatchInfo(
        employee=employee,
        tz=tz,
        on_behalf=employee.user_id != actor.pk,
        slots=slots,
        categories=list(categories.values()),
        min_reason_length=row.min_reason_length,
        quota=selectors.quota_for(employee, days[0] if days else None, now=now),
    )
