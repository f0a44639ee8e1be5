"""Pages: thin — parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CONTENT_TYPE_LATEST

from ztk.audit.selectors import audit_events, audit_verify
from ztk.core.errors import NotFoundError
from ztk.core.parse import FIRST_DAY, LAST_DAY, parse_day
from ztk.devices import selectors as devices
from ztk.org import rules
from ztk.org.selectors import employee_for
from ztk.scheduling.selectors import current_calendar_warnings

from .health import health, live
from .metrics import authorized, exposition


def _require(request, predicate) -> None:
    if not predicate(request.user):
        raise PermissionDenied


@login_required
def hr_home(request):
    """人事管理: what needs HR's attention now, and where to act on it."""
    _require(request, rules.can_use_hr)
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
    _require(request, rules.can_see_audit)
    params = request.GET
    days, errors = {}, []
    for name, label in (("from", _("From")), ("to", _("To"))):
        raw = params.get(name, "").strip()
        days[name] = parse_day(raw)
        if raw and days[name] is None:  # said, not silently ignored: the auditor relies on it
            errors.append(
                _("%(field)s: “%(value)s” is not a valid date (YYYY-MM-DD, %(first)s to %(last)s).")
                % {"field": label, "value": raw[:40], "first": FIRST_DAY, "last": LAST_DAY}
            )
    events = audit_events(
        action=params.get("action", "").strip(),
        actor=params.get("actor", "").strip(),
        object_type=params.get("object_type", "").strip(),
        object_id=params.get("object_id", "").strip(),
        date_from=days["from"],
        date_to=days["to"],
    )
    page = Paginator(events, 50).get_page(params.get("page"))
    verification = audit_verify() if params.get("verify") else None
    return render(
        request,
        "web/audit.html",
        {
            "page": page,
            "verification": verification,
            "filters": params,
            "errors": errors,
            "can_see_findings": rules.can_see_findings(request.user),
        },
    )


def healthz(request):
    """The probe of load balancers and monitors: database, cache, worker, queues."""
    status, report = health()
    response = JsonResponse(report, status=status)
    response["Cache-Control"] = "no-store"
    return response


def healthz_live(request):
    """Liveness for a load balancer that only asks "does this node answer?" (no queue
    counts, unlike /healthz)."""
    response = JsonResponse(live())
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def metrics(request):
    """Prometheus metrics for a scraper holding METRICS_TOKEN; a 404 when none is set."""
    allowed = authorized(request)
    if allowed is None:
        raise Http404
    if not allowed:
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    elif request.method not in ("GET", "HEAD"):
        response = HttpResponseNotAllowed(["GET", "HEAD"])
    else:
        response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
