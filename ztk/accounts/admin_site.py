"""The Django admin is the settings area (系统设置); make it follow the app's own rules.

Out of the box the admin has its own log-in form — which knows nothing of the TOTP step —
and answers a signed-in employee with that log-in form again. Here it uses the app's log-in
(lock-out and second factor included), lets in HR and system admins by role, and shows
everyone else a plain 403.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .rules import may_use_admin


def guard_admin_site(site: AdminSite) -> None:
    """Called once from AccountsConfig.ready(), before the admin's URLs are built."""
    original_admin_view = site.admin_view

    def has_permission(request: HttpRequest) -> bool:
        return may_use_admin(request.user)

    def admin_view(view, cacheable: bool = False):
        inner = original_admin_view(view, cacheable)

        @wraps(inner)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
            if not site.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return guarded

    def login(request: HttpRequest, extra_context=None) -> HttpResponse:
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=site.name
        )
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:index", current_app=site.name)
        if not request.user.is_authenticated:
            return redirect_to_login(target, reverse("accounts:login"))
        if not site.has_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(target)

    site.has_permission = has_permission
    site.admin_view = admin_view
    site.login = login
