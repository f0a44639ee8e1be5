"""Attendance periods (月结): the close checklist, finalising the past days, closing and
reopening a period of one attendance group.

A period runs from the company's period start day (``Company.period_start_day``) to the
day before the next start, per attendance group. Closing needs the period to be over,
every employee-day of it final (``period_finalise_days`` does that from the page) and no
correction request pending (or HR cancels them on closing, as DingTalk's 封账 does: each
applicant is told). A closed period refuses corrections and manual adds
(``period_closed``), and recomputes leave its days alone; the payroll webhooks are sent
the period's report. Reopening needs a reason, is audited and tells HR and the
supervisors of the group's employees.

Unmatched terminal punches (held: unknown PIN, terminal not approved) in the period are
listed on the checklist as a warning but do not block closing: they belong to nobody yet,
and HR decides whether to assign them first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.org.models import AttendanceGroup, Company, Employee
from ztk.org.roles import HR
from ztk.org.rules import is_hr
from ztk.org.zones import group_zone

from .models import AttendanceDay, AttendancePeriod, PeriodStatus

User = get_user_model()

# Stable codes of the refusals (tests and API clients import these).
PENDING_CORRECTIONS = "pending_corrections"
UNFINALISED_DAYS = "unfinalised_days"
PERIOD_NOT_OVER = "period_not_over"
ALREADY_CLOSED = "already_closed"
NOT_CLOSED = "not_closed"
REASON_REQUIRED = "reason_required"
BAD_PERIOD = "bad_period"

MIN_REASON = 2
REASON_MAX = 500
SAMPLE = 20
FINALISE_CHUNK = 500  # employees per transaction while finalising

MESSAGES = {
    PENDING_CORRECTIONS: _(
        "%(n)d correction requests for this period are still pending: decide them first, "
        "or close the period and cancel them."
    ),
    UNFINALISED_DAYS: _(
        "%(n)d employee-days of this period are not final yet: finalise the past days first."
    ),
    PERIOD_NOT_OVER: _("The period ends on %(end)s: it can be closed from the day after."),
    ALREADY_CLOSED: _("The period %(start)s – %(end)s is already closed."),
    NOT_CLOSED: _("The period %(start)s – %(end)s is not closed."),
    REASON_REQUIRED: _("Give the reason for reopening the period."),
    BAD_PERIOD: _("No attendance period starts on %(start)s."),
}


def _error(code: str, **params: Any) -> DomainError:
    message = MESSAGES[code] % params if params else MESSAGES[code]
    details = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()}
    return DomainError(code, message, details=details or None)


def _require_hr(actor: Any) -> None:
    if not is_hr(actor):
        raise PermissionDeniedError()


# --- periods --------------------------------------------------------------------------------


def period_start_day() -> int:
    value = Company.objects.order_by("pk").values_list("period_start_day", flat=True).first()
    return value if value and 1 <= value <= 28 else 1


def period_bounds(day: date) -> tuple[date, date]:
    """First and last day of the attendance period containing `day` (company start day)."""
    from ztk.corrections.policy import period_of

    return period_of(day, period_start_day())


def group_today(group: AttendanceGroup, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(group_zone(group)).date()


def period_for(group: AttendanceGroup, day: date) -> AttendancePeriod:
    """The group's period containing `day`: the stored row, created (open) when missing."""
    found = (
        AttendancePeriod.objects.filter(group=group, start__lte=day, end__gte=day)
        .order_by("-start")
        .first()
    )
    if found is not None:
        return found
    start, end = period_bounds(day)
    period, _created = AttendancePeriod.objects.get_or_create(
        group=group, start=start, defaults={"end": end}
    )
    return period


def period_at(group: AttendanceGroup, start: date) -> AttendancePeriod:
    """The group's period that starts on `start` (refused when no period starts then)."""
    period = period_for(group, start)
    if period.start != start:
        raise _error(BAD_PERIOD, start=start)
    return period


def _locked(group: AttendanceGroup, start: date) -> AttendancePeriod:
    period = period_at(group, start)
    return (
        AttendancePeriod.objects.select_for_update(of=("self",))
        .select_related("group", "closed_by")
        .get(pk=period.pk)
    )


def _snap(period: AttendancePeriod) -> dict[str, Any]:
    return {
        "status": period.status,
        "closed_at": period.closed_at.isoformat() if period.closed_at else None,
        "closed_by": period.closed_by_id,
    }


# --- the checklist --------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySample:
    employee_no: str
    name: str
    day: date
    status: str


@dataclass(frozen=True)
class MissingSample:
    employee_no: str
    name: str
    days: int


@dataclass
class Checklist:
    """What stands between a period and its close; `ok` when nothing is outstanding."""

    period: AttendancePeriod
    today: date
    pending_corrections: list[Any] = field(default_factory=list)
    unfinalised_days: int = 0  # provisional stored days plus days never computed
    unfinalised_sample: list[DaySample] = field(default_factory=list)
    missing_days: int = 0  # of unfinalised_days: employee-days with no stored result yet
    missing_sample: list[MissingSample] = field(default_factory=list)
    held_punches: int = 0

    @property
    def over(self) -> bool:
        return self.today > self.period.end

    @property
    def closed(self) -> bool:
        return self.period.status == PeriodStatus.CLOSED

    @property
    def ok(self) -> bool:
        return not self.pending_corrections and not self.unfinalised_days and not self.held_punches

    @property
    def blocking(self) -> list[str]:
        """Codes that refuse the close as things stand (pending ones may be cancelled)."""
        codes = []
        if self.closed:
            codes.append(ALREADY_CLOSED)
        if not self.over:
            codes.append(PERIOD_NOT_OVER)
        if self.pending_corrections:
            codes.append(PENDING_CORRECTIONS)
        if self.unfinalised_days:
            codes.append(UNFINALISED_DAYS)
        return codes

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.period.group.code,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "pending_corrections": [r.pk for r in self.pending_corrections],
            "unfinalised_days": self.unfinalised_days,
            "missing_days": self.missing_days,
            "held_punches": self.held_punches,
            "ok": self.ok,
        }


def _employment_days(
    first: date, last: date, hire: date | None, leave: date | None
) -> tuple[date, date] | None:
    lo = max(first, hire) if hire else first
    hi = min(last, leave) if leave else last
    return (lo, hi) if lo <= hi else None


def _expected(group: AttendanceGroup, first: date, last: date) -> dict[int, tuple]:
    """Active employees of the group with the span of [first, last] they were employed."""
    out = {}
    for pk, no, name, hire, leave in Employee.objects.filter(
        attendance_group=group, active=True
    ).values_list("pk", "employee_no", "name", "hire_date", "leave_date"):
        span = _employment_days(first, last, hire, leave)
        if span is not None:
            out[pk] = (no, name, *span)
    return out


def _held_count(group: AttendanceGroup, start: date, end: date) -> int:
    try:
        from ztk.devices.models import HeldPunch
    except ImportError:  # the terminals app may not be installed
        return 0
    tz = group_zone(group)
    lo = datetime.combine(start, time.min, tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return (
        HeldPunch.objects.filter(resolved_at__isnull=True, at__gte=lo, at__lt=hi)
        .filter(Q(device__attendance_group=group) | Q(device__attendance_group__isnull=True))
        .count()
    )


def period_checklist(
    *, group: AttendanceGroup, start: date, now: datetime | None = None
) -> Checklist:
    """Pending corrections (each), days not final (count and a sample, including days never
    computed), held terminal punches of the period (count). Reads only, except that the
    period row is created when missing."""
    from ztk.corrections.models import CorrectionRequest, Status

    period = period_at(group, start)
    today = group_today(group, now)
    checklist = Checklist(period=period, today=today)
    checklist.pending_corrections = list(
        CorrectionRequest.objects.filter(
            employee__attendance_group=group, period_start=period.start, status=Status.PENDING
        )
        .select_related("employee", "category")
        .order_by("date", "employee__employee_no", "pk")
    )
    last = min(period.end, today - timedelta(days=1))
    in_period = AttendanceDay.objects.filter(
        employee__attendance_group=group, day__gte=period.start, day__lte=period.end
    )
    provisional = in_period.filter(finalised=False)
    stored_unfinal = provisional.count()
    checklist.unfinalised_sample = [
        DaySample(*row)
        for row in provisional.order_by("day", "employee__employee_no").values_list(
            "employee__employee_no", "employee__name", "day", "status"
        )[:SAMPLE]
    ]
    if last >= period.start:
        expected = _expected(group, period.start, last)
        stored = dict(
            in_period.filter(employee__active=True, day__lte=last)
            .filter(Q(employee__hire_date__isnull=True) | Q(day__gte=F("employee__hire_date")))
            .filter(Q(employee__leave_date__isnull=True) | Q(day__lte=F("employee__leave_date")))
            .values("employee_id")
            .order_by()
            .annotate(n=Count("id"))
            .values_list("employee_id", "n")
        )
        missing = []
        for pk, (no, name, lo, hi) in sorted(expected.items(), key=lambda kv: kv[1][0]):
            gap = (hi - lo).days + 1 - stored.get(pk, 0)
            if gap > 0:
                missing.append(MissingSample(no, name, gap))
        checklist.missing_days = sum(m.days for m in missing)
        checklist.missing_sample = missing[:SAMPLE]
    checklist.unfinalised_days = stored_unfinal + checklist.missing_days
    checklist.held_punches = _held_count(group, period.start, period.end)
    return checklist


# --- finalising -----------------------------------------------------------------------------


def period_finalise_days(
    *, actor: Any, group: AttendanceGroup, start: date, now: datetime | None = None
) -> int:
    """Make final every past day of the period that is not: provisional days and days never
    computed (employees employed then). Days from today on are left for later. Returns the
    number of employee-days written. Runs in chunks of employees, each its own transaction
    (finalising is idempotent: an interrupted run is simply run again)."""
    from .services import recompute

    _require_hr(actor)
    now = now or timezone.now()
    period = period_at(group, start)
    if period.status == PeriodStatus.CLOSED:
        raise _error(ALREADY_CLOSED, start=period.start, end=period.end)
    last = min(period.end, group_today(group, now) - timedelta(days=1))
    if last < period.start:
        return 0
    stored: dict[int, dict[date, bool]] = {}
    for employee_id, day, final in AttendanceDay.objects.filter(
        employee__attendance_group=group, day__gte=period.start, day__lte=last
    ).values_list("employee_id", "day", "finalised"):
        stored.setdefault(employee_id, {})[day] = final
    by_employee: dict[int, list[date]] = {}
    for pk, (_no, _name, lo, hi) in _expected(group, period.start, last).items():
        days = stored.get(pk, {})
        by_employee[pk] = [
            lo + timedelta(days=i)
            for i in range((hi - lo).days + 1)
            if not days.get(lo + timedelta(days=i), False)
        ]
    for pk, days in stored.items():  # people who left the group's active list meanwhile
        if pk not in by_employee:
            by_employee[pk] = [d for d, final in days.items() if not final]
    ids = sorted(pk for pk, days in by_employee.items() if days)
    if not ids:
        return 0  # everything is final already: nothing to do, nothing to record
    written = 0
    for i in range(0, len(ids), FINALISE_CHUNK):
        pairs = [(pk, d) for pk in ids[i : i + FINALISE_CHUNK] for d in by_employee[pk]]
        with transaction.atomic():
            written += recompute(pairs, now=now, finalise=True)
    with transaction.atomic():
        record(
            "attendance.period.finalise",
            obj=period,
            actor=actor,
            extra={
                "group": group.code,
                "start": period.start,
                "until": last,
                "employees": len(ids),
                "days": written,
            },
        )
    return written


# --- close and reopen -----------------------------------------------------------------------


def _cancel_note(period: AttendancePeriod, note: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext(
            "The attendance period %(start)s – %(end)s was closed; requests still pending "
            "for it were cancelled."
        ) % {"start": period.start.isoformat(), "end": period.end.isoformat()}
    note = (note or "").strip()
    return f"{text} {note}"[:1000] if note else text


def period_close(
    *,
    actor: Any,
    group: AttendanceGroup,
    start: date,
    cancel_pending: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> AttendancePeriod:
    """Close (月结) the group's period that starts on `start`.

    Refused with ``already_closed``, ``period_not_over`` (its last day has not passed in the
    group's time zone), ``pending_corrections`` (unless `cancel_pending`: they are then
    cancelled and each applicant told, with `note`), ``unfinalised_days``. Nothing is
    written when refused. On success the period is closed, audited with its checklist, and
    the payroll webhooks are queued (sent after the commit).
    """
    from ztk.corrections.services import corrections_cancel_for_period
    from ztk.reports.models import PayrollEvent
    from ztk.reports.payroll import payroll_queue

    _require_hr(actor)
    now = now or timezone.now()
    note = clean_text(note, field="note", label=_("Note"), multiline=True)
    with transaction.atomic():
        period = _locked(group, start)
        if period.status == PeriodStatus.CLOSED:
            raise _error(ALREADY_CLOSED, start=period.start, end=period.end)
        if group_today(group, now) <= period.end:
            raise _error(PERIOD_NOT_OVER, end=period.end)
        checklist = period_checklist(group=group, start=period.start, now=now)
        checklist.period = period
        pending = checklist.pending_corrections
        if pending and not cancel_pending:
            raise _error(PENDING_CORRECTIONS, n=len(pending))
        if checklist.unfinalised_days:
            raise _error(UNFINALISED_DAYS, n=checklist.unfinalised_days)
        cancelled = 0
        if pending:
            cancelled = corrections_cancel_for_period(
                actor=actor,
                group=group,
                period_start=period.start,
                reason=_cancel_note(period, note),
                now=now,
            )
        before = _snap(period)
        period.status = PeriodStatus.CLOSED
        period.closed_at, period.closed_by = now, actor
        period.save(update_fields=["status", "closed_at", "closed_by"])
        record(
            "attendance.period.close",
            obj=period,
            actor=actor,
            before=before,
            after=_snap(period),
            extra={
                "checklist": checklist.as_dict(),
                "cancelled": cancelled,
                "note": (note or "").strip()[:REASON_MAX],
            },
        )
        payroll_queue(period=period, event=PayrollEvent.PERIOD_CLOSED)
    return period


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the page is not mounted in this deployment
        return ""


def _notify_reopen(period: AttendancePeriod, actor: Any, reason: str) -> None:
    from ztk.notifications.services import notify

    group = period.group
    hr_people = list(
        User.objects.filter(groups__name=HR, is_active=True)
        .exclude(pk=actor.pk)
        .order_by("pk")
        .distinct()
    )
    hr_ids = {u.pk for u in hr_people}
    supervisors = [
        u
        for u in User.objects.filter(
            is_active=True,
            employee__active=True,
            employee__reports__attendance_group=group,
            employee__reports__active=True,
        )
        .order_by("pk")
        .distinct()
        if u.pk not in hr_ids and u.pk != actor.pk
    ]
    try:
        by = actor.employee.name
    except Exception:  # noqa: BLE001 - an account without an employee record
        by = actor.get_username()
    with translation.override(settings.LANGUAGE_CODE):
        text = {
            "group": group.name,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "by": by,
            "reason": reason,
        }
        title = gettext("Attendance period reopened: %(group)s %(start)s – %(end)s") % text
        data = {"period_id": period.pk, "group": group.code, "start": text["start"]}
        if hr_people:
            notify(
                kind="period_reopened",
                recipients=hr_people,
                title=title,
                body=gettext(
                    "%(by)s reopened the period: %(reason)s. Corrections and manual adds are "
                    "possible again until it is closed anew."
                )
                % text,
                url=_url("periods:detail", group.code, text["start"]),
                data=data,
            )
        if supervisors:
            notify(
                kind="period_reopened",
                recipients=supervisors,
                title=title,
                body=gettext(
                    "%(by)s (HR) reopened the period of your team: %(reason)s. Corrections "
                    "for it can be filed and approved again."
                )
                % text,
                url=_url("attendance:team"),
                data=data,
            )


def period_reopen(
    *,
    actor: Any,
    group: AttendanceGroup,
    start: date,
    reason: str,
    now: datetime | None = None,
) -> AttendancePeriod:
    """Reopen a closed period, with a reason: audited, HR and the supervisors of the
    group's employees are told, the payroll webhooks get ``period.reopened``."""
    from ztk.reports.models import PayrollEvent
    from ztk.reports.payroll import payroll_queue

    _require_hr(actor)
    reason = clean_text(reason, field="reason", label=_("Reason"), multiline=True)
    reason = " ".join(reason.split())[:REASON_MAX]
    if len(reason) < MIN_REASON:
        raise _error(REASON_REQUIRED)
    with transaction.atomic():
        period = _locked(group, start)
        if period.status != PeriodStatus.CLOSED:
            raise _error(NOT_CLOSED, start=period.start, end=period.end)
        before = _snap(period)
        period.status = PeriodStatus.OPEN
        period.closed_at, period.closed_by = None, None
        period.save(update_fields=["status", "closed_at", "closed_by"])
        record(
            "attendance.period.reopen",
            obj=period,
            actor=actor,
            before=before,
            after=_snap(period),
            extra={"reason": reason, "group": group.code},
        )
        _notify_reopen(period, actor, reason)
        payroll_queue(period=period, event=PayrollEvent.PERIOD_REOPENED)
    return period


# --- the overview page ------------------------------------------------------------------------


def recent_periods(*, groups: list[AttendanceGroup], today: date, count: int = 3) -> list[dict]:
    """For each group: its last `count` periods up to the one containing `today`, stored or
    not (a missing row is an open period), newest first. Two queries."""
    starts: list[tuple[date, date]] = []
    day = today
    for _i in range(count):
        start, end = period_bounds(day)
        starts.append((start, end))
        day = start - timedelta(days=1)
    stored = {
        (p.group_id, p.start): p
        for p in AttendancePeriod.objects.filter(
            group__in=groups, start__in=[s for s, _e in starts]
        ).select_related("closed_by")
    }
    return [
        {
            "group": group,
            "periods": [
                stored.get((group.pk, s))
                or AttendancePeriod(group=group, start=s, end=e, status=PeriodStatus.OPEN)
                for s, e in starts
            ],
        }
        for group in groups
    ]
