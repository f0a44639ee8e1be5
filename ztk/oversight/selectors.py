"""Reads of the oversight app: the rows the finding rules run over (a few set-based queries
per run, never one per person) and the findings for the pages and the API.

Each ``*_rows`` function reads a whole date range at once and returns the plain rows of
``ztk.oversight.checks``; the periods are the company's attendance periods
(``engine.periods`` with ``org.selectors.period_start_day``), days and wall-clock times in
the zone of the employee's attendance group, or the company's (``org.zones``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Q, QuerySet, Value, When

from ztk.approvals.models import ActionKind
from ztk.audit.models import AuditEvent
from ztk.corrections import policy as correction_policy
from ztk.corrections.models import (
    ApprovalAction,
    Attachment,
    CorrectionPolicy,
    CorrectionRequest,
    Status,
)
from ztk.engine.periods import period_of, previous_period
from ztk.org.models import Department, Employee
from ztk.org.roles import HR, SYSADMIN
from ztk.org.selectors import period_start_day
from ztk.org.zones import default_zone_name, zone_names
from ztk.punches.models import Punch, PunchSource, PunchVoid

from . import checks
from .models import Finding, FindingThresholds, State

User = get_user_model()

Period = tuple[date, date]

# Audit actions of a web or phone punch: one event per punch, its IP is the caller's.
WEB_PUNCH_ACTIONS = ("punches.web_punch", "punches.mobile_punch")
REOPEN_ACTION = "attendance.period.reopen"
# Audited events that are not changes (signing in and out, failed attempts, the run itself).
NOT_CHANGES = ("login", "logout", "failed", "lockout", "oversight.findings.run")
# Trail entries that hand a step to an approver: its clock starts there.
ASSIGNING = (
    ActionKind.SUBMIT,
    ActionKind.APPROVE,
    ActionKind.TRANSFER,
    ActionKind.REROUTE,
    ActionKind.SKIP,
)


def thresholds() -> FindingThresholds:
    """The thresholds row (created with the defaults on first read)."""
    row, _created = FindingThresholds.objects.get_or_create(pk=1)
    return row


def periods_to_check(today: date, count: int = 2) -> list[Period]:
    """The period holding ``today`` and the ``count - 1`` before it, oldest first."""
    start_day = period_start_day()
    periods = [period_of(today, start_day)]
    while len(periods) < count:
        periods.insert(0, previous_period(periods[0], start_day))
    return periods


def _bounds(periods: list[Period], zone: ZoneInfo) -> tuple[datetime, datetime]:
    first, last = periods[0][0], periods[-1][1]
    return (
        datetime.combine(first, time.min, tzinfo=zone) - timedelta(days=1),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone) + timedelta(days=1),
    )


def _period_start(day: date, periods: list[Period]) -> date | None:
    for start, end in periods:
        if start <= day <= end:
            return start
    return None


def _zones(group_zones: Iterable[str | None]) -> dict[str | None, ZoneInfo]:
    return {name: ZoneInfo(value) for name, value in zone_names(group_zones).items()}


# --- corrections --------------------------------------------------------------------------


def group_members() -> dict[int | None, list[int]]:
    """Every active employee by attendance group id."""
    members: dict[int | None, list[int]] = defaultdict(list)
    for pk, gid in Employee.objects.filter(active=True).values_list("pk", "attendance_group_id"):
        members[gid].append(pk)
    return dict(members)


def monthly_limits() -> dict[int | None, int]:
    """Each group's monthly correction limit; groups without a policy: the default."""
    default = CorrectionPolicy._meta.get_field("monthly_limit").get_default()
    limits: dict[int | None, int] = defaultdict(lambda: default)
    limits.update(CorrectionPolicy.objects.values_list("group_id", "monthly_limit"))
    for gid in Employee.objects.values_list("attendance_group_id", flat=True).distinct():
        limits[gid]  # noqa: B018 - fill the default for groups without a policy
    return dict(limits)


def correction_rows(periods: list[Period]) -> list[checks.CorrectionRow]:
    """The requests of the periods (withdrawn and cancelled ones left out), each with its
    deadline: the end of its cut-off day when the group's policy has one, else the end of
    its period."""
    start_day = period_start_day()
    cutoffs = dict(CorrectionPolicy.objects.values_list("group_id", "cutoff_day"))
    rows = list(
        CorrectionRequest.objects.filter(
            period_start__gte=periods[0][0], period_start__lte=periods[-1][1]
        )
        .exclude(status__in=[Status.WITHDRAWN, Status.CANCELLED])
        .values_list(
            "pk",
            "employee_id",
            "employee__attendance_group_id",
            "employee__attendance_group__time_zone",
            "period_start",
            "date",
            "created_at",
            "reason",
        )
    )
    zones = _zones(row[3] for row in rows)
    out = []
    for pk, employee_id, gid, zone_name, start, day, created, reason in rows:
        policy = correction_policy.Policy(cutoff_day=cutoffs.get(gid), period_start_day=start_day)
        last = correction_policy.cutoff_for(policy, day) or period_of(day, start_day)[1]
        deadline = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zones[zone_name])
        out.append(
            checks.CorrectionRow(
                id=pk,
                employee_id=employee_id,
                group_id=gid,
                period_start=start,
                day=day,
                created_at=created,
                reason=reason,
                deadline=deadline,
            )
        )
    return out


# --- approvers ----------------------------------------------------------------------------


def decision_rows(periods: list[Period]) -> list[checks.DecisionRow]:
    """Every approve/reject in the periods (by the decision's day in the company's zone),
    with the moment the step reached the approver and whether proof was required and given.
    Three queries: the decisions, their requests' trails, the requests with attachments."""
    zone = ZoneInfo(default_zone_name())
    low, high = _bounds(periods, zone)
    decisions = ApprovalAction.objects.filter(
        action__in=[ActionKind.APPROVE, ActionKind.REJECT],
        at__gte=low,
        at__lt=high,
        actor__isnull=False,
    )
    rows = list(
        decisions.values_list(
            "pk", "request_id", "actor_id", "at", "action", "request__category__requires_attachment"
        )
    )
    requests = decisions.values("request_id")
    trail: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for request_id, pk, at in (
        ApprovalAction.objects.filter(request_id__in=requests, action__in=ASSIGNING)
        .order_by("request_id", "at", "pk")
        .values_list("request_id", "pk", "at")
    ):
        trail[request_id].append((at, pk))
    proof = set(
        Attachment.objects.filter(request_id__in=requests)
        .values_list("request_id", flat=True)
        .distinct()
    )
    out = []
    for pk, request_id, actor_id, at, action, needs in rows:
        start = _period_start(at.astimezone(zone).date(), periods)
        if start is None:
            continue
        before = [t for t, other in trail.get(request_id, []) if (t, other) < (at, pk)]
        out.append(
            checks.DecisionRow(
                id=pk,
                request_id=request_id,
                approver_id=actor_id,
                at=at,
                approved=action == ActionKind.APPROVE,
                assigned_at=before[-1] if before else at,
                period_start=start,
                needs_proof=bool(needs),
                has_proof=request_id in proof,
            )
        )
    return out


# --- punches ------------------------------------------------------------------------------


def punch_rows(periods: list[Period]) -> list[checks.PunchRow]:
    """Terminal punches (place: the terminal's serial) and web/phone punches (place: the
    caller's IP address, from the punch's audit event); voided punches left out."""
    zone = ZoneInfo(default_zone_name())
    low, high = _bounds(periods, zone)
    live = Punch.objects.filter(at__gte=low, at__lt=high, void__isnull=True)
    fields = ("pk", "employee_id", "at", "device_sn", "employee__attendance_group__time_zone")
    device = list(live.filter(source=PunchSource.DEVICE).exclude(device_sn="").values_list(*fields))
    web = list(live.filter(source__in=[PunchSource.WEB, PunchSource.MOBILE]).values_list(*fields))
    ips: dict[str, str] = {}
    if web:
        ips = {
            object_id: str(ip)
            for object_id, ip in AuditEvent.objects.filter(
                action__in=WEB_PUNCH_ACTIONS, at__gte=low, at__lt=high + timedelta(minutes=5)
            )
            .exclude(ip__isnull=True)
            .values_list("object_id", "ip")
        }
    zones = _zones(row[4] for row in [*device, *web])
    out = []
    for pk, employee_id, at, serial, zone_name, is_web in [
        *((*r, False) for r in device),
        *((*r, True) for r in web),
    ]:
        place = f"ip:{ips[str(pk)]}" if is_web and str(pk) in ips else ""
        if not is_web:
            place = f"device:{serial}"
        if not place:
            continue
        day = at.astimezone(zones[zone_name]).date()
        start = _period_start(day, periods)
        if start is None:
            continue
        out.append(checks.PunchRow(pk, employee_id, at, place, day, start))
    return out


# --- HR operators -------------------------------------------------------------------------


def _headed_departments() -> dict[int, set[int]]:
    """Employee id → the departments they head, with every department below them."""
    parents: dict[int, int | None] = {}
    heads: dict[int, int | None] = {}
    for pk, parent, head in Department.objects.values_list("pk", "parent_id", "head_id"):
        parents[pk], heads[pk] = parent, head
    headed: dict[int, set[int]] = defaultdict(set)
    for department in parents:
        node: int | None = department
        seen: set[int] = set()
        while node is not None and node not in seen:
            seen.add(node)
            boss = heads.get(node)
            if boss is not None:
                headed[boss].add(department)
            node = parents.get(node)
    return headed


def operator_rows(periods: list[Period]) -> list[checks.OperatorRow]:
    """What HR operators did in the periods: manual adds (own team marked), voids, period
    reopenings and every audited change by a member of HR or the system admins."""
    zone = ZoneInfo(default_zone_name())
    low, high = _bounds(periods, zone)
    operators = set(
        User.objects.filter(groups__name__in=[HR, SYSADMIN]).values_list("pk", flat=True)
    )
    employee_of = dict(Employee.objects.filter(user_id__isnull=False).values_list("user_id", "pk"))
    headed = _headed_departments()
    out: list[checks.OperatorRow] = []

    def add(operator: int | None, kind: str, at: datetime, ref: checks.Evidence, own=False):
        if operator is None:
            return
        local = at.astimezone(zone)
        start = _period_start(local.date(), periods)
        if start is not None:
            out.append(
                checks.OperatorRow(
                    operator, kind, at, local.replace(tzinfo=None), start, ref, own_team=own
                )
            )

    for pk, by, at, employee_id, supervisor_id, department_id in Punch.objects.filter(
        source=PunchSource.MANUAL, created_at__gte=low, created_at__lt=high
    ).values_list(
        "pk", "created_by_id", "created_at", "employee_id", "employee__supervisor_id",
        "employee__department_id",
    ):  # fmt: skip
        mine = employee_of.get(by) if by is not None else None
        own = mine is not None and (
            employee_id == mine or supervisor_id == mine or department_id in headed.get(mine, ())
        )
        add(by, checks.MANUAL_ADD, at, checks.Evidence(checks.PUNCH, pk, at), own)
    for punch_id, by, at in PunchVoid.objects.filter(
        voided_at__gte=low, voided_at__lt=high
    ).values_list("punch_id", "voided_by_id", "voided_at"):
        add(by, checks.VOID, at, checks.Evidence(checks.PUNCH, punch_id, at))
    for seq, actor, at in AuditEvent.objects.filter(
        action=REOPEN_ACTION, at__gte=low, at__lt=high
    ).values_list("seq", "actor_id", "at"):
        add(actor, checks.REOPEN, at, checks.Evidence(checks.AUDIT, seq, at, REOPEN_ACTION))
    not_changes = Q()
    for word in NOT_CHANGES:
        not_changes |= Q(action__contains=word)
    for seq, actor, at, action in (
        AuditEvent.objects.filter(actor_id__in=operators, at__gte=low, at__lt=high)
        .exclude(not_changes)
        .values_list("seq", "actor_id", "at", "action")
    ):
        add(actor, checks.CHANGE, at, checks.Evidence(checks.AUDIT, seq, at, action))
    return out


# --- findings for the pages and the API ---------------------------------------------------


def finding_list(
    *, rule: str = "", state: str = "", severity: str = "", employee: Employee | None = None
) -> QuerySet[Finding]:
    """Findings, newest period first, open ones and the severe first within a period."""
    qs = Finding.objects.select_related("employee", "other_employee", "user", "handled_by")
    if rule:
        qs = qs.filter(rule=rule)
    if state:
        qs = qs.filter(state=state)
    if severity:
        qs = qs.filter(severity=severity)
    if employee is not None:
        qs = qs.filter(Q(employee=employee) | Q(other_employee=employee))
    return qs.order_by(
        "-period_start",
        Case(When(state=State.OPEN, then=Value(0)), default=Value(1)),
        Case(
            When(severity=checks.HIGH, then=Value(0)),
            When(severity=checks.MEDIUM, then=Value(1)),
            default=Value(2),
        ),
        "-pk",
    )


def finding_counts() -> dict[str, int]:
    """Open findings by rule, for the list's header."""
    return {
        row["rule"]: row["n"]
        for row in Finding.objects.filter(state=State.OPEN).values("rule").annotate(n=Count("pk"))
    }


def last_run() -> AuditEvent | None:
    return AuditEvent.objects.filter(action="oversight.findings.run").order_by("-seq").first()
