"""The HR manual-add page (管理员手动添加): find the employee, pick the day, fill the gaps.

Views only parse input, check the role, call one service or read and render. Search is an
htmx partial (type → results); everything else is plain forms, so the page also works
without JavaScript. After a save or a void the page redirects back to the same day, which
then shows the recomputed result and the message.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from ztk.attendance.days import day_windows, employee_zone
from ztk.core.errors import DomainError, NotFoundError
from ztk.core.input_guard import text_checked
from ztk.core.parse import parse_clock, parse_day
from ztk.hrdesk import manual
from ztk.org.models import Employee
from ztk.org.selectors import employee_for
from ztk.punches.models import Punch

REMARK_MAX = 500


def _require(request: HttpRequest) -> None:
    if not manual.can_manual_add(request.user):
        raise PermissionDenied


def _employee(request: HttpRequest, employee_no: str) -> Employee:
    if not employee_no.strip():
        raise Http404  # HR names the person; nobody is meant by default
    try:
        return employee_for(request.user, employee_no)
    except NotFoundError:
        raise Http404 from None


def _page_url(employee_no: str = "", day: date | None = None) -> str:
    params = {}
    if employee_no:
        params["employee"] = employee_no
    if day is not None:
        params["day"] = day.isoformat()
    base = reverse("manual:index")
    return f"{base}?{urlencode(params)}" if params else base


def _context(
    request: HttpRequest, employee: Employee | None, day: date | None, **extra: Any
) -> dict[str, Any]:
    now = timezone.now()
    context: dict[str, Any] = {"employee": employee, "day": day, "query": "", "results": []}
    if employee is not None:
        today = now.astimezone(employee_zone(employee)).date()
        context["today"] = today
        context["day_value"] = (day or today).isoformat()
        if day is not None:
            context["view"] = manual.manual_day(employee=employee, day=day, now=now)
            context["prev_url"] = _page_url(
                employee.employee_no, date.fromordinal(day.toordinal() - 1)
            )
            if day < today:
                context["next_url"] = _page_url(
                    employee.employee_no, date.fromordinal(day.toordinal() + 1)
                )
            context["day_url"] = reverse(
                "attendance:employee_day", args=[employee.employee_no, day.isoformat()]
            )
    context.update(extra)
    view = context.get("view")
    if view is not None:
        posted = extra.get("posted")
        context["form_rows"] = [
            {
                "slot": slot,
                "checked": (slot.key in posted["slots"]) if posted else slot.checked,
                "time": posted["times"].get(slot.key, slot.expected) if posted else slot.expected,
            }
            for slot in view.addable
        ]
        context["remark"] = posted["remark"] if posted else ""
    return context


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The page: search, or one employee with a date picker, or one employee-day."""
    _require(request)
    employee_no = request.GET.get("employee", "")
    employee = _employee(request, employee_no) if employee_no else None
    day = parse_day(request.GET.get("day")) if employee is not None else None
    context = _context(request, employee, day)
    if employee is None:
        query = request.GET.get("q", "").strip()[:60]
        context.update(query=query, results=manual.employee_search(query))
    return render(request, "hrdesk/manual_page.html", context)


@login_required
@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """htmx: the result list for what has been typed so far (one query)."""
    _require(request)
    query = request.GET.get("q", "").strip()[:60]
    response = render(
        request,
        "hrdesk/manual_results.html",
        {"query": query, "results": manual.employee_search(query)},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@text_checked
@login_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    """Save the checked slots' times as manual punches, then show the day again."""
    _require(request)
    employee = _employee(request, request.POST.get("employee", ""))
    day = parse_day(request.POST.get("day"))
    if day is None:
        raise Http404
    remark = request.POST.get("remark", "")[:REMARK_MAX]
    windows = {w.key: w for w in day_windows(employee, day)}
    times: list[tuple[str, Any]] = []
    problem = ""
    for key in request.POST.getlist("slot"):
        window = windows.get(key)
        if window is None:
            continue
        raw = request.POST.get(f"time_{key}", "")
        clock = parse_clock(raw)
        if clock is None:
            problem = _("Enter a time (HH:MM) for %(slot)s.") % {
                "slot": manual.slot_name(key, list(windows.values()))
            }
            break
        times.append((key, manual.time_in_window(window, clock)))
    if not problem:
        try:
            punches = manual.manual_punch_add(
                actor=request.user, employee=employee, day=day, times=times, remark=remark
            )
        except DomainError as exc:
            problem = exc.message
        else:
            tz = employee_zone(employee)
            messages.success(
                request,
                _("Added %(times)s for %(name)s; the day has been recomputed.")
                % {
                    "times": ", ".join(p.at.astimezone(tz).strftime("%H:%M") for p in punches),
                    "name": employee.name,
                },
            )
            return redirect(_page_url(employee.employee_no, day))
    # Refused: the same page with what was typed, so nothing has to be entered again.
    context = _context(
        request,
        employee,
        day,
        error=problem,
        posted={
            "remark": remark,
            "slots": request.POST.getlist("slot"),
            "times": {k[5:]: v for k, v in request.POST.items() if k.startswith("time_")},
        },
    )
    return render(request, "hrdesk/manual_page.html", context, status=422)


@login_required
@require_POST
def void(request: HttpRequest, punch_id: int) -> HttpResponse:
    """Void a wrong manual punch with a reason; the punch stays, struck through."""
    _require(request)
    punch = get_object_or_404(
        Punch.objects.select_related("employee__attendance_group", "employee__user"), pk=punch_id
    )
    back_day = parse_day(request.POST.get("day")) or manual.attendance_date_of(punch)
    try:
        manual.manual_punch_void(
            actor=request.user, punch=punch, reason=request.POST.get("reason", "")[:REMARK_MAX]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        tz = employee_zone(punch.employee)
        messages.success(
            request,
            _("The punch at %(time)s was voided; the day has been recomputed.")
            % {"time": punch.at.astimezone(tz).strftime("%H:%M")},
        )
    return redirect(_page_url(punch.employee.employee_no, back_day))
