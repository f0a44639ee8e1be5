"""Overtime pages (加班): apply (from the day page), my requests, one request with what I
may do, the approver's list, and HR's per-group policy. Thin views over ``services``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ztk.approvals.chains import display_name
from ztk.attendance.days import employee_zone
from ztk.attendance.models import AttendanceDay
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.input_guard import text_checked
from ztk.core.parse import parse_clock, parse_day
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.rules import can_approve, can_change_settings, can_view_settings, employee_of
from ztk.org.selectors import employee_for

from . import selectors, services
from .models import ChainPreset, Compensation, OvertimeRequest, Status
from .rules import is_participant, may_act, may_cancel, may_file_for, may_view


def kind_label(kind: str) -> str:
    labels = {
        "weekday": _("Workday overtime (1.5×)"),
        "rest": _("Rest-day overtime (2×)"),
        "holiday": _("Holiday overtime (3×)"),
    }
    return labels.get(kind, kind)


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def _row(req: OvertimeRequest) -> dict[str, Any]:
    tz = employee_zone(req.employee)
    return {
        "req": req,
        "kind_label": kind_label(req.kind),
        "status_label": Status(req.status).label,
        "start": req.start.astimezone(tz).strftime("%H:%M"),
        "end": req.end.astimezone(tz).strftime("%H:%M"),
        "next_day": req.end.astimezone(tz).date() > req.start.astimezone(tz).date(),
        "hours": _hours(req.minutes),
        "is_cancellation": req.cancels_id is not None,
    }


def _nav(request: HttpRequest, here: str) -> dict[str, Any]:
    return {
        "nav_here": here,
        "nav_inbox": can_approve(request.user),
        "nav_policy": bool(can_view_settings(request.user)),
    }


def _get(request: HttpRequest, pk: int) -> OvertimeRequest:
    req = (
        OvertimeRequest.objects.select_related(
            "employee__user", "employee__department", "applicant"
        )
        .filter(pk=pk)
        .first()
    )
    if req is None or not may_view(request.user, req):
        raise Http404
    return req


# --------------------------------------------------------------------------- lists


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """我的加班: the caller's own requests (and the ones they filed), newest first."""
    status = request.GET.get("status", "")
    qs = selectors.mine(request.user).order_by("-created_at", "-pk")
    if status in Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "overtime/mine.html",
        {
            **_nav(request, "mine"),
            "rows": [_row(r) for r in page],
            "page": page,
            "status": status,
            "status_filters": Status.choices,
            "can_apply": employee_of(request.user) is not None,
        },
    )


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """Overtime waiting for my decision (beside the corrections' inbox)."""
    if not can_approve(request.user):
        raise PermissionDenied
    rows = [_row(r) for r in selectors.to_decide(request.user)]
    return render(request, "overtime/inbox.html", {**_nav(request, "inbox"), "rows": rows})


# --------------------------------------------------------------------------- apply


def _form_day(request: HttpRequest, employee: Employee, day: date) -> dict[str, Any]:
    stored = AttendanceDay.objects.filter(employee=employee, day=day).first()
    if stored is None or not stored.overtime_minutes:
        return {}
    category = {"work": "weekday", "rest": "rest", "holiday": "holiday"}.get(stored.kind, "")
    return {
        "computed": _hours(stored.overtime_minutes),
        "counted": _hours(stored.overtime_counted_minutes),
        "kind_label": kind_label(category),
    }


@text_checked
@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """申请加班: a day, from–until (until ≤ from: the next day), paid or time off, reason.
    From the day page with ?day=YYYY-MM-DD (and &employee=NO on someone's behalf)."""
    data = request.POST if request.method == "POST" else request.GET
    number = (data.get("employee") or "").strip() or None
    try:
        employee = employee_for(request.user, number, may=may_file_for)
    except NotFoundError as missing:
        raise Http404 from missing
    tz = employee_zone(employee)
    today = timezone.now().astimezone(tz).date()
    day = parse_day(data.get("day")) or today
    values = {
        "day": day.isoformat(),
        "start": data.get("start", "18:00")[:5],
        "end": data.get("end", "20:00")[:5],
        "reason": data.get("reason", "")[:500],
        "compensation": data.get("compensation", Compensation.PAY),
    }
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        start_time, end_time = parse_clock(values["start"]), parse_clock(values["end"])
        if start_time is None or end_time is None:
            errors.append(_("Give the times as HH:MM."))
        else:
            start = datetime.combine(day, start_time).replace(tzinfo=tz)
            end = datetime.combine(day, end_time).replace(tzinfo=tz)
            if end <= start:
                end += timedelta(days=1)
            try:
                req = services.overtime_submit(
                    actor=request.user,
                    employee=employee,
                    start=start,
                    end=end,
                    reason=values["reason"],
                    compensation=values["compensation"],
                    channel="web",
                )
            except PermissionDeniedError as denied:
                raise PermissionDenied from denied
            except DomainError as error:
                errors.append(error.message)
            else:
                messages.success(request, _("Overtime request submitted."))
                return redirect("overtime:detail", req.pk)
        status = 422
    return render(
        request,
        "overtime/apply.html",
        {
            **_nav(request, "new"),
            "employee": employee,
            "on_behalf": employee.user_id != request.user.pk,
            "values": values,
            "errors": errors,
            "compensations": Compensation.choices,
            "stored": _form_day(request, employee, day),
        },
        status=status,
    )


# --------------------------------------------------------------------------- one request


def _detail(
    request: HttpRequest, req: OvertimeRequest, *, error: str = "", status: int = 200
) -> HttpResponse:
    user = request.user
    actions = list(req.actions.select_related("actor__employee"))
    for action in actions:
        action.actor_name = display_name(action.actor) if action.actor else ""  # type: ignore[attr-defined]  # display only
    # A cancellation (撤销) of this request waiting for approval, if any.
    cancelling = req.cancellations.filter(status=Status.PENDING).order_by("pk").first()
    return render(
        request,
        "overtime/detail.html",
        {
            **_nav(request, "detail"),
            "row": _row(req),
            "applicant": display_name(req.applicant),
            "actions": actions,
            "chain": req.chain,
            "can_act": may_act(user, req),
            "can_withdraw": req.is_pending and is_participant(user, req),
            "can_cancel": req.status == Status.APPROVED
            and req.cancels_id is None
            and not cancelling
            and may_cancel(user, req),
            "cancelling": cancelling,
            "counted": _hours(services.counted_minutes(req)),
            "time_off": req.compensation == Compensation.TIME_OFF,
            "error": error,
        },
        status=status,
    )


@login_required
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _get(request, pk))


def _act(request: HttpRequest, pk: int, run, done: str) -> HttpResponse:
    req = _get(request, pk)
    try:
        result = run(req)
    except NotFoundError as missing:
        raise Http404 from missing
    except PermissionDeniedError as denied:
        raise PermissionDenied from denied
    except DomainError as error:
        req.refresh_from_db()
        return _detail(request, req, error=error.message, status=error.status)
    messages.success(request, done)
    return redirect("overtime:detail", result.pk if result is not None else pk)


@text_checked
@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    comment = request.POST.get("comment", "")[:1000]
    return _act(
        request,
        pk,
        lambda r: services.overtime_approve(actor=request.user, request=r, comment=comment),
        _("Approved."),
    )


@text_checked
@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")[:1000]
    return _act(
        request,
        pk,
        lambda r: services.overtime_reject(actor=request.user, request=r, reason=reason),
        _("Rejected."),
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda r: services.overtime_withdraw(actor=request.user, request=r),
        _("Withdrawn."),
    )


@text_checked
@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")[:1000]
    return _act(
        request,
        pk,
        lambda r: services.overtime_cancel(actor=request.user, request=r, reason=reason),
        _("The cancellation (撤销) was sent for approval."),
    )


# --------------------------------------------------------------------------- policy


@login_required
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    """Each attendance group's overtime rules: HR and system admins change them (audited;
    the days recompute), the auditor reads them (the other settings pages' rule)."""
    editable = bool(can_change_settings(request.user))
    if not can_view_settings(request.user) or (request.method == "POST" and not editable):
        raise PermissionDenied
    groups = list(AttendanceGroup.objects.order_by("code"))
    errors: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        group = next((g for g in groups if g.code == request.POST.get("group")), None)
        if group is None:
            raise Http404
        try:
            values = {
                "min_block_minutes": int(request.POST.get("min_block_minutes", "")),
                "unit_minutes": int(request.POST.get("unit_minutes", "")),
                "needs_request": request.POST.get("needs_request") == "on",
                "chain_preset": request.POST.get("chain_preset", ChainPreset.MULTI),
            }
        except ValueError:
            errors[group.pk] = _("Give the minutes as whole numbers.")
        else:
            try:
                services.policy_update(actor=request.user, group=group, **values)
            except DomainError as error:
                errors[group.pk] = error.message
            else:
                messages.success(
                    request, _("Overtime rules of %(group)s saved.") % {"group": group.name}
                )
                return redirect(reverse("overtime_settings:policy"))
        status = 422
    rows = [
        {"group": g, "policy": services.policy_row_for(g), "error": errors.get(g.pk)}
        for g in groups
    ]
    return render(
        request,
        "overtime/policy.html",
        {
            **_nav(request, "policy"),
            "rows": rows,
            "presets": ChainPreset.choices,
            "editable": editable,
        },
        status=status,
    )
