"""Attendance pages: my month with the punch button, one day, the team grid, HR lookup.

Views only parse input, check permission, call one selector or service and render. The
punch button itself posts to the JSON API (``POST /api/v1/punches``); only the field punch
with a photo comes through the small multipart form view here, both ending in
``ztk.punches.services.web_punch``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError
from ztk.core.parse import parse_day, parse_local_url
from ztk.org.models import Employee
from ztk.org.rules import can_see_team, can_use_hr_desk, employee_of
from ztk.org.selectors import employee_for, employee_list
from ztk.org.zones import employee_zone
from ztk.punches.models import PunchSource
from ztk.punches.services import web_punch

from . import page_selectors as pages
from .selectors import punch_photo_for

LOOKUP_LIMIT = 50


def _punch_texts() -> dict[str, str]:
    """Messages the punch button shows; `%(time)s` is filled in by the script."""
    return {
        "locating": _("Getting your location…"),
        "sending": _("Recording your punch…"),
        "recorded": _("Punch recorded at %(time)s."),
        "field_recorded": _("Field punch (外勤) recorded at %(time)s."),
        "duplicate": _("You already punched less than a minute ago (at %(time)s)."),
        "denied": _(
            "Location access is blocked. Allow location for this site in your browser "
            "settings, then try again."
        ),
        "timeout": _(
            "Your location could not be found in time. Check that location is switched on "
            "and try again."
        ),
        "unavailable": _("Your location is not available on this device right now."),
        "unsupported": _("This browser cannot share your location."),
        "insecure": _("Location needs a secure (https) connection to this site."),
        "network": _("The punch could not be sent. Check your connection and try again."),
        "failed": _("The punch was not recorded."),
        "photo": _("Take a photo of where you are to record a field punch (外勤)."),
        "undo": _("Undo (%(seconds)s s)"),
        "undone": _("Punch undone: it no longer counts."),
        "offline": _(
            "You are offline. A punch is recorded at the server's time, so it cannot be made "
            "now: punch again when the connection is back."
        ),
    }


def _weekday_names(*, narrow: bool = False) -> list[str]:
    """Monday first: 一 … 日 in Chinese (as calendars print them), Mon … Sun / Mo … Su."""
    names = [str(WEEKDAYS_ABBR[i]) for i in range(7)]
    if get_language().startswith("zh"):
        return [name[-1:] for name in names]
    return [name[:2] for name in names] if narrow else names


def _htmx_target(request: HttpRequest) -> str | None:
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target


def _vary(response: HttpResponse) -> HttpResponse:
    from django.utils.cache import patch_vary_headers

    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _parse_day(value: str) -> date:
    parsed = parse_day(value)
    if parsed is None:
        raise Http404
    return parsed


def _employee_for(request: HttpRequest, employee_no: str) -> Employee:
    """The employee whose pages are asked for; 404 alike for unknown and not yours."""
    try:
        return employee_for(request.user, employee_no)
    except NotFoundError:
        raise Http404 from None


def _own_employee(request: HttpRequest) -> Employee | None:
    """The signed-in user's employee with its group, cached on the user for later reads."""
    user = request.user
    if not user.is_authenticated:
        return None
    employee = (
        Employee.objects.select_related("attendance_group", "department")
        .filter(user_id=user.pk)
        .first()
    )
    if employee is not None:
        user.employee = employee  # fills the reverse one-to-one cache; saves nothing
    return employee


def _nav(user: Any) -> dict[str, bool]:
    return {"can_see_team": can_see_team(user), "can_lookup": can_use_hr_desk(user)}


# --------------------------------------------------------------------------- month


def _month(request: HttpRequest, employee: Employee, *, own: bool) -> HttpResponse:
    now = timezone.now()
    year, month = pages.parse_month(request.GET.get("month"), pages.local_today(employee, now))
    cal = pages.month_calendar(
        employee=employee, year=year, month=month, now=now, actor=request.user
    )
    context: dict[str, Any] = {
        "own": own,
        "subject": employee,
        "cal": cal,
        "weekday_names": _weekday_names(),
        **_nav(request.user),
    }
    target = _htmx_target(request)
    if target == "calendar":
        return _vary(render(request, "attendance/month.html#calendar", context))
    if own:
        context["today"] = pages.today_slots(employee=employee, now=now, shown=cal)
        if target == "today":
            return _vary(render(request, "attendance/month.html#today", context))
        context.update(
            punch=pages.punch_context(employee=employee, today=context["today"], now=now),
            punch_texts=_punch_texts(),
            tz_name=str(employee_zone(employee)),
            now_local=now.astimezone(employee_zone(employee)),
            api_url=reverse("api:list_punches"),
            photo_url=reverse("attendance:punch_photo"),
        )
    return _vary(render(request, "attendance/month.html", context))


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """我的考勤: the punch button, today's slots and my month calendar."""
    employee = _own_employee(request)
    if employee is None:
        return render(request, "attendance/no_employee.html", _nav(request.user))
    return _month(request, employee, own=True)


@login_required
@require_safe
def employee_month(request: HttpRequest, employee_no: str) -> HttpResponse:
    """Another person's month (their supervisor, department head or HR)."""
    employee = _employee_for(request, employee_no)
    me = employee_of(request.user)
    if me is not None and me.pk == employee.pk:
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(reverse("attendance:home") + query)
    return _month(request, employee, own=False)


# --------------------------------------------------------------------------- day


def _day(request: HttpRequest, employee: Employee, day: date, *, own: bool) -> HttpResponse:
    detail = pages.day_detail(employee=employee, day=day, actor=request.user, now=timezone.now())
    month = f"{day.year:04d}-{day.month:02d}"
    if own:
        back = f"{reverse('attendance:home')}?month={month}"
    else:
        back = f"{reverse('attendance:employee_month', args=[employee.employee_no])}?month={month}"
    return render(
        request,
        "attendance/day.html",
        {"own": own, "subject": employee, "detail": detail, "back_url": back},
    )


@login_required
@require_safe
def my_day(request: HttpRequest, day: str) -> HttpResponse:
    employee = _own_employee(request)
    if employee is None:
        raise Http404
    return _day(request, employee, _parse_day(day), own=True)


@login_required
@require_safe
def employee_day(request: HttpRequest, employee_no: str, day: str) -> HttpResponse:
    employee = _employee_for(request, employee_no)
    me = employee_of(request.user)
    own = me is not None and me.pk == employee.pk
    return _day(request, employee, _parse_day(day), own=own)


# --------------------------------------------------------------------------- team, lookup


@login_required
@require_safe
def team(request: HttpRequest) -> HttpResponse:
    """Reports × days for a month, for supervisors, department heads and HR."""
    if not can_see_team(request.user):
        raise PermissionDenied
    now = timezone.now()
    me = employee_of(request.user)
    year, month = pages.parse_month(request.GET.get("month"), pages.local_today(me, now))
    search = request.GET.get("q", "").strip()[:60]
    department = request.GET.get("department", "").strip()[:32]
    anomalies_only = request.GET.get("anomalies") == "1"
    grid = pages.team_month(
        user=request.user,
        year=year,
        month=month,
        search=search,
        department=department,
        anomalies_only=anomalies_only,
        page=request.GET.get("page"),
        now=now,
    )
    filters = request.GET.copy()
    filters.pop("page", None)
    filters.pop("month", None)
    prev_y, prev_m = pages.shift_month(year, month, -1)
    next_y, next_m = pages.shift_month(year, month, 1)
    narrow = _weekday_names(narrow=True)
    context = {
        "grid": grid,
        "columns": [(d, narrow[d.weekday()]) for d in grid.days],
        "month_param": f"{year:04d}-{month:02d}",
        "month_start": date(year, month, 1),
        "prev": f"{prev_y:04d}-{prev_m:02d}",
        "next": f"{next_y:04d}-{next_m:02d}",
        "filters": filters.urlencode(),
        "search": search,
        "department": department,
        "anomalies_only": anomalies_only,
        **_nav(request.user),
    }
    if _htmx_target(request) == "team-grid":
        return _vary(render(request, "attendance/team.html#grid", context))
    return _vary(render(request, "attendance/team.html", context))


@login_required
@require_safe
def lookup(request: HttpRequest) -> HttpResponse:
    """HR: find anyone by name, employee number or pinyin initials."""
    if not can_use_hr_desk(request.user):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()[:60]
    results = list(employee_list(search=query)[: LOOKUP_LIMIT + 1]) if query else []
    return render(
        request,
        "attendance/lookup.html",
        {
            "query": query,
            "results": results[:LOOKUP_LIMIT],
            "truncated": len(results) > LOOKUP_LIMIT,
            **_nav(request.user),
        },
    )


# --------------------------------------------------------------------------- field punch


class FieldPunchForm(forms.Form):
    """The photo of a field punch (外勤), with the position the browser gave a moment ago."""

    photo = forms.FileField(label=gettext_lazy("Photo"), allow_empty_file=True)
    latitude = forms.FloatField(min_value=-90, max_value=90, required=False)
    longitude = forms.FloatField(min_value=-180, max_value=180, required=False)
    accuracy_m = forms.FloatField(min_value=0, max_value=100_000, required=False)
    channel = forms.ChoiceField(
        choices=[(PunchSource.WEB, PunchSource.WEB), (PunchSource.MOBILE, PunchSource.MOBILE)],
        required=False,
    )


def _next_url(request: HttpRequest) -> str:
    return parse_local_url(request.POST.get("next")) or reverse("attendance:home")


@login_required
@require_POST
def punch_photo(request: HttpRequest) -> HttpResponse:
    """Submit a punch with a photo (multipart, CSRF-protected): the 外勤 case of the button."""
    form = FieldPunchForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
            break
        return redirect(_next_url(request))
    data = form.cleaned_data
    try:
        outcome = web_punch(
            actor=request.user,
            latitude=data["latitude"],
            longitude=data["longitude"],
            accuracy_m=data["accuracy_m"],
            photo=data["photo"],
            channel=data["channel"] or PunchSource.WEB,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_next_url(request))
    tz = employee_zone(employee_of(request.user))
    at = outcome.punch.at.astimezone(tz).strftime("%H:%M") if outcome.punch else ""
    if outcome.duplicate:
        messages.info(
            request, _("You already punched less than a minute ago (at %(time)s).") % {"time": at}
        )
    elif outcome.field_punch:
        messages.success(request, _("Field punch (外勤) recorded at %(time)s.") % {"time": at})
    else:
        messages.success(request, _("Punch recorded at %(time)s.") % {"time": at})
    return redirect(_next_url(request))


@login_required
@require_safe
def punch_photo_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A field punch's photo, for whoever may see that employee's days (else 404)."""
    try:
        punch = punch_photo_for(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing
    name = f"{punch.employee.employee_no}-{punch.at:%Y%m%d-%H%M}"
    content_type = uploads.sniff(uploads.read_head(punch.photo)) if punch.photo else None
    if content_type is None:
        raise Http404
    return uploads.file_response(
        punch.photo, content_type, name, download=request.GET.get("download") == "1"
    )
