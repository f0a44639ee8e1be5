"""Early-warning pages (/hr/oversight/warnings/): HR and auditors see every warning, a
department head the ones sent to them. Thin: check, call the selector or the service,
render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.org.rules import is_auditor, is_hr

from .. import warning_presentation as wp
from .. import warning_selectors as ws
from .. import warning_services as services
from ..models import EarlyWarning, WarningKind, WarningState

PAGE_SIZE = 30


def _require(request: HttpRequest) -> None:
    if not ws.can_see_warnings(request.user):
        raise PermissionDenied


def _choice(value: str, choices: list[tuple[str, Any]]) -> str:
    return value if value in {c for c, _label in choices} else ""


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The warnings the viewer may see: open ones by default, severe and recent first."""
    _require(request)
    kind = _choice(request.GET.get("kind", ""), WarningKind.choices)
    state = _choice(request.GET.get("state", WarningState.OPEN), WarningState.choices)
    if request.GET.get("state") == "all":
        state = ""
    rows = ws.warning_list(user=request.user, kind=kind, state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for warning in page:
        warning.subject = wp.subject(warning)  # type: ignore[attr-defined]
        warning.summary = wp.summary(warning)  # type: ignore[attr-defined]
    query = {k: v for k, v in (("kind", kind), ("state", state or "all")) if v}
    return render(
        request,
        "oversight/warnings.html",
        {
            "page": page,
            "kind": kind,
            "state": state or "all",
            "kinds": WarningKind.choices,
            "states": WarningState.choices,
            "open_counts": ws.open_counts(request.user),
            "sees_all": is_hr(request.user) or is_auditor(request.user),
            "is_hr": is_hr(request.user),
            "query": urlencode(query),
        },
    )


def _get(request: HttpRequest, pk: int) -> EarlyWarning:
    _require(request)
    return get_object_or_404(ws.warning_list(user=request.user), pk=pk)


def _context(request: HttpRequest, warning: EarlyWarning, **extra: object) -> dict:
    return {
        "warning": warning,
        "title": wp.title(warning),
        "subject": wp.subject(warning),
        "summary": wp.summary(warning),
        "evidence": wp.evidence(warning, request.user),
        "can_handle": warning.is_open and services.can_handle(request.user, warning),
        "note_max": services.NOTE_MAX,
        **extra,
    }


@login_required
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    warning = _get(request, pk)
    return render(request, "oversight/warning_detail.html", _context(request, warning))


def _handle(request: HttpRequest, pk: int, action) -> HttpResponse:
    warning = _get(request, pk)
    if not services.can_handle(request.user, warning):
        raise PermissionDenied
    note = request.POST.get("note", "")
    try:
        action(actor=request.user, warning=warning, note=note)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except DomainError as exc:
        context = _context(request, warning, error=exc.message, note=note[:600])
        return render(request, "oversight/warning_detail.html", context, status=422)
    messages.success(request, gettext("Warning #%(id)s handled.") % {"id": warning.pk})
    return redirect("warnings:detail", pk=warning.pk)


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _handle(request, pk, services.warning_resolve)


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    return _handle(request, pk, services.warning_close)
