"""Who is signing in, as the platform vouches for them: the work-app sign-in protocols.

From each platform's public documentation (docs/work-apps.md, "Sign in from the work app"):

* DingTalk H5 micro-app 免登: the page inside DingTalk gets an authCode from the JSAPI
  (``dd.runtime.permission.requestAuthCode({corpId})``) and posts it here;
  ``POST /topapi/v2/user/getuserinfo?access_token`` with ``{"code"}`` →
  ``result.userid``. The code lives 5 minutes and works once.
* WeCom: the browser goes to ``https://open.weixin.qq.com/connect/oauth2/authorize?
  appid=CORPID&redirect_uri&response_type=code&scope=snsapi_base&state&agentid
  #wechat_redirect`` and comes back with ``code`` and ``state``;
  ``GET /cgi-bin/auth/getuserinfo?access_token&code`` → ``userid`` (a member) or
  ``openid`` (not a member of the company: no one we know).
* Feishu: the browser goes to ``https://accounts.feishu.cn/open-apis/authen/v1/authorize?
  client_id&redirect_uri&state`` and comes back with ``code``; ``POST
  /open-apis/authen/v2/oauth/token`` with ``grant_type=authorization_code``,
  ``client_id``, ``client_secret``, ``code``, ``redirect_uri`` → ``access_token`` (the
  user's); ``GET /open-apis/authen/v1/user_info`` (``Authorization: Bearer``) →
  ``data.user_id`` (needs the app's permission to read user ids), ``mobile``,
  ``employee_no``.

Every call goes through the guarded sender (`api.call`, ``ztk.core.webhooks.post``).
Nothing here writes or logs anyone in: `identify` answers a platform user id or raises
`SigninRefused` with a stable code; the web view maps the id to an account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache

from ztk.core.webhooks import DeliveryError

from ..models import Platform
from . import api
from .config import base_url
from .models import WorkApp, WorkAppUser

# Stable refusal codes (audited, and tests name them).
NOT_CONFIGURED = "workapp_signin_not_configured"
BAD_STATE = "workapp_signin_bad_state"
BAD_CODE = "workapp_signin_bad_code"
CODE_USED = "workapp_signin_code_used"
PLATFORM_REFUSED = "workapp_signin_platform_refused"
NOT_MEMBER = "workapp_signin_not_member"
UNLINKED = "workapp_signin_unlinked"
INACTIVE = "workapp_signin_inactive"
TOO_MANY = "workapp_signin_too_many"

# A platform's authorization code: printable ASCII, never long (real ones are 32–64).
_CODE = re.compile(r"^[0-9A-Za-z_\-.~+/=]{1,256}$")
# A user id we would look up: the same rule as the stored mappings.
_USER_ID = re.compile(r"^[0-9A-Za-z_\-@.:+=/]{1,100}$")


class SigninRefused(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Identity:
    platform: str
    user_id: str


def code_ok(code: str) -> bool:
    return bool(_CODE.match(code or ""))


def authorize_url(app: WorkApp, *, redirect_uri: str, state: str) -> str:
    """Where the browser goes to be identified (WeCom, Feishu; DingTalk uses the JSAPI)."""
    if app.platform == Platform.WECOM:
        query = urlencode({"appid": app.corp_id, "redirect_uri": redirect_uri,
                           "response_type": "code", "scope": "snsapi_base", "state": state,
                           "agentid": app.agent_id})  # fmt: skip
        return f"{base_url('wecom_oauth')}/connect/oauth2/authorize?{query}#wechat_redirect"
    if app.platform == Platform.FEISHU:
        query = urlencode({"client_id": app.app_id, "redirect_uri": redirect_uri,
                           "response_type": "code", "state": state})  # fmt: skip
        return f"{base_url('feishu_accounts')}/open-apis/authen/v1/authorize?{query}"
    raise ValueError("DingTalk signs in through the JSAPI page, not a redirect")


def identify(app: WorkApp, code: str, *, redirect_uri: str = "") -> Identity:
    """The platform user id behind a one-time code, or SigninRefused."""
    if not code_ok(code):
        raise SigninRefused(BAD_CODE)
    try:
        if app.platform == Platform.DINGTALK:
            user_id = _dingtalk(app, code)
        elif app.platform == Platform.WECOM:
            user_id = _wecom(app, code)
        else:
            user_id = _feishu(app, code, redirect_uri)
    except DeliveryError as exc:
        raise SigninRefused(PLATFORM_REFUSED, str(exc)[:300]) from None
    if not _USER_ID.match(user_id):
        raise SigninRefused(PLATFORM_REFUSED, "no usable user id in the answer")
    return Identity(app.platform, user_id)


def _dingtalk(app: WorkApp, code: str) -> str:
    def ask(access_token: str) -> dict[str, Any]:
        url = (
            f"{base_url('dingtalk')}/topapi/v2/user/getuserinfo?"
            f"{urlencode({'access_token': access_token})}"
        )
        return api.check(app.platform, api.call("POST", url, {"code": code}))

    result = api.with_token(app, ask).get("result") or {}
    return str(result.get("userid") or "") if isinstance(result, dict) else ""


def _wecom(app: WorkApp, code: str) -> str:
    def ask(access_token: str) -> dict[str, Any]:
        query = urlencode({"access_token": access_token, "code": code})
        return api.check(
            app.platform, api.call("GET", f"{base_url('wecom')}/cgi-bin/auth/getuserinfo?{query}")
        )

    data = api.with_token(app, ask)
    user_id = str(data.get("userid") or data.get("UserId") or "")
    if not user_id and (data.get("openid") or data.get("OpenId")):
        raise SigninRefused(NOT_MEMBER, "an openid: not a member of the company")
    return user_id


def _feishu(app: WorkApp, code: str, redirect_uri: str) -> str:
    base = base_url("feishu")
    body = {
        "grant_type": "authorization_code",
        "client_id": app.app_id,
        "client_secret": app.app_secret,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    token = api.check(
        app.platform, api.call("POST", f"{base}/open-apis/authen/v2/oauth/token", body)
    )
    user_token = str(token.get("access_token") or "")
    if not user_token:
        raise DeliveryError("feishu gave no user access token", target_down=False)
    headers = {"Authorization": f"Bearer {user_token}"}
    data = api.check(
        app.platform, api.call("GET", f"{base}/open-apis/authen/v1/user_info", None, headers)
    )
    info = data.get("data") or {}
    return str(info.get("user_id") or "") if isinstance(info, dict) else ""


# --- who that is here, and how often someone may fail ------------------------------------


def account_for(identity: Identity) -> Any:
    """The account the mapping (`WorkAppUser`, the one the messages use) gives this
    platform user id; SigninRefused when no one is linked or the account is switched off.
    Nothing is created: HR links people on /settings/work-apps/."""
    row = (
        WorkAppUser.objects.select_related("user")
        .filter(platform=identity.platform, platform_user_id=identity.user_id)
        .first()
    )
    if row is None:
        raise SigninRefused(UNLINKED)
    if not row.user.is_active:
        raise SigninRefused(INACTIVE)
    return row.user


def _failures_key(ip: str | None) -> str:
    return f"ztk:workapps:signin-failures:{ip or '-'}"


def failure_limit() -> tuple[int, int]:
    """(refused sign-ins allowed from one address, in how many seconds): by default the
    log-in's own numbers (django-axes), four times the failures, since a refusal here is
    usually someone HR has not linked yet trying again, not a guess."""
    limit = int(
        getattr(settings, "WORKAPPS_SIGNIN_FAILURE_LIMIT", 0) or 4 * settings.AXES_FAILURE_LIMIT
    )
    seconds = int(float(settings.AXES_COOLOFF_TIME) * 3600) or 900
    return limit, seconds


def too_many_failures(ip: str | None) -> bool:
    limit, _seconds = failure_limit()
    return int(cache.get(_failures_key(ip)) or 0) >= limit


def count_failure(ip: str | None) -> None:
    _limit, seconds = failure_limit()
    key = _failures_key(ip)
    cache.add(key, 0, seconds)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
