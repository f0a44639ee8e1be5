"""/settings/: the list of settings sections."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ztk.accounts.rules import may_use_admin
from ztk.notifications.rules import can_manage_robots
from ztk.org import rules


@login_required
@require_GET
def index(request):
    if not rules.can_view_settings(request.user):
        raise PermissionDenied
    return render(
        request,
        "setup/index.html",
        {
            "can_change": rules.can_change_settings(request.user),
            "may_use_admin": may_use_admin(request.user),
            "can_manage_work_apps": can_manage_robots(request.user),
        },
    )
