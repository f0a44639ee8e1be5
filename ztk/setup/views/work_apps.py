"""/settings/work-apps/: the company's DingTalk, WeCom and Feishu apps (personal messages
and approval cards) and who is who on each (docs/work-apps.md).

HR and system admins only (the secrets live here). Secrets are write-only: the page says
whether one is set, never shows it; an empty secret field keeps the stored one. Thin:
parse, call one service in ``notifications.workapps.services``, show its refusal (422).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ztk.core import spreadsheets, uploads
from ztk.core.errors import DomainError
from ztk.core.input_guard import text_checked
from ztk.notifications import rules
from ztk.notifications.models import Platform
from ztk.notifications.services import site_url
from ztk.notifications.workapps import services
from ztk.notifications.workapps.models import FIELDS, SECRET_FIELDS, WorkApp, WorkAppUser
from ztk.org.models import Employee

LABELS: dict[str, dict[str, Any]] = {
    Platform.DINGTALK: {
        "corp_id": gettext_lazy("CorpId"),
        "agent_id": gettext_lazy("AgentId"),
        "app_key": gettext_lazy("AppKey (Client ID)"),
        "app_secret": gettext_lazy("AppSecret (Client Secret)"),
        "callback_token": gettext_lazy("Event subscription token"),
        "aes_key": gettext_lazy("Event subscription aes_key"),
        "card_template_id": gettext_lazy("Interactive card template id"),
    },
    Platform.WECOM: {
        "corp_id": gettext_lazy("Corp ID (企业ID)"),
        "agent_id": gettext_lazy("AgentId"),
        "app_secret": gettext_lazy("Secret"),
        "callback_token": gettext_lazy("Callback Token"),
        "aes_key": gettext_lazy("EncodingAESKey"),
    },
    Platform.FEISHU: {
        "app_id": gettext_lazy("App ID"),
        "app_secret": gettext_lazy("App Secret"),
        "callback_token": gettext_lazy("Verification Token"),
        "aes_key": gettext_lazy("Encrypt Key"),
    },
}


def _manager(request: HttpRequest) -> None:
    if not rules.can_manage_robots(request.user):
        raise PermissionDenied


def _platform(value: str) -> str:
    if value not in Platform.values:
        raise Http404
    return value


def _sections(
    request: HttpRequest, errors: dict[str, str], posted: dict[str, Any]
) -> list[dict[str, Any]]:
    apps = {app.platform: app for app in WorkApp.objects.all()}
    mapped = dict(WorkAppUser.objects.values_list("platform").annotate(n=Count("id")).order_by())
    out = []
    for platform, label in Platform.choices:
        app = apps.get(platform) or WorkApp(platform=platform)
        mine = posted if posted.get("platform") == platform else {}
        fields = [
            {
                "name": name,
                "label": LABELS[platform][name],
                "secret": name in SECRET_FIELDS,
                "is_set": bool(getattr(app, name)),
                "value": "" if name in SECRET_FIELDS else mine.get(name, getattr(app, name)),
                "id": f"{platform}-{name}",
            }
            for name in FIELDS[platform]
        ]
        out.append({
            "platform": platform,
            "label": label,
            "app": app,
            "fields": fields,
            "active": mine.get("active", app.active) if mine else app.active,
            "mapped": mapped.get(platform, 0),
            "callback": site_url(reverse("web:workapp_callback", args=[platform])),
            # The sign-in entry HR pastes into the workbench (the app's home page address):
            # always absolute (SITE_URL, else the address this page was opened at).
            "signin": _absolute(request, reverse("web:workapp_signin", args=[platform])),
            "error": errors.get(platform, ""),
        })  # fmt: skip
    return out


def _absolute(request: HttpRequest, path: str) -> str:
    url = site_url(path)
    return url if url != path else request.build_absolute_uri(path)


def _page(request: HttpRequest, *, errors=None, posted=None, status=200, result=None):
    return render(
        request,
        "setup/work_apps.html",
        {
            "sections": _sections(request, errors or {}, posted or {}),
            "employees": Employee.objects.filter(active=True).count(),
            "result": result,
        },
        status=status,
    )


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    _manager(request)
    if request.method != "POST":
        return _page(request)
    platform = _platform(request.POST.get("platform", ""))
    values = {name: request.POST.get(name, "")[:300] for name in FIELDS[platform]}
    try:
        services.work_app_save(
            actor=request.user,
            platform=platform,
            active=request.POST.get("active") == "1",
            values=values,
        )
    except DomainError as exc:
        posted = {"platform": platform, "active": request.POST.get("active") == "1", **values}
        return _page(request, errors={platform: exc.message}, posted=posted, status=exc.status)
    messages.success(
        request, _("%(platform)s settings saved.") % {"platform": Platform(platform).label}
    )
    return redirect(reverse("settings:work_apps") + f"#{platform}")


@login_required
@require_POST
def users(request: HttpRequest, platform: str) -> HttpResponse:
    """Fill the user ids: `how` = employee_no, sync (by mobile, asks the platform), import."""
    _manager(request)
    platform = _platform(platform)
    how = request.POST.get("how", "")
    try:
        if how == "employee_no":
            result = services.work_app_users_match_employee_no(
                actor=request.user, platform=platform
            )
        elif how == "sync":
            result = services.work_app_users_sync(actor=request.user, platform=platform)
        elif how == "import":
            upload = request.FILES.get("file")
            if upload is None:
                raise DomainError("file_missing", _("Choose a CSV or XLSX file."))
            data, name = uploads.read_import(upload)
            rows = spreadsheets.read_table(data, max_rows=services.MAX_IMPORT_ROWS, filename=name)
            result = services.work_app_users_import(
                actor=request.user, platform=platform, rows=rows
            )
        else:
            raise Http404
    except DomainError as exc:
        return _page(request, errors={platform: exc.message}, status=exc.status)
    messages.success(
        request,
        _("%(n)d user ids stored, %(same)d unchanged, %(bad)d rows not taken.")
        % {"n": result.matched, "same": result.unchanged, "bad": len(result.problems)},
    )
    if result.problems:
        return _page(request, result={"platform": platform, "problems": result.problems[:50]})
    return redirect(reverse("settings:work_apps") + f"#{platform}")
