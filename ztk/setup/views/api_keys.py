"""/settings/api-keys/: keys for integrators — create (the secret shown once), list, revoke."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ztk.accounts import selectors
from ztk.accounts.services import api_key_create, api_key_revoke
from ztk.core.errors import DomainError
from ztk.core.parse import parse_day, parse_int
from ztk.org import rules

DEFAULT_DAYS = 365


@login_required
@require_http_methods(["GET", "POST"])
def index(request):
    if not rules.can_view_settings(request.user):
        raise PermissionDenied
    can_change = rules.can_change_settings(request.user)
    blank = {
        "name": "",
        "expires_on": (timezone.localdate() + timedelta(days=DEFAULT_DAYS)).isoformat(),
    }
    form = blank
    errors: list[str] = []
    created = secret = None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = {
            "name": request.POST.get("name", "")[:200],
            "expires_on": request.POST.get("expires_on", "").strip()[:40],
        }
        expires_on = parse_day(form["expires_on"])
        if expires_on is None:
            errors.append(
                _("Expires: “%(value)s” is not a date (YYYY-MM-DD).")
                % {"value": form["expires_on"]}
            )
        else:
            try:
                created, secret = api_key_create(
                    actor=request.user,
                    user=request.user,
                    name=form["name"],
                    expires_on=expires_on,
                )
            except DomainError as exc:
                errors.append(exc.message)
            else:
                form = blank  # created: the form is ready for the next key
    return render(
        request,
        "setup/api_keys.html",
        {
            "keys": selectors.api_keys(),
            "can_change": can_change,
            "form": form,
            "errors": errors,
            "created": created,
            "secret": secret,  # in this one response only; only its hash is stored
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def revoke(request, key_id: str):
    if not rules.can_change_settings(request.user):
        raise PermissionDenied
    pk = parse_int(key_id)
    key = selectors.api_key(pk) if pk is not None else None
    if key is None:
        raise Http404
    try:
        api_key_revoke(actor=request.user, key=key)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Key %(prefix)s… is revoked.") % {"prefix": key.prefix})
    return redirect("settings:api_keys")
