"""/settings/geofences/: punch areas (打卡范围) — list, new, edit.

HR and system admins save through ``punches.geofence_services.geofence_put`` (the same
service as ``PUT /api/v1/geofences/{code}``); auditors read. What a group does with a
punch outside every fence is the group's setting (shown here read-only).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from ztk.core.errors import DomainError
from ztk.org import rules
from ztk.punches import geofence_selectors as selectors
from ztk.punches import geofence_services as services
from ztk.punches.models import RADIUS_MAX, RADIUS_MIN, Geofence

CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
FIELDS = ("code", "name", "latitude", "longitude", "radius_m")
MAX_GROUPS = 1000


def _can_view(request: HttpRequest) -> bool:
    """True when the user may change, False when only read; 403 for everyone else."""
    if not rules.can_view_settings(request.user):
        raise PermissionDenied
    return rules.can_change_settings(request.user)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    can_change = _can_view(request)
    return render(
        request,
        "setup/geofences.html",
        {"fences": selectors.geofence_list(), "can_change": can_change},
    )


def _form_of(fence: Geofence | None) -> dict[str, Any]:
    if fence is None:
        return {
            "code": "",
            "name": "",
            "latitude": "",
            "longitude": "",
            "radius_m": "200",
            "active": True,
            "groups": [],
        }
    return {
        "code": fence.code,
        "name": fence.name,
        "latitude": f"{fence.latitude:.6f}",
        "longitude": f"{fence.longitude:.6f}",
        "radius_m": str(fence.radius_m),
        "active": fence.active,
        "groups": [g.code for g in fence.groups.all()],
    }


def _posted(request: HttpRequest, code: str | None) -> dict[str, Any]:
    post = request.POST
    return {
        "code": code if code is not None else post.get("code", "").strip()[:64],
        **{f: post.get(f, "").strip()[:120] for f in FIELDS if f != "code"},
        "active": post.get("active") == "1",
        "groups": [c for c in post.getlist("groups")[:MAX_GROUPS] if CODE_RE.match(c)],
    }


def _render_form(
    request: HttpRequest,
    *,
    fence: Geofence | None,
    form: dict[str, Any],
    can_change: bool,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    return render(
        request,
        "setup/geofence_form.html",
        {
            "fence": fence,
            "form": form,
            "errors": errors or {},
            "can_change": can_change,
            "groups": selectors.group_choices(),
            "radius_min": RADIUS_MIN,
            "radius_max": RADIUS_MAX,
            "locate_texts": {
                "asking": _("Asking the browser for your position…"),
                "found": _("Position found (accuracy about %(m)s m). Save to keep it."),
                "denied": _(
                    "The browser was not allowed to tell your position. Allow location for "
                    "this site, or type the coordinates."
                ),
                "unavailable": _("Your position could not be found. Type the coordinates."),
                "timeout": _("Finding your position took too long. Try again or type it."),
                "unsupported": _("This browser cannot tell your position. Type the coordinates."),
            },
        },
        status=422 if errors else 200,
    )


def _save(request: HttpRequest, fence: Geofence | None) -> HttpResponse:
    form = _posted(request, fence.code if fence else None)
    try:
        saved, created = services.geofence_put(
            actor=request.user,
            code=form["code"],
            must_be_new=fence is None,
            data=services.FenceInput(
                name=form["name"],
                latitude=form["latitude"],
                longitude=form["longitude"],
                radius_m=form["radius_m"],
                active=form["active"],
                group_codes=tuple(form["groups"]),
            ),
        )
    except DomainError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        field = details.get("field") if details.get("field") in (*FIELDS, "groups") else "top"
        return _render_form(
            request, fence=fence, form=form, can_change=True, errors={field: exc.message}
        )
    if created:
        messages.success(request, _("Punch area “%(name)s” created.") % {"name": saved.name})
    else:
        messages.success(request, _("Punch area “%(name)s” saved.") % {"name": saved.name})
    return redirect("settings:geofences")


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    if not _can_view(request):
        raise PermissionDenied
    if request.method == "POST":
        return _save(request, None)
    return _render_form(request, fence=None, form=_form_of(None), can_change=True)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, code: str) -> HttpResponse:
    can_change = _can_view(request)
    fence = selectors.geofence_get(code) if CODE_RE.match(code) else None
    if fence is None:
        raise Http404
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        return _save(request, fence)
    return _render_form(request, fence=fence, form=_form_of(fence), can_change=can_change)
