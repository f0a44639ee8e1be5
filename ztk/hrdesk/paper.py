"""Paper forms (纸质《漏签申报表》): HR registers a form a department leader signed on paper.

The form becomes an approved correction request with channel ``paper`` (HR is the
applicant, on the employee's behalf) whose trail records the leader's signature as the
approval; its punch (source ``paper``) goes through ``record_punches`` and the day is
recomputed in the same transaction, so the slot shows 补卡 at once — or nothing happens.
The ``PaperForm`` row keeps the paper trail: the unique form number, the signer, the date
signed and the scanned copy (JPEG, PNG, HEIC, WebP or PDF by content, at most 10 MB).

Rules: HR or system admins only, never for their own attendance; the period must be open,
the time in the slot's punch window and not in the future, the slot not already punched
and without a pending request. The slot-and-quota rules are the corrections app's own
(``policy.check_submission``), so a paper form counts against the monthly limit when the
group's ``CorrectionPolicy.paper_counts`` says so [yes], and HR may go past the limit only
with an override reason. The application window and the cut-off day do not apply: a paper
form is by nature entered after the fact; only a closed period (月结) stops it.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.approvals.models import ActionKind
from ztk.attendance.days import day_slots, day_windows, employee_zone, is_closed
from ztk.attendance.models import AttendanceDay
from ztk.attendance.services import recompute
from ztk.audit.services import record
from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.corrections import policy as p
from ztk.corrections import services
from ztk.corrections.messages import refusal_message
from ztk.corrections.models import (
    ApprovalAction,
    Channel,
    CorrectionRequest,
    PaperForm,
    ReasonCategory,
    Status,
)
from ztk.engine.periods import period_of
from ztk.hrdesk import manual
from ztk.org.models import Employee
from ztk.org.rules import can_use_hr_desk as can_register
from ztk.org.rules import employee_of
from ztk.org.selectors import employee_matches
from ztk.punches.models import PunchSource
from ztk.punches.services import PunchInput, record_punches

# Stable error codes (tests and clients import these).
FORM_NO_REQUIRED = "form_no_required"
DUPLICATE_FORM_NO = "duplicate_form_no"
SCAN_REQUIRED = "scan_required"
ATTACHMENT_TYPE = services.ATTACHMENT_TYPE
ATTACHMENT_TOO_LARGE = services.ATTACHMENT_TOO_LARGE
REASON_REQUIRED = "reason_required"
SIGNER_REQUIRED = "signer_required"
SIGNER_IS_EMPLOYEE = "signer_is_employee"
SIGNED_AFTER_ENTRY = "signed_after_entry"
SIGNED_BEFORE_DAY = "signed_before_day"
EMPLOYEE_INACTIVE = p.EMPLOYEE_INACTIVE
OWN_ATTENDANCE = manual.OWN_ATTENDANCE
UNKNOWN_CATEGORY = p.UNKNOWN_CATEGORY
QUOTA_OVERRIDE_REASON = services.QUOTA_OVERRIDE_REASON
INVALID_TIME = manual.INVALID_TIME
PERIOD_CLOSED = p.PERIOD_CLOSED
FUTURE_TIME = p.FUTURE_TIME
SLOT_NOT_FOUND = p.SLOT_NOT_FOUND
TIME_OUTSIDE_SLOT_WINDOW = p.TIME_OUTSIDE_SLOT_WINDOW
SLOT_ALREADY_PUNCHED = p.SLOT_ALREADY_PUNCHED
NOT_AN_ANOMALY = p.NOT_AN_ANOMALY
DUPLICATE_PENDING = p.DUPLICATE_PENDING
MONTHLY_LIMIT_REACHED = p.MONTHLY_LIMIT_REACHED

# The rules of the self-service check that a paper form obeys too (the window, the
# category's attachment and the reason length are the paper's business), in the order
# they are reported: the first one is the refusal's code.
PAPER_RULES: tuple[str, ...] = (
    PERIOD_CLOSED,
    FUTURE_TIME,
    SLOT_NOT_FOUND,
    TIME_OUTSIDE_SLOT_WINDOW,
    SLOT_ALREADY_PUNCHED,
    DUPLICATE_PENDING,
    NOT_AN_ANOMALY,
    MONTHLY_LIMIT_REACHED,
)

ACTION = "corrections.paper_form.register"
PUNCH_AUDIT_ACTION = "corrections.paper_punch"
NOTIFY_KIND = "correction_paper_registered"
FORM_NO_MAX = 40
MIN_REASON = 2
DEFAULT_CATEGORY = "other"

MESSAGES = {
    FORM_NO_REQUIRED: _("Enter the form number (at most 40 characters)."),
    DUPLICATE_FORM_NO: _("Form number %(form_no)s is already registered."),
    SCAN_REQUIRED: _("Attach the scan of the signed form."),
    ATTACHMENT_TYPE: uploads.SCAN.type_message,
    ATTACHMENT_TOO_LARGE: uploads.SCAN.size_message,
    REASON_REQUIRED: _("Copy the reason written on the form (at least 2 characters)."),
    SIGNER_REQUIRED: _("Enter who signed the form."),
    SIGNER_IS_EMPLOYEE: _("The form must be signed by a leader, not by the employee."),
    SIGNED_AFTER_ENTRY: _("The form cannot be signed after today (%(signed_on)s)."),
    SIGNED_BEFORE_DAY: _("The form was signed (%(signed_on)s) before the day it corrects."),
    UNKNOWN_CATEGORY: _("Unknown reason category “%(category)s”."),
    QUOTA_OVERRIDE_REASON: services.MESSAGES[services.QUOTA_OVERRIDE_REASON],
    "no_shift": manual.MESSAGES[manual.NO_SHIFT],
    "other_day": manual.MESSAGES["other_day"],
}


def _error(code: str, key: str | None = None, **params: Any) -> DomainError:
    template = MESSAGES[key or code]
    return DomainError(code, template % params if params else template, details=params or None)


def _refusal(refusal: p.Refusal, refusals: list[p.Refusal], segments: int) -> DomainError:
    return DomainError(
        refusal.code,
        refusal_message(refusal, segments=segments),
        details=[
            {
                "code": r.code,
                "message": refusal_message(r, segments=segments),
                "params": dict(r.params),
            }
            for r in refusals
        ],
    )


def may_see(user: Any, form: PaperForm) -> bool:
    """HR, system admins and the employee the form is about (the scan is personal data)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if can_register(user):
        return True
    me = employee_of(user)
    return me is not None and me.pk == form.employee_id


def normalise_form_no(value: str) -> str:
    """The number as written, without surrounding or doubled spaces."""
    return " ".join((value or "").split())


# --------------------------------------------------------------------------- register


def _check_scan(scan: Any) -> uploads.Checked:
    if scan is None or uploads.file_size(scan) == 0:
        raise _error(SCAN_REQUIRED)
    return uploads.check(scan, uploads.SCAN)


def _category(code: str, offered: dict[str, ReasonCategory]) -> ReasonCategory:
    code = (code or "").strip()
    if code:
        if code not in offered:
            raise _error(UNKNOWN_CATEGORY, category=code)
        return offered[code]
    if DEFAULT_CATEGORY in offered:
        return offered[DEFAULT_CATEGORY]
    if offered:
        return next(iter(offered.values()))
    raise _error(UNKNOWN_CATEGORY, category=DEFAULT_CATEGORY)


def _form_snapshot(form: PaperForm, tz: Any) -> dict[str, Any]:
    return {
        "form_no": form.form_no,
        "employee_id": form.employee_id,
        "day": form.day.isoformat(),
        "slot_key": form.slot_key,
        "time": form.time.astimezone(tz).isoformat(),
        "reason": form.reason,
        "signed_by_id": form.signed_by_id,
        "signed_by_name": form.signed_by_name,
        "signed_on": form.signed_on.isoformat(),
        "scan": form.scan.name,
        "scan_type": form.scan_type,
        "scan_size": form.scan_size,
        "request_id": form.request_id,
    }


def _day_url(employee: Employee, day: date) -> str:
    try:
        return reverse("attendance:day", args=[day.isoformat()])
    except NoReverseMatch:
        return ""


def paper_form_register(
    *,
    actor: Any,
    form_no: str,
    employee: Employee,
    day: date,
    slot_key: str,
    time: datetime | clock_time,
    reason: str,
    signed_by: Employee | None,
    signed_on: date,
    scan: Any,
    signed_by_name: str = "",
    category: str = "",
    quota_override_reason: str | None = None,
    now: datetime | None = None,
) -> PaperForm:
    """Register a signed paper form as an approved correction (channel ``paper``).

    `time` is an aware datetime, or a wall-clock time placed in the slot's window (a
    night shift's check-out lands on the next day). `signed_by` is the signing leader when
    they are in the system; otherwise `signed_by_name` says who signed. All or nothing:
    any refusal (DomainError with a stable code) leaves nothing behind.
    """
    now = now or timezone.now()
    if not can_register(actor) or not getattr(actor, "is_active", False):
        raise PermissionDeniedError(_("Only HR registers paper forms."))
    me = employee_of(actor)
    if me is not None and me.pk == employee.pk:
        raise manual.refused(OWN_ATTENDANCE)
    for field, label, value, multiline in (
        ("form_no", _("Form number"), form_no, False),
        ("reason", _("Reason"), reason, True),
        ("signed_by_name", _("Signed by"), signed_by_name, False),
        ("category", _("Category"), category, False),
        (
            "quota_override_reason",
            _("Reason for overriding the limit"),
            quota_override_reason,
            True,
        ),
    ):
        clean_text(value, field=field, label=label, multiline=multiline)

    form_no = normalise_form_no(form_no)
    if not form_no or len(form_no) > FORM_NO_MAX:
        raise _error(FORM_NO_REQUIRED)
    if PaperForm.objects.filter(form_no__iexact=form_no).exists():
        raise _error(DUPLICATE_FORM_NO, form_no=form_no)
    checked = _check_scan(scan)

    employee = Employee.objects.select_related(
        "user", "department", "supervisor", "attendance_group"
    ).get(pk=employee.pk)
    if not employee.active:
        raise DomainError(EMPLOYEE_INACTIVE, refusal_message(p.Refusal(EMPLOYEE_INACTIVE)))
    services.check_day(day)
    reason = " ".join((reason or "").split())[:500]
    if p.reason_length(reason) < MIN_REASON:
        raise _error(REASON_REQUIRED)
    signer_name = (signed_by.name if signed_by is not None else (signed_by_name or "").strip())[:60]
    if not signer_name:
        raise _error(SIGNER_REQUIRED)
    if signed_by is not None and signed_by.pk == employee.pk:
        raise _error(SIGNER_IS_EMPLOYEE)
    tz = employee_zone(employee)
    local_now = now.astimezone(tz)
    if signed_on > local_now.date():
        raise _error(SIGNED_AFTER_ENTRY, signed_on=signed_on.isoformat())
    if signed_on < day:
        raise _error(SIGNED_BEFORE_DAY, signed_on=signed_on.isoformat())
    override = quota_override_reason is not None
    if quota_override_reason is not None:
        quota_override_reason = quota_override_reason.strip()[:500]
        if not quota_override_reason:
            raise _error(QUOTA_OVERRIDE_REASON)

    row = services.policy_row_for(employee.attendance_group)
    offered = services.categories_for(row)
    reason_category = _category(category, offered)
    policy = dataclasses.replace(services.policy_for(row, offered), cutoff_day=None)
    counts = bool(row.paper_counts)

    windows = day_windows(employee, day)
    segments = len({w.segment for w in windows}) or 1
    window = next((w for w in windows if w.key == slot_key), None)
    if isinstance(time, datetime):
        if time.tzinfo is None or time.utcoffset() is None:
            time = time.replace(tzinfo=tz)
        moment = time
    elif isinstance(time, clock_time) and window is not None:
        moment = manual.time_in_window(window, time)
    elif isinstance(time, clock_time):
        moment = datetime.combine(day, time, tzinfo=tz)
    else:
        raise manual.refused(INVALID_TIME)
    services.check_day(moment.date())

    start, _end = period_of(day, policy.period_start_day)
    with transaction.atomic():
        # One registration per employee at a time: "already punched" and the count hold.
        Employee.objects.select_for_update().filter(pk=employee.pk).values_list("pk").first()
        services.lock_quota(employee, start)
        recompute([(employee.pk, day)], now=now)  # judge against the day as it is now
        before_row = AttendanceDay.objects.filter(employee=employee, day=day).first()
        info = day_slots(employee, [day], now=now).get(day, {}).get(slot_key)
        used = services.used_in_period(employee, start, row)
        pending = CorrectionRequest.objects.filter(
            employee=employee, date=day, slot_key=slot_key, status=Status.PENDING
        ).exists()
        facts = p.Facts(
            employee_active=True,
            on_behalf=True,
            applicant_may_file_on_behalf=True,
            day=day,
            slot_key=slot_key,
            slot_status=info.status if info and window is not None else None,
            slot_window_start=window.start if window else None,
            slot_window_end=window.end if window else None,
            slot_window_end_inclusive=window.end_inclusive if window else True,
            requested_time=moment,
            now=local_now,
            period_closed=is_closed(employee, day),
            used_in_period=used,
            pending_for_slot=pending,
            category=reason_category.code,
            reason=reason,
            quota_override=override,
            counts_against_quota=counts,
        )
        refusals = sorted(
            (r for r in p.check_submission(policy, facts) if r.code in PAPER_RULES),
            key=lambda r: PAPER_RULES.index(r.code),
        )
        if not windows and refusals and refusals[0].code == SLOT_NOT_FOUND:
            raise _error(SLOT_NOT_FOUND, "no_shift", day=day.isoformat())
        if refusals:
            raise _refusal(refusals[0], refusals, segments)
        # Without a window slot_status is None, which the check refuses (SLOT_NOT_FOUND).
        assert window is not None

        req = CorrectionRequest.objects.create(
            employee=employee,
            applicant=actor,
            on_behalf=True,
            date=day,
            slot_key=slot_key,
            slot_kind=window.kind,
            slot_expected=window.expected,
            requested_time=moment,
            category=reason_category,
            reason=reason,
            channel=Channel.PAPER,
            status=Status.APPROVED,
            period_start=start,
            counts_against_quota=counts,
            quota_override_reason=(quota_override_reason or "") if override else "",
            decided_at=now,
            decided_by=(signed_by.user if signed_by is not None else None) or actor,
        )
        ApprovalAction.objects.create(
            request=req,
            action=ActionKind.SUBMIT,
            actor=actor,
            comment=str(_("Paper form %(form_no)s registered: %(reason)s"))
            % {"form_no": form_no, "reason": reason},
        )
        ApprovalAction.objects.create(
            request=req,
            action=ActionKind.APPROVE,
            actor=signed_by.user if signed_by is not None else None,
            comment=str(_("Signed on paper by %(name)s on %(day)s (form %(form_no)s)."))
            % {"name": signer_name, "day": signed_on.isoformat(), "form_no": form_no},
        )
        result = record_punches(
            [
                PunchInput(
                    at=moment,
                    source=PunchSource.PAPER,
                    employee_id=employee.pk,
                    correction_id=req.pk,
                    remark=f"纸质漏签申报表 {form_no}: {reason}"[:500],
                    dedup_key=f"paper:{req.pk}",
                )
            ],
            actor=actor,
            now=now,
            recompute=False,
            audit_action=PUNCH_AUDIT_ACTION,
            audit_extra={"correction_id": req.pk, "form_no": form_no},
        )
        if result.rejected:
            refusal = result.rejected[0]
            raise DomainError(refusal.code, refusal.message)
        # Recompute here, not in record_punches' forgiving savepoint: the day must show
        # 补卡 at once, or the whole registration is undone.
        recompute(result.affected | {(employee.pk, day)}, now=now)
        after_row = AttendanceDay.objects.filter(employee=employee, day=day).first()
        filled = {s.get("key"): s.get("punch_id") for s in (after_row.slots if after_row else [])}
        if filled.get(slot_key) not in set(result.punch_ids):
            raise _error(
                TIME_OUTSIDE_SLOT_WINDOW,
                "other_day",
                time=moment.astimezone(tz).strftime("%m-%d %H:%M"),
                day=day.isoformat(),
            )
        req.punch_id = result.punch_ids[0]
        req.save(update_fields=["punch"])

        form = PaperForm(
            form_no=form_no,
            request=req,
            employee=employee,
            day=day,
            slot_key=slot_key,
            time=moment,
            reason=reason,
            signed_by=signed_by,
            signed_by_name=signer_name,
            signed_on=signed_on,
            scan_name=checked.name,
            scan_type=checked.content_type,
            scan_size=checked.size,
            entered_by=actor,
        )
        stored = uploads.as_stored(checked)
        form.scan.save(stored.name, stored, save=False)
        try:
            with transaction.atomic():
                form.save()
        except IntegrityError:  # the same number registered a moment ago by someone else
            form.scan.delete(save=False)
            raise _error(DUPLICATE_FORM_NO, form_no=form_no) from None

        used_after = services.quota_refresh(employee, start, row)
        record(
            ACTION,
            obj=form,
            actor=actor,
            before={"day": manual.day_snapshot(before_row), "quota_used": used},
            after={
                "day": manual.day_snapshot(after_row),
                "quota_used": used_after,
                "form": _form_snapshot(form, tz),
                "request": services.request_snapshot(req),
            },
            extra={
                "employee_no": employee.employee_no,
                "counts_against_quota": counts,
                "quota_override_reason": req.quota_override_reason or None,
                "category": reason_category.code,
            },
        )
        services.notify_request(
            NOTIFY_KIND,
            [employee.user],
            req,
            _("Paper form registered: %(day)s %(slot)s"),
            _(
                "HR registered paper form %(form_no)s signed by %(signer)s: %(slot)s on "
                "%(day)s is recorded at %(time)s (补卡)."
            ),
            params={"form_no": form_no, "signer": signer_name},
        )
    return form


# --------------------------------------------------------------------------- archive


def _search_employees(query: str) -> Q:
    return employee_matches(query, via="employee__")


def paper_forms_search(
    *,
    actor: Any,
    form_no: str = "",
    employee: str = "",
    start: date | None = None,
    end: date | None = None,
    signer: str = "",
) -> QuerySet[PaperForm]:
    """The archive (HR and system admins): by form number, employee (name, number or
    pinyin initials), the corrected day's range and the signer; newest entries first."""
    if not can_register(actor):
        raise PermissionDeniedError()
    qs = PaperForm.objects.select_related(
        "employee__department", "signed_by", "entered_by", "request"
    )
    form_no = normalise_form_no(form_no)[:FORM_NO_MAX]
    if form_no:
        qs = qs.filter(form_no__icontains=form_no)
    employee = employee.strip()[:60]
    if employee:
        qs = qs.filter(_search_employees(employee))
    if start is not None:
        qs = qs.filter(day__gte=start)
    if end is not None:
        qs = qs.filter(day__lte=end)
    signer = signer.strip()[:60]
    if signer:
        qs = qs.filter(
            Q(signed_by_name__icontains=signer) | employee_matches(signer, via="signed_by__")
        )
    return qs.order_by("-entered_at", "-pk")


def paper_form_for(user: Any, pk: int) -> PaperForm:
    """One form with what its page shows: 404 (NotFoundError) unless `user` may see it."""
    form = (
        PaperForm.objects.select_related(
            "employee__department",
            "employee__attendance_group",
            "signed_by",
            "entered_by",
            "request__category",
            "request__punch",
        )
        .filter(pk=pk)
        .first()
    )
    if form is None or not may_see(user, form):
        raise NotFoundError()
    return form
