"""Writes of the month close (月结): finalising the past days, closing and reopening a
period of one attendance group. Every one is HR-only, transactional and audited.

Closing needs the period to be over, every employee-day of it final (``period_finalise_days``
does that from the page) and no correction request pending (or HR cancels them on
closing, as DingTalk's 封账 does: each applicant is told). A closed period refuses
corrections and manual adds (``period_closed``: attendance answers that, from the stored
row), and recomputes leave its days alone; the payroll webhooks are sent the period's
report. Reopening needs a reason, is audited and tells HR and the supervisors of the
group's employees.

Unmatched terminal punches (held: unknown PIN, terminal not approved) in the period are
listed on the checklist as a warning but do not block closing: they belong to nobody yet,
and HR decides whether to assign them first.

The audit event names (``attendance.period.*``) are those of the records already written
before the close had its own app; they are kept so the log reads as one history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ztk.attendance.models import AttendanceDay, AttendancePeriod, PeriodStatus
from ztk.attendance.services import recompute
from ztk.audit.services import record
from ztk.core.errors import PermissionDeniedError
from ztk.core.text import clean_text
from ztk.corrections.services import corrections_cancel_for_period
from ztk.notifications.services import notify
from ztk.org.models import AttendanceGroup
from ztk.org.roles import HR
from ztk.org.rules import is_hr
from ztk.reports.models import PayrollEvent
from ztk.reports.payroll import payroll_queue

from .refusals import (
    ALREADY_CLOSED,
    CONFIRMATION_REQUIRED,
    CONFIRMATION_STALE,
    NOT_CLOSED,
    PENDING_CORRECTIONS,
    PERIOD_NOT_OVER,
    REASON_REQUIRED,
    UNFINALISED_DAYS,
    refusal,
)
from .selectors import close_review, expected_days, group_today, period_at

User = get_user_model()

MIN_REASON = 2
REASON_MAX = 500
FINALISE_CHUNK = 500  # employees per transaction while finalising


def _require_hr(actor: Any) -> None:
    if not is_hr(actor):
        raise PermissionDeniedError()


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


# --- finalising -----------------------------------------------------------------------------


def period_finalise_days(
    *, actor: Any, group: AttendanceGroup, start: date, now: datetime | None = None
) -> int:
    """Make final every past day of the period that is not: provisional days and days never
    computed (employees employed then). Days from today on are left for later. Returns the
    number of employee-days written. Runs in chunks of employees, each its own transaction
    (finalising is idempotent: an interrupted run is simply run again)."""
    _require_hr(actor)
    now = now or timezone.now()
    period = period_at(group, start)
    if period.status == PeriodStatus.CLOSED:
        raise refusal(ALREADY_CLOSED, start=period.start, end=period.end)
    last = min(period.end, group_today(group, now) - timedelta(days=1))
    if last < period.start:
        return 0
    stored: dict[int, dict[date, bool]] = {}
    for employee_id, day, final in AttendanceDay.objects.filter(
        employee__attendance_group=group, day__gte=period.start, day__lte=last
    ).values_list("employee_id", "day", "finalised"):
        stored.setdefault(employee_id, {})[day] = final
    by_employee: dict[int, list[date]] = {}
    for pk, (_no, _name, lo, hi) in expected_days(group, period.start, last).items():
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


def _cancel_text(period: AttendancePeriod, note: str) -> str:
    """Why pending requests were cancelled, in the active language, with HR's note."""
    text = gettext(
        "The attendance period %(start)s – %(end)s was closed; requests still pending "
        "for it were cancelled."
    ) % {"start": period.start.isoformat(), "end": period.end.isoformat()}
    note = (note or "").strip()
    return f"{text} {note}"[:1000] if note else text


# The same, rendered in each reader's language when the cancellation notice is written.
lazy_cancel_text = lazy(_cancel_text, str)


def _cancel_note(period: AttendancePeriod, note: str) -> str:
    """The note stored on the cancelled requests: in the company's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return _cancel_text(period, note)


def period_close(
    *,
    actor: Any,
    group: AttendanceGroup,
    start: date,
    confirm: str = "",
    cancel_pending: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> AttendancePeriod:
    """Close (月结) the group's period that starts on `start`.

    Refused with ``already_closed``, ``period_not_over`` (its last day has not passed in the
    group's time zone), ``pending_corrections`` (unless `cancel_pending`: they are then
    cancelled and each applicant told, with `note`), ``unfinalised_days``, and then
    ``confirmation_required`` / ``confirmation_stale`` unless `confirm` is the token of the
    close confirmation (``selectors.close_review``) as it still stands: whoever closes has
    seen what stays open (days still 缺卡, 旷工, late; pending requests; held punches) per
    department. Nothing is written when refused. On success the period is closed, audited
    with its checklist, and the payroll webhooks are queued (sent after the commit).
    """
    _require_hr(actor)
    now = now or timezone.now()
    note = clean_text(note, field="note", label=_("Note"), multiline=True)
    with transaction.atomic():
        period = _locked(group, start)
        if period.status == PeriodStatus.CLOSED:
            raise refusal(ALREADY_CLOSED, start=period.start, end=period.end)
        if group_today(group, now) <= period.end:
            raise refusal(PERIOD_NOT_OVER, end=period.end)
        review = close_review(group=group, start=period.start, now=now)
        checklist = review.checklist
        checklist.period = period
        pending = checklist.pending_corrections
        if pending and not cancel_pending:
            raise refusal(PENDING_CORRECTIONS, n=len(pending))
        if checklist.unfinalised_days:
            raise refusal(UNFINALISED_DAYS, n=checklist.unfinalised_days)
        if not confirm:
            raise refusal(CONFIRMATION_REQUIRED)
        if confirm != review.token:
            raise refusal(CONFIRMATION_STALE)
        cancelled = 0
        if pending:
            cancelled = corrections_cancel_for_period(
                actor=actor,
                group=group,
                period_start=period.start,
                reason=_cancel_note(period, note),
                notice_reason=lazy_cancel_text(period, note),
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
                "still_open": {
                    d.code or "-": {
                        "missing": d.missing_days,
                        "absent": d.absent_days,
                        "late": d.late_days,
                        "pending": d.pending_requests,
                    }
                    for d in review.departments
                },
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
    text = {
        "group": group.name,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "by": by,
        "reason": reason,
    }
    # Templates, not text: ``notify`` writes them in every language, each reader reads theirs.
    title = _("Attendance period reopened: %(group)s %(start)s – %(end)s")
    data = {"period_id": period.pk, "group": group.code, "start": text["start"]}
    if hr_people:
        notify(
            kind="period_reopened",
            recipients=hr_people,
            title=title,
            body=_(
                "%(by)s reopened the period: %(reason)s. Corrections and manual adds are "
                "possible again until it is closed anew."
            ),
            params=text,
            url=_url("periods:detail", group.code, text["start"]),
            data=data,
        )
    if supervisors:
        notify(
            kind="period_reopened",
            recipients=supervisors,
            title=title,
            body=_(
                "%(by)s (HR) reopened the period of your team: %(reason)s. Corrections "
                "for it can be filed and approved again."
            ),
            params=text,
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
    _require_hr(actor)
    reason = clean_text(reason, field="reason", label=_("Reason"), multiline=True)
    reason = " ".join(reason.split())[:REASON_MAX]
    if len(reason) < MIN_REASON:
        raise refusal(REASON_REQUIRED)
    with transaction.atomic():
        period = _locked(group, start)
        if period.status != PeriodStatus.CLOSED:
            raise refusal(NOT_CLOSED, start=period.start, end=period.end)
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
