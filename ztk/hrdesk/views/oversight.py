"""Approvals oversight pages for HR (审批监控): the list and the escalate button.

Views parse input, check the role (HR or superuser, 403 otherwise), call the selector or
the service (``ztk.hrdesk.oversight``) and render; plain forms, cards that fit 375 px.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from ztk.core.errors import DomainError
from ztk.corrections.models import CorrectionRequest
from ztk.hrdesk.oversight import NOTE_MAX, PAGE_SIZE, correction_escalate, pending_oversight
from ztk.org.models import AttendanceGroup
from ztk.org.rules import can_oversee, is_hr


def _require(request: HttpRequest) -> None:
    if not can_oversee(request.user):
        raise PermissionDenied


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Every pending request, breaches first; filters: attendance group, only overdue."""
    _require(request)
    now = timezone.now()
    groups = list(AttendanceGroup.objects.filter(active=True).order_by("code"))
    code = request.GET.get("group", "")[:32]
    group = next((g for g in groups if g.code == code), None)
    overdue_only = request.GET.get("overdue") == "1"
    rows = pending_oversight(now=now, group=group, overdue_only=overdue_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {
        k: v
        for k, v in (("group", code if group else ""), ("overdue", "1" if overdue_only else ""))
        if v
    }
    return render(
        request,
        "hrdesk/oversight.html",
        {
            "page": page,
            "total": len(rows),
            "overdue_count": sum(1 for r in rows if r.overdue),
            "flagged_count": sum(1 for r in rows if r.flagged),
            "can_escalate": is_hr(request.user),
            "groups": groups,
            "group": group,
            "overdue_only": overdue_only,
            "now": now,
            "query": urlencode(query),
        },
    )


@login_required
@require_POST
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_hr(request.user):  # superusers see the page; escalating is HR's
        raise PermissionDenied
    req = get_object_or_404(CorrectionRequest.objects.select_related("employee"), pk=pk)
    try:
        told = correction_escalate(
            actor=request.user, request=req, note=request.POST.get("note", "")[:NOTE_MAX]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            gettext("Request #%(id)s escalated: %(n)d people were told.")
            % {"id": req.pk, "n": len(told["approvers"]) + len(told["notified"])},
        )
    back = reverse("oversight:index")
    query = request.POST.get("back", "")
    return redirect(f"{back}?{query}" if query and query.isascii() else back)
