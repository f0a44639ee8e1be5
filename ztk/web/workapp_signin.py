"""Sign in from the work app: /workapps/<platform>/signin (the entry HR pastes into the
workbench) and /workapps/<platform>/signin/done (where the platform sends the person back).

Thin: ``notifications.workapps.signin`` knows the platforms' protocols and the mapping;
``accounts.views.first_factor_passed`` owns what follows (a second factor, when the
account has one, is asked exactly as after a password). Rules (docs/work-apps.md):

* the `state` is bound to the session, works once and for `SIGNIN_WINDOW` seconds;
* an authorization code works once (``services.signin_code_claim``);
* after signing in the person lands on a local path only (``next``, else the home page);
* nothing is ever created: an unknown or unlinked person, a switched-off account or a
  platform that is not set up gets a page saying what to do, and the refusal is audited;
* refusals from one address are limited like failed log-ins (``signin.too_many_failures``).
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from ztk.accounts.signin_options import SigninOption
from ztk.accounts.views import first_factor_passed
from ztk.core.context import client_ip
from ztk.core.parse import parse_local_url
from ztk.notifications.models import Platform
from ztk.notifications.services import site_url
from ztk.notifications.workapps import signin
from ztk.notifications.workapps.config import SIGNIN_WINDOW
from ztk.notifications.workapps.models import WorkApp
from ztk.notifications.workapps.services import signin_code_claim, signin_refused_record

User = get_user_model()
log = logging.getLogger(__name__)

PENDING = "ztk_workapp_signin"
# DingTalk's JSAPI (dd.*), loaded by the DingTalk page only when the page is open inside
# DingTalk's client (docs/work-apps.md says why, and how to serve a copy from this site).
DINGTALK_JSAPI_URL = "https://g.alicdn.com/dingding/dingtalk-jsapi/3.0.25/dingtalk.open.js"

# The account is vouched for by the platform, not by a password: Django's model backend
# (django-axes' backend only authenticates passwords).
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _label(platform: str) -> str:
    return {
        Platform.DINGTALK: _("Sign in with DingTalk"),
        Platform.WECOM: _("Sign in with WeCom"),
        Platform.FEISHU: _("Sign in with Feishu"),
    }[platform]


def _app(platform: str) -> WorkApp | None:
    """The platform's app when it is set up for signing in, else None."""
    app = WorkApp.objects.filter(platform=platform).first()
    return app if app is not None and app.configured else None


def signin_options() -> list[SigninOption]:
    """For the log-in page: one link per platform whose app is set up."""
    return [
        SigninOption(label=_label(app.platform), url=entry_path(app.platform), key=app.platform)
        for app in WorkApp.objects.all()
        if app.configured
    ]


def entry_path(platform: str) -> str:
    return reverse("web:workapp_signin", args=[platform])


def entry_url(platform: str) -> str:
    """The address HR pastes into the workbench (absolute when SITE_URL is set)."""
    return site_url(entry_path(platform))


def _redirect_uri(request: HttpRequest, platform: str) -> str:
    path = reverse("web:workapp_signin_done", args=[platform])
    return site_url(path) if settings.SITE_URL else request.build_absolute_uri(path)


def _platform(value: str) -> str:
    if value not in Platform.values:
        raise Http404
    return value


def _refused(
    request: HttpRequest,
    platform: str,
    code: str,
    *,
    platform_user_id: str = "",
    user: Any = None,
    detail: str = "",
    status: int = 403,
) -> HttpResponse:
    """The page that says what happened and what to do.

    Audited and counted toward the address's limit: every refusal once the person came back
    with this session's state, and "not set up" (someone was sent here, HR wants to know).
    A missing or wrong state (anyone can send one: a forged or replayed link) and the
    limit's own refusal are logged only, as forged card callbacks are, so nobody on the
    internet can fill the audit log."""
    if code in (signin.BAD_STATE, signin.TOO_MANY):
        log.warning("work app sign-in refused (%s): %s", platform, code)
    else:
        signin_refused_record(
            platform=platform,
            code=code,
            platform_user_id=platform_user_id,
            user=user,
            detail=detail,
        )
        signin.count_failure(client_ip(request.META))
    messages = {
        signin.NOT_CONFIGURED: _(
            "Signing in with %(platform)s is not set up here. Log in with your user name and "
            "password, or ask HR to set up the %(platform)s app."
        ),
        signin.BAD_STATE: _(
            "This sign-in has expired or was already used. Open ZTK Attendance from "
            "%(platform)s again."
        ),
        signin.BAD_CODE: _("%(platform)s did not send a usable sign-in code. Please try again."),
        signin.CODE_USED: _(
            "This sign-in code was already used. Open ZTK Attendance from %(platform)s again."
        ),  # fmt: skip
        signin.PLATFORM_REFUSED: _(
            "%(platform)s did not confirm who you are. Please try again in a moment; if it "
            "keeps failing, tell HR."
        ),
        signin.NOT_MEMBER: _(
            "%(platform)s says you are not a member of the company's organisation there. Ask "
            "HR to add you, or log in with your user name and password."
        ),
        signin.UNLINKED: _(
            "Your %(platform)s account is not linked to an employee of ZTK Attendance yet. Ask "
            "HR to link you (on the work apps settings page, by employee number or mobile); "
            "until then, log in with your user name and password."
        ),
        signin.INACTIVE: _(
            "Your ZTK Attendance account is switched off. Ask HR to switch it on again."
        ),
        signin.TOO_MANY: _(
            "Too many sign-ins were refused from this network. Wait a quarter of an hour, or "
            "log in with your user name and password."
        ),
    }
    label = Platform(platform).label
    context = {
        "platform_label": label,
        "message": messages.get(code, messages[signin.PLATFORM_REFUSED]) % {"platform": label},
        "code": code,
    }
    return render(request, "web/workapp_signin_refused.html", context, status=status)


def _start(request: HttpRequest, platform: str) -> str:
    """A new state for this session (replacing any earlier one): one use, short-lived."""
    state = secrets.token_urlsafe(24)
    request.session[PENDING] = {
        "platform": platform,
        "state": state,
        "since": int(time.time()),
        "next": parse_local_url(request.GET.get("next")) or "",
    }
    return state


def _take_state(request: HttpRequest, platform: str, given: str) -> dict[str, Any] | None:
    """The pending sign-in when `given` is its state; it is gone afterwards either way."""
    pending = request.session.pop(PENDING, None)
    if not isinstance(pending, dict) or not given or len(given) > 100:
        return None
    if pending.get("platform") != platform:
        return None
    if time.time() - int(pending.get("since") or 0) > SIGNIN_WINDOW:
        return None
    if not secrets.compare_digest(str(pending.get("state") or ""), given):
        return None
    return pending


def _jsapi_url() -> str:
    """DingTalk's JSAPI script: DINGTALK_JSAPI_URL (a copy served by this site, e.g.
    ``/static/vendor/dingtalk.open.js``), else DingTalk's own published address."""
    return str(getattr(settings, "DINGTALK_JSAPI_URL", "") or DINGTALK_JSAPI_URL)


def _in_dingtalk(request: HttpRequest) -> bool:
    return "dingtalk" in request.headers.get("User-Agent", "").lower()


@never_cache
@require_GET
def start(request: HttpRequest, platform: str) -> HttpResponse:
    """The entry URL: WeCom and Feishu go to the platform's authorize page; DingTalk gets
    the small page that asks the JSAPI for an authCode and posts it back."""
    platform = _platform(platform)
    if signin.too_many_failures(client_ip(request.META)):
        return _refused(request, platform, signin.TOO_MANY, status=429)
    app = _app(platform)
    if app is None:
        # Not an error of the person's: a page telling them how to log in instead (200).
        return _refused(request, platform, signin.NOT_CONFIGURED, status=200)
    state = _start(request, platform)
    if platform != Platform.DINGTALK:
        return redirect(
            signin.authorize_url(app, redirect_uri=_redirect_uri(request, platform), state=state)
        )
    jsapi = _jsapi_url() if _in_dingtalk(request) else ""
    response = render(
        request,
        "web/workapp_signin_dingtalk.html",
        {
            "app": app,
            "state": state,
            "jsapi": jsapi,
            "done": reverse("web:workapp_signin_done", args=[platform]),
        },  # fmt: skip
    )
    if jsapi.startswith(("https://", "http://")):
        # This one page may run that one origin's script (django-csp's per-response update).
        response._csp_update = {"script-src": ["/".join(jsapi.split("/", 3)[:3])]}  # type: ignore[attr-defined]
    return response


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def done(request: HttpRequest, platform: str) -> HttpResponse:
    """Back from the platform: state, code once, who that is, their account, then the
    same steps as after a password (a second factor when the account has one)."""
    platform = _platform(platform)
    data = request.POST if request.method == "POST" else request.GET
    if signin.too_many_failures(client_ip(request.META)):
        request.session.pop(PENDING, None)
        return _refused(request, platform, signin.TOO_MANY, status=429)
    pending = _take_state(request, platform, str(data.get("state") or ""))
    if pending is None:
        return _refused(request, platform, signin.BAD_STATE, status=400)
    app = _app(platform)
    if app is None:  # switched off between the start and now
        return _refused(request, platform, signin.NOT_CONFIGURED, status=200)
    code = str(data.get("code") or data.get("authCode") or "")
    if not signin.code_ok(code):
        return _refused(request, platform, signin.BAD_CODE, status=400)
    if not signin_code_claim(platform=platform, code=code):
        return _refused(request, platform, signin.CODE_USED, status=400)
    identity = None
    try:
        identity = signin.identify(app, code, redirect_uri=_redirect_uri(request, platform))
        user = signin.account_for(identity)
    except signin.SigninRefused as refused:
        row_user = None
        if refused.code == signin.INACTIVE and identity is not None:
            row_user = _linked_user(identity)
        return _refused(
            request,
            platform,
            refused.code,
            platform_user_id=identity.user_id if identity else "",
            user=row_user,
            detail=refused.detail,
        )
    user.backend = BACKEND
    next_url = pending.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL)
    return first_factor_passed(request, user, next_url=next_url, via=platform)


def _linked_user(identity: signin.Identity) -> Any:
    return User.objects.filter(
        work_app_ids__platform=identity.platform, work_app_ids__platform_user_id=identity.user_id
    ).first()
