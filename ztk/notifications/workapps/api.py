"""The platforms' open APIs: access tokens, personal messages, user ids by mobile.

From each platform's public documentation (docs/work-apps.md lists the endpoints):

* DingTalk: ``GET /gettoken?appkey&appsecret`` → ``access_token``, ``expires_in``;
  ``POST /topapi/message/corpconversation/asyncsend_v2?access_token`` with ``agent_id``,
  ``userid_list``, ``msg``; ``POST /topapi/v2/user/getbymobile`` → ``result.userid``;
  interactive cards ``POST /v1.0/im/interactiveCards/send`` (header
  ``x-acs-dingtalk-access-token``). Success is ``errcode`` 0.
* WeCom: ``GET /cgi-bin/gettoken?corpid&corpsecret``; ``POST /cgi-bin/message/send`` with
  ``touser``, ``msgtype``, ``agentid``; ``POST /cgi-bin/user/getuserid`` with ``mobile``.
* Feishu: ``POST /open-apis/auth/v3/tenant_access_token/internal`` with ``app_id``,
  ``app_secret`` → ``tenant_access_token``, ``expire``; ``POST
  /open-apis/im/v1/messages?receive_id_type=user_id`` (``Authorization: Bearer``);
  ``POST /open-apis/contact/v3/users/batch_get_id?user_id_type=user_id`` with ``mobiles``.
  Success is ``code`` 0.

Tokens are kept on the app's row until shortly before they expire. An answer saying the
token is invalid or expired fetches a new one and tries once more. Every other error is a
`DeliveryError` (the outbox retries it); error texts never carry a token or secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.utils import timezone

from ztk.core.webhooks import ERROR_LENGTH, DeliveryError, post, snippet

from ..models import Platform
from .config import TOKEN_MARGIN, base_url
from .models import CardVia, WorkApp

# Answers that mean "this access token is not (or no longer) valid".
TOKEN_CODES: dict[str, frozenset[int]] = {
    Platform.DINGTALK: frozenset({40014, 42001, 88}),
    Platform.WECOM: frozenset({40014, 41001, 42001}),
    Platform.FEISHU: frozenset({99991661, 99991663, 99991664, 99991668}),
}


class TokenInvalid(DeliveryError):
    """The platform refused the access token: fetch a new one and try once more."""


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8", errors="replace") or "null")
    except ValueError:
        raise DeliveryError(f"not a JSON answer: {snippet(raw)}") from None
    if not isinstance(data, dict):
        raise DeliveryError(f"unexpected answer: {snippet(raw)}")
    return data


def call(
    method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """One guarded request (``ztk.core.webhooks.post``) and its JSON answer."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    try:
        _status, raw = post(url, data, headers or {}, method=method)
    except DeliveryError as exc:
        # Feishu answers some errors (an invalid token among them) with HTTP 4xx and its
        # JSON error body: give that body to `check`, which knows the codes.
        answer = _error_body(exc)
        if answer is None:
            raise
        return answer
    return _json(raw)


def _error_body(exc: DeliveryError) -> dict[str, Any] | None:
    if exc.status is None or not 400 <= exc.status < 500:
        return None
    _prefix, _sep, text = str(exc).partition(": ")
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("code", data.get("errcode")), int):
        return data
    return None


def check(platform: str, data: dict[str, Any]) -> dict[str, Any]:
    """The answer when its code is 0; TokenInvalid or DeliveryError otherwise."""
    if platform == Platform.FEISHU:
        code, message = data.get("code"), data.get("msg", "")
    else:
        code, message = data.get("errcode"), data.get("errmsg", "")
    if code == 0:
        return data
    error = f"{platform} answered code {code}: {message}"[:ERROR_LENGTH]
    if code in TOKEN_CODES[platform]:
        raise TokenInvalid(error)
    raise DeliveryError(error, target_down=False)


# --- tokens -------------------------------------------------------------------------------


def fetch_token(app: WorkApp) -> tuple[str, int]:
    """A new access token from the platform and its lifetime in seconds."""
    if app.platform == Platform.DINGTALK:
        query = urlencode({"appkey": app.app_key, "appsecret": app.app_secret})
        data = check(app.platform, call("GET", f"{base_url('dingtalk')}/gettoken?{query}"))
        return str(data.get("access_token", "")), int(data.get("expires_in") or 7200)
    if app.platform == Platform.WECOM:
        query = urlencode({"corpid": app.corp_id, "corpsecret": app.app_secret})
        data = check(app.platform, call("GET", f"{base_url('wecom')}/cgi-bin/gettoken?{query}"))
        return str(data.get("access_token", "")), int(data.get("expires_in") or 7200)
    url = f"{base_url('feishu')}/open-apis/auth/v3/tenant_access_token/internal"
    data = check(
        app.platform, call("POST", url, {"app_id": app.app_id, "app_secret": app.app_secret})
    )
    return str(data.get("tenant_access_token", "")), int(data.get("expire") or 7200)


def token(app: WorkApp, *, fresh: bool = False, now: datetime | None = None) -> str:
    """The app's access token: the kept one while it is valid, else a new one (kept)."""
    now = now or timezone.now()
    if not fresh and app.access_token and app.token_expires_at and app.token_expires_at > now:
        return app.access_token
    value, lifetime = fetch_token(app)
    if not value:
        raise DeliveryError(f"{app.platform} gave no access token")
    expires = now + timedelta(seconds=max(lifetime - TOKEN_MARGIN, 60))
    WorkApp.objects.filter(pk=app.pk).update(access_token=value, token_expires_at=expires)
    app.access_token, app.token_expires_at = value, expires
    return value


def with_token(app: WorkApp, request: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """`request(token)`; once more with a new token when the platform refuses the token."""
    try:
        return request(token(app))
    except TokenInvalid:
        return request(token(app, fresh=True))


# --- sending ------------------------------------------------------------------------------


def _dingtalk_v1(
    app: WorkApp, path: str, body: dict[str, Any], method: str = "POST"
) -> dict[str, Any]:
    def request(access_token: str) -> dict[str, Any]:
        try:
            data = call(
                method,
                f"{base_url('dingtalk_api')}{path}",
                body,
                {"x-acs-dingtalk-access-token": access_token},
            )
        except DeliveryError as exc:
            if exc.status in (401, 403):
                raise TokenInvalid(str(exc), status=exc.status) from None
            raise
        if data.get("success") is False:
            raise DeliveryError(f"dingtalk answered: {snippet(json.dumps(data).encode())}")
        return data

    return with_token(app, request)


def send(app: WorkApp, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """Send one message (`send.message_body`'s shape for the platform) to one person."""
    platform = app.platform
    if platform == Platform.DINGTALK and message.get("card_v1"):
        return _dingtalk_v1(app, "/v1.0/im/interactiveCards/send", message["card_v1"])

    def request(access_token: str) -> dict[str, Any]:
        if platform == Platform.DINGTALK:
            url = (
                f"{base_url('dingtalk')}/topapi/message/corpconversation/asyncsend_v2?"
                f"{urlencode({'access_token': access_token})}"
            )
            body = {"agent_id": int(app.agent_id), "userid_list": user_id, "msg": message}
            return check(platform, call("POST", url, body))
        if platform == Platform.WECOM:
            query = urlencode({"access_token": access_token})
            url = f"{base_url('wecom')}/cgi-bin/message/send?{query}"
            body = {"touser": user_id, "agentid": int(app.agent_id), **message}
            data = check(platform, call("POST", url, body))
            if user_id in str(data.get("invaliduser") or "").split("|"):
                raise DeliveryError("wecom: the user id is not in the app's visible range",
                                    permanent=True, target_down=False)  # fmt: skip
            return data
        url = f"{base_url('feishu')}/open-apis/im/v1/messages?receive_id_type=user_id"
        body = {"receive_id": user_id, **message}
        return check(platform, call("POST", url, body, {"Authorization": f"Bearer {access_token}"}))

    return with_token(app, request)


# --- cards after the decision ---------------------------------------------------------------


def update_card(app: WorkApp, via: str, handle: str, user_id: str, update: dict[str, Any]) -> None:
    """Change a sent approval card to its decided state, the platform's documented way.

    `update` is `cards.settled_body`'s shape for `via` (``models.CardVia``): DingTalk
    interactive card ``PUT /v1.0/im/interactiveCards`` (outTrackId, only the given keys of
    ``cardParamMap``); DingTalk work notice ``POST
    /topapi/message/corpconversation/status_bar/update`` (agent_id, task_id,
    status_value); WeCom ``POST /cgi-bin/message/update_template_card`` (the
    response_code, once; the buttons become one unclickable button); Feishu ``PATCH
    /open-apis/im/v1/messages/{message_id}`` (the whole card, ``update_multi``)."""
    platform = app.platform
    if via == CardVia.DINGTALK_CARD:
        _dingtalk_v1(app, "/v1.0/im/interactiveCards", {"outTrackId": handle, **update}, "PUT")
        return

    def request(access_token: str) -> dict[str, Any]:
        if via == CardVia.DINGTALK_OA:
            url = (
                f"{base_url('dingtalk')}/topapi/message/corpconversation/status_bar/update?"
                f"{urlencode({'access_token': access_token})}"
            )
            body = {"agent_id": int(app.agent_id), "task_id": int(handle), **update}
            return check(platform, call("POST", url, body))
        if via == CardVia.WECOM:
            query = urlencode({"access_token": access_token})
            url = f"{base_url('wecom')}/cgi-bin/message/update_template_card?{query}"
            body = {"userids": [user_id], "agentid": int(app.agent_id),
                    "response_code": handle, **update}  # fmt: skip
            return check(platform, call("POST", url, body))
        url = f"{base_url('feishu')}/open-apis/im/v1/messages/{quote(handle, safe='')}"
        headers = {"Authorization": f"Bearer {access_token}"}
        return check(platform, call("PATCH", url, update, headers))

    with_token(app, request)


# --- user ids by mobile ---------------------------------------------------------------------


def user_ids_by_mobile(app: WorkApp, mobiles: list[str]) -> dict[str, str]:
    """{mobile: platform user id} for the mobiles the platform knows."""
    platform = app.platform
    found: dict[str, str] = {}
    if platform == Platform.FEISHU:
        url = f"{base_url('feishu')}/open-apis/contact/v3/users/batch_get_id?user_id_type=user_id"
        for start in range(0, len(mobiles), 50):  # at most 50 a request
            chunk = mobiles[start : start + 50]

            def ask(access_token: str, chunk: list[str] = chunk) -> dict[str, Any]:
                headers = {"Authorization": f"Bearer {access_token}"}
                return check(platform, call("POST", url, {"mobiles": chunk}, headers))

            data = with_token(app, ask)
            for row in (data.get("data") or {}).get("user_list") or []:
                if row.get("user_id") and row.get("mobile"):
                    found[str(row["mobile"]).removeprefix("+86")] = str(row["user_id"])
        return found
    key: tuple[str, ...]
    if platform == Platform.DINGTALK:
        path, key = f"{base_url('dingtalk')}/topapi/v2/user/getbymobile", ("result", "userid")
    else:
        path, key = f"{base_url('wecom')}/cgi-bin/user/getuserid", ("userid",)
    for mobile in mobiles:

        def ask_one(access_token: str, mobile: str = mobile) -> dict[str, Any]:
            return _by_mobile(platform, path, access_token, mobile)

        data = with_token(app, ask_one)
        value: Any = data
        for part in key:
            value = value.get(part) if isinstance(value, dict) else None
        if value:
            found[mobile] = str(value)
    return found


def _by_mobile(platform: str, path: str, access_token: str, mobile: str) -> dict[str, Any]:
    url = f"{path}?{urlencode({'access_token': access_token})}"
    return _token_checked(platform, call("POST", url, {"mobile": mobile}))


def _token_checked(platform: str, data: dict[str, Any]) -> dict[str, Any]:
    """Like `check`, but "no such mobile" is an empty answer, not an error."""
    try:
        return check(platform, data)
    except TokenInvalid:
        raise
    except DeliveryError:
        return {}
