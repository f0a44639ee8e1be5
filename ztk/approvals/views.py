"""Delegation pages (/settings/delegations/): "while I am away, X decides for me from …
to …". Every signed-in user manages their own; HR and system admins set one up for anyone
and see them all. Thin: parse, call ``services.delegation_create`` / ``delegation_cancel``,
show a refusal with what was typed kept (HTTP 422)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.input_guard import text_checked
from ztk.core.parse import parse_day
from ztk.org.rules import is_hr, is_sysadmin
from ztk.org.selectors import picker_people, user_picked

from . import selectors, services
from .chains import display_name
from .models import Delegation

FIELD_MAX = 200


def _manages_all(user: Any) -> bool:
    return bool(is_hr(user) or is_sysadmin(user))


def _name(user: Any) -> str:
    return display_name(user) if user is not None else ""


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def delegations(request: HttpRequest) -> HttpResponse:
    manages_all = _manages_all(request.user)
    typed = {
        key: str(request.POST.get(key, ""))[:FIELD_MAX]
        for key in ("approver", "delegate", "start", "end", "reason")
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        status = 422
        approver = request.user
        if manages_all and typed["approver"].strip():
            approver = user_picked(typed["approver"])
            if approver is None:
                errors["approver"] = _("Nobody (or more than one person) matches this.")
        delegate = user_picked(typed["delegate"])
        if delegate is None:
            errors["delegate"] = _("Choose the person who decides for you.")
        start, end = parse_day(typed["start"]), parse_day(typed["end"])
        if start is None:
            errors["start"] = _("Enter a date.")
        if end is None:
            errors["end"] = _("Enter a date.")
        if not errors and start is not None and end is not None:
            try:
                services.delegation_create(
                    actor=request.user,
                    approver=approver,
                    delegate=delegate,
                    start=start,
                    end=end,
                    reason=typed["reason"],
                )
            except DomainError as exc:
                errors["top"] = exc.message
            else:
                messages.success(
                    request,
                    _("%(delegate)s decides for %(approver)s from %(start)s to %(end)s.")
                    % {
                        "delegate": _name(delegate),
                        "approver": _name(approver),
                        "start": start,
                        "end": end,
                    },
                )
                return redirect("delegations:index")
    rows = list(selectors.delegations_for(request.user, everyone=manages_all))
    today = timezone.localdate()
    if request.method != "POST":
        typed["start"] = today.isoformat()
    context = {
        "rows": [
            {
                "row": r,
                "approver": _name(r.approver),
                "delegate": _name(r.delegate),
                "in_force": r.start <= today,
                "cancellable": manages_all or r.approver_id == request.user.pk,
            }
            for r in rows
        ],
        "typed": typed,
        "errors": errors,
        "manages_all": manages_all,
        "today": today,
        "people": picker_people(),
    }
    return render(request, "approvals/delegations.html", context, status=status)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    row = Delegation.objects.filter(pk=pk).first()
    mine = row is not None and request.user.pk in (row.approver_id, row.delegate_id)
    if row is None or not (mine or _manages_all(request.user)):
        raise Http404
    try:
        services.delegation_cancel(actor=request.user, delegation=row)
    except PermissionDeniedError as exc:  # the delegate may see it, not end it
        raise PermissionDenied from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Delegation ended."))
    return redirect("delegations:index")
