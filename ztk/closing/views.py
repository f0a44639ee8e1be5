"""HR pages for attendance periods (月结): the overview, one period's checklist, the close
confirmation (what is still open, per department), and the finalise / close / reopen
actions.

Views parse input, check the role (HR only, 403 otherwise), call one service or selector
of the close and redirect back to the period with a message; a refusal is shown as the
service's message. Plain forms: the pages work without JavaScript and at 375 px.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from ztk.attendance.explain import slot_label
from ztk.attendance.models import PeriodStatus
from ztk.core.errors import DomainError
from ztk.core.parse import parse_day, parse_month
from ztk.engine.periods import period_starting_in
from ztk.org.models import AttendanceGroup
from ztk.org.rules import can_use_hr
from ztk.org.selectors import period_start_day

from . import selectors, services

NOTE_MAX = 500


def _require(request: HttpRequest) -> None:
    if not can_use_hr(request.user):
        raise PermissionDenied


def _group(code: str) -> AttendanceGroup:
    return get_object_or_404(AttendanceGroup, code=code[:32])


def _start(value: str) -> date:
    parsed = parse_day(value)
    if parsed is None:
        raise Http404
    return parsed


def _period(group: AttendanceGroup, value: str):
    try:
        return selectors.period_at(group, _start(value))
    except DomainError:
        raise Http404 from None


def _slot(key: str) -> str:
    """'in1' → 上班卡 (the segment number only when there are several)."""
    return slot_label(key, int(key[-1]) if key[-1:].isdigit() else 1)


def _detail_url(group: AttendanceGroup, start: date) -> str:
    return reverse("periods:detail", args=[group.code, start.isoformat()])


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Every active group with its last three periods; a form to open any period."""
    _require(request)
    groups = list(AttendanceGroup.objects.filter(active=True).order_by("code"))
    if request.GET.get("group") and request.GET.get("month"):
        group = next((g for g in groups if g.code == request.GET["group"]), None)
        month = parse_month(request.GET["month"])
        if group is not None and month is not None:
            start, _end = period_starting_in(*month, period_start_day())
            return redirect(_detail_url(group, start))
        messages.error(request, _("Choose an attendance group and a month."))
    today = timezone.localdate()
    return render(
        request,
        "closing/period_index.html",
        {
            "rows": selectors.recent_periods(groups=groups, today=today),
            "groups": groups,
            "month": f"{today.year:04d}-{today.month:02d}",
        },
    )


@login_required
@require_safe
def detail(request: HttpRequest, group: str, start: str) -> HttpResponse:
    """One period: its status and the checklist, with the actions that fit."""
    _require(request)
    group_obj = _group(group)
    period = _period(group_obj, start)
    checklist = selectors.period_checklist(group=group_obj, start=period.start)
    return render(
        request,
        "closing/period_detail.html",
        {
            "group": group_obj,
            "period": checklist.period,
            "checklist": checklist,
            "closed": checklist.period.status == PeriodStatus.CLOSED,
            "pending_shown": [
                {"request": r, "slot": _slot(r.slot_key)}
                for r in checklist.pending_corrections[:50]
            ],
            "close_from": checklist.period.end + timedelta(days=1),
        },
    )


@login_required
@require_safe
def confirm(request: HttpRequest, group: str, start: str) -> HttpResponse:
    """The close confirmation: what is still open, per department, with counts and links,
    and the form that closes (it carries the token of what was shown)."""
    _require(request)
    group_obj = _group(group)
    period = _period(group_obj, start)
    review = selectors.close_review(group=group_obj, start=period.start)
    checklist = review.checklist
    if checklist.closed:
        return redirect(_detail_url(group_obj, period.start))
    return render(
        request,
        "closing/period_confirm.html",
        {
            "group": group_obj,
            "period": checklist.period,
            "checklist": checklist,
            "review": review,
            "blocking": [c for c in checklist.blocking if c != "pending_corrections"],
            "close_from": checklist.period.end + timedelta(days=1),
        },
    )


STALE = ("confirmation_required", "confirmation_stale")


def _act(request: HttpRequest, group: str, start: str, action) -> HttpResponse:
    _require(request)
    group_obj = _group(group)
    period = _period(group_obj, start)
    try:
        text = action(group_obj, period)
    except DomainError as exc:
        messages.error(request, exc.message)
        if exc.code in STALE:
            return redirect(
                reverse("periods:confirm", args=[group_obj.code, period.start.isoformat()])
            )
    else:
        messages.success(request, text)
    return redirect(_detail_url(group_obj, period.start))


@login_required
@require_POST
def finalise(request: HttpRequest, group: str, start: str) -> HttpResponse:
    """Make the period's past days final (missing punches then count as absent)."""

    def run(group_obj, period):
        n = services.period_finalise_days(actor=request.user, group=group_obj, start=period.start)
        return _("%(n)d employee-days were finalised.") % {"n": n}

    return _act(request, group, start, run)


@login_required
@require_POST
def close(request: HttpRequest, group: str, start: str) -> HttpResponse:
    def run(group_obj, period):
        closed = services.period_close(
            actor=request.user,
            group=group_obj,
            start=period.start,
            confirm=request.POST.get("confirm", "")[:64],
            cancel_pending=request.POST.get("cancel_pending") == "1",
            note=request.POST.get("note", "")[:NOTE_MAX],
        )
        return _("The period %(start)s – %(end)s of %(group)s is closed.") % {
            "start": closed.start.isoformat(),
            "end": closed.end.isoformat(),
            "group": group_obj.name,
        }

    return _act(request, group, start, run)


@login_required
@require_POST
def reopen(request: HttpRequest, group: str, start: str) -> HttpResponse:
    def run(group_obj, period):
        opened = services.period_reopen(
            actor=request.user,
            group=group_obj,
            start=period.start,
            reason=request.POST.get("reason", "")[:NOTE_MAX],
        )
        return _("The period %(start)s – %(end)s of %(group)s is open again.") % {
            "start": opened.start.isoformat(),
            "end": opened.end.isoformat(),
            "group": group_obj.name,
        }

    return _act(request, group, start, run)
