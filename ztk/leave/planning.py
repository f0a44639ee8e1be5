"""What a request would be (reads, no writes): its covered times and amount from the
employee's plans, and every refusal that applies — for the submission (which raises the
first) and the preview on the apply form (which shows them all, with the balance and the
days affected).

Refusal codes: ``insufficient_balance``, ``overlaps_existing``, ``notice_too_short``,
``period_closed``, ``attachment_required``, ``no_working_time``, ``bad_range``,
``bad_type``, ``not_allowed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.attendance.days import closed_days, employee_zone
from ztk.core.errors import DomainError
from ztk.org.models import AttendanceGroup, Employee
from ztk.scheduling.models import Exemption
from ztk.scheduling.plans import build_plans

from . import coverage
from .models import (
    HOLDING,
    AbsencePolicy,
    AbsenceRequest,
    FieldMode,
    Kind,
    LeaveType,
    Part,
    Status,
    Unit,
)
from .selectors import balance_of
from .services import insufficient, lock_account

INSUFFICIENT_BALANCE = "insufficient_balance"
OVERLAPS_EXISTING = "overlaps_existing"
NOTICE_TOO_SHORT = "notice_too_short"
PERIOD_CLOSED = "period_closed"
ATTACHMENT_REQUIRED = "attachment_required"
NO_WORKING_TIME = "no_working_time"
BAD_RANGE = "bad_range"
BAD_TYPE = "bad_type"
MAX_DAYS = 366

MESSAGES = {
    OVERLAPS_EXISTING: _("It overlaps another request or exemption (%(what)s)."),
    NOTICE_TOO_SHORT: _("%(type)s must be requested at least %(days)s days ahead."),
    PERIOD_CLOSED: _("The attendance period of %(day)s is closed."),
    ATTACHMENT_REQUIRED: _("%(type)s needs proof: attach a file."),
    NO_WORKING_TIME: _("There is no working time in the chosen range."),
    BAD_RANGE: _("The range is not valid: %(why)s"),
    BAD_TYPE: _("Choose an active leave type."),
}


def policy_row_for(group: AttendanceGroup | None) -> AbsencePolicy:
    """The group's absence policy, or the defaults (unsaved) when it has none."""
    if group is not None:
        row = AbsencePolicy.objects.filter(group=group).first()
        if row is not None:
            return row
    return AbsencePolicy(group=group)


def exempts(kind: str, row: AbsencePolicy) -> bool:
    """Whether an approved request of `kind` makes the covered slots exempt (leave always;
    outings and trips unless the group expects field punches)."""
    if kind == Kind.OUTING:
        return row.outing_mode == FieldMode.EXEMPT
    if kind == Kind.TRIP:
        return row.trip_mode == FieldMode.EXEMPT
    return True


@dataclass
class Spec:
    """What was asked (already parsed at the boundary)."""

    kind: str
    start_date: date
    end_date: date
    leave_type: LeaveType | None = None
    start_part: str = Part.FULL
    end_part: str = Part.FULL
    start_at: datetime | None = None
    end_at: datetime | None = None
    attachments: int = 0


@dataclass
class Planned:
    spec: Spec
    intervals: list[coverage.Interval] = field(default_factory=list)
    amount: Decimal = Decimal(0)
    balance: Decimal | None = None  # now, for a balance-tracked type
    held: Decimal = Decimal(0)  # by pending requests of the type
    refusals: list[DomainError] = field(default_factory=list)

    @property
    def in_hours(self) -> bool:
        return self.spec.start_at is not None

    def first_refusal(self) -> DomainError | None:
        return self.refusals[0] if self.refusals else None


def _range_error(why: Any) -> DomainError:
    return DomainError(BAD_RANGE, MESSAGES[BAD_RANGE] % {"why": why})


def check_spec(spec: Spec) -> None:
    """Refuse a malformed request outright (raises)."""
    if spec.kind not in Kind.values:
        raise DomainError(BAD_TYPE, _("Choose leave, an outing or a business trip."))
    if spec.kind == Kind.LEAVE and (spec.leave_type is None or not spec.leave_type.active):
        raise DomainError(BAD_TYPE, MESSAGES[BAD_TYPE])
    if spec.kind != Kind.LEAVE:
        spec.leave_type = None
    if spec.end_date < spec.start_date:
        raise _range_error(_("the end is before the start"))
    if (spec.end_date - spec.start_date).days >= MAX_DAYS:
        raise _range_error(_("a request covers at most a year"))
    if spec.start_part not in Part.values or spec.end_part not in Part.values:
        raise _range_error(_("choose a whole day, a morning or an afternoon"))
    hours = spec.leave_type is not None and spec.leave_type.unit == Unit.HOUR
    if hours or spec.start_at is not None or spec.end_at is not None:
        if spec.start_at is None or spec.end_at is None:
            raise _range_error(_("give the start and end times"))
        if spec.end_at <= spec.start_at:
            raise _range_error(_("the end is before the start"))
        if spec.end_at - spec.start_at > timedelta(days=MAX_DAYS):
            raise _range_error(_("a request covers at most a year"))
        if spec.leave_type is not None and not hours:
            raise _range_error(_("this type is taken in whole or half days"))
    unit = spec.leave_type.unit if spec.leave_type is not None else Unit.HALF_DAY
    if unit == Unit.DAY and (spec.start_part != Part.FULL or spec.end_part != Part.FULL):
        raise _range_error(_("this type is taken in whole days"))


def employee_today(employee: Employee, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(employee_zone(employee)).date()


def plan_request(
    employee: Employee,
    spec: Spec,
    *,
    now: datetime | None = None,
    exclude: int | None = None,
    lock: bool = False,
) -> Planned:
    """The request's covered times, amount and refusals (in the order the submission
    checks them). `exclude`: a request not to count as overlapping or holding balance."""
    check_spec(spec)
    if spec.start_at is not None and spec.end_at is not None:
        tz = employee_zone(employee)
        first = spec.start_at.astimezone(tz).date() - timedelta(days=1)
        last = (spec.end_at - timedelta(microseconds=1)).astimezone(tz).date()
        spec.start_date, spec.end_date = first + timedelta(days=1), last
        plans = build_plans([employee], first, last)
        intervals = coverage.cover_hours(
            {d: p for (pk, d), p in plans.items() if pk == employee.pk},
            spec.start_at,
            spec.end_at,
        )
    else:
        plans = build_plans([employee], spec.start_date, spec.end_date)
        intervals = coverage.cover_days(
            {d: p for (pk, d), p in plans.items() if pk == employee.pk},
            spec.start_date,
            spec.end_date,
            spec.start_part,
            spec.end_part,
        )
    planned = Planned(spec, intervals, coverage.total(intervals))
    refusals = planned.refusals
    if not intervals:
        refusals.append(DomainError(NO_WORKING_TIME, MESSAGES[NO_WORKING_TIME]))
        return planned
    leave_type = spec.leave_type
    days = sorted({i.day for i in intervals})
    closed = closed_days(employee.attendance_group_id, days)
    if closed:
        refusals.append(
            DomainError(
                PERIOD_CLOSED,
                MESSAGES[PERIOD_CLOSED] % {"day": min(closed).isoformat()},
                details={"days": sorted(d.isoformat() for d in closed)},
            )
        )
    today = employee_today(employee, now)
    notice = leave_type.min_notice_days if leave_type is not None else 0
    if leave_type is not None and notice and (days[0] - today).days < notice:
        refusals.append(
            DomainError(
                NOTICE_TOO_SHORT,
                MESSAGES[NOTICE_TOO_SHORT] % {"type": leave_type.name, "days": notice},
                details={"min_notice_days": notice},
            )
        )
    if leave_type is not None and leave_type.attachment_required and spec.attachments < 1:
        refusals.append(
            DomainError(
                ATTACHMENT_REQUIRED, MESSAGES[ATTACHMENT_REQUIRED] % {"type": leave_type.name}
            )
        )
    clash = overlapping(employee, intervals, exclude=exclude)
    if clash:
        refusals.append(
            DomainError(
                OVERLAPS_EXISTING,
                MESSAGES[OVERLAPS_EXISTING] % {"what": clash[0]},
                details={"with": clash},
            )  # fmt: skip
        )
    if leave_type is not None and leave_type.balance_tracked:
        if lock:
            lock_account(employee, leave_type)
        planned.balance = balance_of(employee, leave_type)
        planned.held = held_by_pending(employee, leave_type, exclude=exclude)
        available = planned.balance - planned.held
        if planned.amount > available and not leave_type.allow_negative:
            error = insufficient(leave_type, available, planned.amount)
            error.details = {**error.details, "balance": str(planned.balance),
                             "held_by_pending": str(planned.held)}  # fmt: skip
            refusals.append(error)
    return planned


def held_by_pending(
    employee: Employee, leave_type: LeaveType, exclude: int | None = None
) -> Decimal:
    """What pending requests of the type will take when approved (so two requests cannot
    both count on the same balance)."""
    qs = AbsenceRequest.objects.filter(
        employee=employee, leave_type=leave_type, status=Status.PENDING, cancels__isnull=True
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def _pairs(raw: list[list[str]]) -> list[tuple[datetime, datetime]]:
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b, *_rest in raw]


def overlapping(
    employee: Employee, intervals: list[coverage.Interval], exclude: int | None = None
) -> list[str]:
    """Requests (pending or approved, not cancellations) and exemptions in force that
    overlap the intervals: ``["request #12", "exemption #3"]``."""
    wanted = [(i.start, i.end) for i in intervals]
    lo = min(s for s, _e in wanted)
    hi = max(e for _s, e in wanted)
    found: list[str] = []
    qs = AbsenceRequest.objects.filter(
        employee=employee,
        status__in=HOLDING,
        cancels__isnull=True,
        start_date__lte=(hi + timedelta(days=1)).date(),
        end_date__gte=(lo - timedelta(days=2)).date(),
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    own_exemptions: set[int] = set()
    for pk, raw in qs.values_list("pk", "intervals"):
        if coverage.overlaps(wanted, _pairs(raw)):
            found.append(f"#{pk}")
    if exclude is not None:
        own_exemptions = set(
            AbsenceRequest.exemptions.through.objects.filter(absencerequest_id=exclude).values_list(
                "exemption_id", flat=True
            )
        )
    for pk, s, e in Exemption.objects.filter(
        Q(employee=employee), voided_at__isnull=True, start__lt=hi, end__gt=lo
    ).values_list("pk", "start", "end"):
        if pk in own_exemptions:
            continue
        if coverage.overlaps(wanted, [(s, e)]):
            found.append(str(_("exemption %(id)s") % {"id": pk}))
    return found
