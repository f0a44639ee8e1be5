"""Pages: thin — parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date

from ztk.audit.selectors import audit_events, audit_verify
from ztk.core.errors import NotFoundError
from ztk.org.selectors import employee_for

from . import access


def _require(request, predicate) -> None:
    if not predicate(request.user):
        raise PermissionDenied


@login_required
def hr_home(request):
    """人事管理: what needs HR's attention now, and where to act on it."""
    _require(request, access.can_use_hr)
    from ztk.devices import selectors as devices
    from ztk.scheduling.selectors import current_calendar_warnings

    return render(
        request,
        "web/hr.html",
        {
            "calendar_warnings": current_calendar_warnings(),
            "pending_devices": devices.pending_devices().count(),
            "held_punches": devices.held_count(),
        },
    )


@login_required
def employee_profile(request, employee_no: str):
    try:  # 404 alike for unknown numbers and people the user may not see
        employee = employee_for(request.user, employee_no)
    except NotFoundError:
        raise Http404 from None
    return render(request, "web/employee_profile.html", {"employee": employee})


@login_required
def audit_log(request):
    _require(request, access.can_see_audit)
    params = request.GET
    events = audit_events(
        action=params.get("action", "").strip(),
        actor=params.get("actor", "").strip(),
        object_type=params.get("object_type", "").strip(),
        object_id=params.get("object_id", "").strip(),
        date_from=parse_date(params.get("from", "") or "") if params.get("from") else None,
        date_to=parse_date(params.get("to", "") or "") if params.get("to") else None,
    )
    page = Paginator(events, 50).get_page(params.get("page"))
    verification = audit_verify() if params.get("verify") else None
    return render(
        request,
        "web/audit.html",
        {"page": page, "verification": verification, "filters": params},
    )


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
