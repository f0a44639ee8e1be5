"""Local fake DingTalk / WeCom / Feishu open-API servers, written from their public docs.

One threaded HTTP server on 127.0.0.1 plays all three (their paths do not overlap): the
token endpoints hand out tokens that the send and lookup endpoints check, answering the
platform's own "invalid token" code otherwise; every request is recorded so tests assert
its shape. Tests never reach the internet (WORKAPPS_BASE_URLS points here).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ztk.notifications.workapps.models import WorkApp

DING = {"corp_id": "dingcorp1", "agent_id": "123456", "app_key": "dingkey1",
        "app_secret": "dingsecret1"}  # fmt: skip
WECOM = {"corp_id": "wwcorp1", "agent_id": "1000002", "app_secret": "wecomsecret1"}
FEISHU = {"app_id": "cli_app1", "app_secret": "feishusecret1"}
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
MOBILES = {"13800000001": "u-manager", "13800000002": "u-employee"}


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Platforms:
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    # Queued answers for send endpoints: (status, body); overrides the normal answer.
    send_answers: deque = field(default_factory=deque)
    counter: Any = field(default_factory=lambda: itertools.count(1))
    # Sign-in: who the platform's own page says is signing in (its user id; "openid:…" is
    # WeCom's answer for someone outside the company), and the codes handed out, one use.
    signin_as: dict[str, str] = field(default_factory=dict)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    user_tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [c.path for c in self.calls]

    def of(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    def revoke_tokens(self) -> None:
        """Every issued token becomes invalid (as when it expires early)."""
        self.tokens.clear()

    def _token(self) -> str:
        value = f"tok{next(self.counter)}"
        self.tokens.add(value)
        return value

    def issue_code(self, platform: str, user_id: str | None = None) -> str:
        """A one-time authorization code for `user_id` (default: `signin_as[platform]`), as
        DingTalk's JSAPI or the WeCom / Feishu authorize page hands one out."""
        code = f"{platform[:2]}code{next(self.counter)}"
        self.codes[code] = (platform, user_id or self.signin_as[platform])
        return code

    def _redeem(self, platform: str, code: str) -> str | None:
        found = self.codes.get(code)
        if found is None or found[0] != platform:
            return None
        del self.codes[code]  # a code works once
        return found[1]

    def _authorize(self, platform: str, q: dict[str, str]) -> tuple[int, Any]:
        """The platform's authorize page: straight back with a code (in-app: no consent)."""
        redirect_uri, state = q["redirect_uri"], q["state"]
        assert redirect_uri.startswith("http") and "/workapps/" in redirect_uri and state
        assert q["response_type"] == "code"
        if platform == "wecom":
            assert q["appid"] == WECOM["corp_id"] and q["agentid"] == WECOM["agent_id"]
            assert q["scope"] == "snsapi_base"
        else:
            assert q["client_id"] == FEISHU["app_id"]
        code = self.issue_code(platform)
        sep = "&" if "?" in redirect_uri else "?"
        return 302, {"__location__": f"{redirect_uri}{sep}code={code}&state={state}"}

    def handle(self, call: Call) -> tuple[int, Any]:
        q, body, path = call.query, call.body or {}, call.path
        # --- sign-in: the authorize pages the browser is sent to --------------------------
        if path == "/connect/oauth2/authorize":
            return self._authorize("wecom", q)
        if path == "/open-apis/authen/v1/authorize":
            return self._authorize("feishu", q)
        if path == "/topapi/v2/user/getuserinfo":
            if q.get("access_token") not in self.tokens:
                return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
            assert call.method == "POST" and set(body) == {"code"}
            user_id = self._redeem("dingtalk", body["code"])
            if user_id is None:
                return 200, {"errcode": 40078, "errmsg": "不存在的临时授权码"}
            return 200, {"errcode": 0, "errmsg": "ok", "result": {
                "userid": user_id, "unionid": f"union-{user_id}", "name": "x",
                "device_id": "d1", "sys": False, "sys_level": 0}, "request_id": "r2"}  # fmt: skip
        if path == "/cgi-bin/auth/getuserinfo":
            if q.get("access_token") not in self.tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            assert call.method == "GET" and q.get("code")
            user_id = self._redeem("wecom", q["code"])
            if user_id is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            if user_id.startswith("openid:"):
                return 200, {"errcode": 0, "errmsg": "ok",
                             "openid": user_id.removeprefix("openid:")}  # fmt: skip
            return 200, {"errcode": 0, "errmsg": "ok", "userid": user_id, "user_ticket": "t"}
        if path == "/open-apis/authen/v2/oauth/token":
            assert call.method == "POST"
            assert call.headers.get("content-type", "").startswith("application/json")
            assert body["grant_type"] == "authorization_code"
            assert body["redirect_uri"].endswith("/workapps/feishu/signin/done")
            if (body["client_id"], body["client_secret"]) != (FEISHU["app_id"],
                                                              FEISHU["app_secret"]):  # fmt: skip
                return 400, {"code": 20002, "error": "invalid_client",
                             "error_description": "client secret invalid"}  # fmt: skip
            user_id = self._redeem("feishu", body["code"])
            if user_id is None:
                return 400, {"code": 20003, "error": "invalid_grant",
                             "error_description": "The code is not found"}  # fmt: skip
            user_token = f"u-{next(self.counter)}"
            self.user_tokens[user_token] = user_id
            return 200, {"code": 0, "access_token": user_token, "expires_in": 7200,
                         "token_type": "Bearer", "scope": ""}  # fmt: skip
        if path == "/open-apis/authen/v1/user_info":
            bearer = call.headers.get("authorization", "").removeprefix("Bearer ")
            user_id = self.user_tokens.get(bearer)
            if user_id is None:
                return 401, {"code": 99991668, "msg": "Invalid access token for authorization."}
            return 200, {"code": 0, "msg": "success", "data": {
                "name": "x", "open_id": f"ou_{user_id}", "union_id": f"on_{user_id}",
                "user_id": user_id, "mobile": "+8613800000002", "employee_no": ""}}  # fmt: skip
        # --- DingTalk -------------------------------------------------------------------
        if path == "/gettoken":
            if q.get("appkey") != DING["app_key"] or q.get("appsecret") != DING["app_secret"]:
                return 200, {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self._token(),
                         "expires_in": 7200}  # fmt: skip
        if path == "/topapi/message/corpconversation/asyncsend_v2":
            if q.get("access_token") not in self.tokens:
                return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
            assert isinstance(body["agent_id"], int) and isinstance(body["userid_list"], str)
            assert body["msg"]["msgtype"] in ("text", "action_card", "markdown", "oa")
            return self._send_answer({"errcode": 0, "task_id": 1, "request_id": "r1"})
        if path == "/topapi/v2/user/getbymobile":
            if q.get("access_token") not in self.tokens:
                return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
            found = MOBILES.get(body.get("mobile"))
            if not found:
                return 200, {"errcode": 60121, "errmsg": "找不到该用户"}
            return 200, {"errcode": 0, "result": {"userid": f"ding-{found}"}}
        if path == "/v1.0/im/interactiveCards/send":
            if call.headers.get("x-acs-dingtalk-access-token") not in self.tokens:
                return 401, {"code": "InvalidAuthentication", "message": "token invalid"}
            assert body["cardTemplateId"] and body["outTrackId"] and body["receiverUserIdList"]
            return self._send_answer({"success": True, "result": {"processQueryKey": "k"}})
        # --- WeCom ----------------------------------------------------------------------
        if path == "/cgi-bin/gettoken":
            if q.get("corpid") != WECOM["corp_id"] or q.get("corpsecret") != WECOM["app_secret"]:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self._token(),
                         "expires_in": 7200}  # fmt: skip
        if path == "/cgi-bin/message/send":
            if q.get("access_token") not in self.tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            assert isinstance(body["agentid"], int) and body["touser"]
            assert body["msgtype"] in body  # e.g. "text": {...}
            return self._send_answer({"errcode": 0, "errmsg": "ok", "invaliduser": ""})
        if path == "/cgi-bin/user/getuserid":
            if q.get("access_token") not in self.tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            found = MOBILES.get(body.get("mobile"))
            if not found:
                return 200, {"errcode": 46004, "errmsg": "user no exist"}
            return 200, {"errcode": 0, "errmsg": "ok", "userid": f"wx-{found}"}
        # --- Feishu ---------------------------------------------------------------------
        if path == "/open-apis/auth/v3/tenant_access_token/internal":
            if body != {"app_id": FEISHU["app_id"], "app_secret": FEISHU["app_secret"]}:
                return 200, {"code": 10014, "msg": "app secret invalid"}
            return 200, {"code": 0, "msg": "ok", "tenant_access_token": self._token(),
                         "expire": 7200}  # fmt: skip
        bearer = call.headers.get("authorization", "").removeprefix("Bearer ")
        if path == "/open-apis/im/v1/messages":
            if bearer not in self.tokens:
                return 400, {"code": 99991663, "msg": "Invalid access token for authorization."}
            assert q.get("receive_id_type") == "user_id"
            assert body["msg_type"] in ("text", "interactive") and body["receive_id"]
            assert isinstance(json.loads(body["content"]), dict)  # content is a JSON string
            return self._send_answer({"code": 0, "msg": "success", "data": {"message_id": "om_1"}})
        if path == "/open-apis/contact/v3/users/batch_get_id":
            if bearer not in self.tokens:
                return 400, {"code": 99991663, "msg": "Invalid access token for authorization."}
            users = [{"mobile": m, "user_id": f"fs-{MOBILES[m]}"} if m in MOBILES else {"mobile": m}
                     for m in body["mobiles"]]  # fmt: skip
            return 200, {"code": 0, "msg": "success", "data": {"user_list": users}}
        return 404, {"errcode": 404, "errmsg": "no such endpoint"}

    def _send_answer(self, normal: dict[str, Any]) -> tuple[int, Any]:
        return self.send_answers.popleft() if self.send_answers else (200, normal)


def _handler(server: Platforms):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            call = Call(
                method=method,
                path=parts.path,
                query={k: v[0] for k, v in parse_qs(parts.query).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(raw.decode()) if raw else None,
            )
            server.calls.append(call)
            try:
                status, body = server.handle(call)
            except (AssertionError, KeyError, TypeError) as exc:  # a malformed request
                status, body = 400, {"errcode": 400, "errmsg": f"bad request: {exc!r}"}
            if status == 302:
                self.send_response(302)
                self.send_header("Location", body["__location__"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - http.server's name
            self._serve("GET")

        def do_POST(self):  # noqa: N802
            self._serve("POST")

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def platforms(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    server = Platforms()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.port = httpd.server_address[1]
    names = ("dingtalk", "dingtalk_api", "wecom", "feishu", "wecom_oauth", "feishu_accounts")
    settings.WORKAPPS_BASE_URLS = dict.fromkeys(names, server.url)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def make_app(platform: str, *, active: bool = True, **extra: str) -> WorkApp:
    values = {"dingtalk": DING, "wecom": WECOM, "feishu": FEISHU}[platform]
    return WorkApp.objects.create(platform=platform, active=active, **values, **extra)
