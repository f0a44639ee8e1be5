"""Callbacks from the work apps: verified, decrypted, replay-checked, read into a decision.

Checked for every callback, before anything else is read (docs/work-apps.md):

1. the platform's app is configured with its callback token and key (else refused);
2. the signature, per the platform's scheme (crypto.py): WeCom ``msg_signature`` and
   DingTalk ``signature`` (SHA-1 of token, timestamp, nonce and the encrypted text),
   Feishu ``X-Lark-Signature`` (SHA-256 of timestamp, nonce, encrypt key and the body);
3. the timestamp lies within `config.callback_window` seconds of now;
4. the nonce was never seen (stored in `CallbackNonce`; a replay is refused);
5. the body decrypts with the app's AES key, for our corp / app (WeCom, DingTalk), and
   Feishu's verification token matches.

What comes out is a `Decision` (who, approve or reject, which request, the reason) or a
platform check (URL verification). Mapping the platform user to an account and deciding
is the caller's (the page layer calls the request type's own service).
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Platform
from . import crypto
from .cards import APPROVE, REJECT, parse_button_key, parse_ref
from .config import callback_window
from .models import CallbackNonce, WorkApp

MAX_BODY = 64 * 1024

# Refusal codes (stable: tests and the audit log use them).
NOT_CONFIGURED = "workapp_not_configured"
BAD_SIGNATURE = "workapp_bad_signature"
EXPIRED = "workapp_expired"
REPLAYED = "workapp_replayed"
BAD_BODY = "workapp_bad_body"


class CallbackRefused(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass
class Decision:
    platform: str
    platform_user_id: str
    action: str  # APPROVE or REJECT
    ref: str  # "correction:12"
    reason: str = ""


@dataclass
class Received:
    """A verified callback: a decision, a URL check to answer, or an event we ignore."""

    app: WorkApp
    decision: Decision | None = None
    challenge: str | None = None  # WeCom echostr plain text / Feishu challenge
    reply_to: str = ""  # WeCom: the user the passive reply goes to
    extra: dict[str, Any] = field(default_factory=dict)


def _app(platform: str) -> WorkApp:
    app = WorkApp.objects.filter(platform=platform).first()
    if app is None or not app.callback_token or not app.aes_key:
        raise CallbackRefused(NOT_CONFIGURED)
    return app


def check_time(timestamp: str, now: datetime, *, millis: bool = False) -> None:
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        raise CallbackRefused(EXPIRED, "no timestamp") from None
    seconds = value / 1000 if millis else value
    if abs(now.timestamp() - seconds) > callback_window():
        raise CallbackRefused(EXPIRED, "timestamp outside the window")


def remember_nonce(platform: str, nonce: str, now: datetime) -> None:
    """Refuse a nonce seen before; forget nonces older than twice the window."""
    if not nonce or len(nonce) > 100:
        raise CallbackRefused(BAD_SIGNATURE, "no nonce")
    CallbackNonce.objects.filter(
        seen_at__lt=now - timedelta(seconds=2 * callback_window())
    ).delete()
    try:
        with transaction.atomic():
            CallbackNonce.objects.create(platform=platform, nonce=nonce, seen_at=now)
    except IntegrityError:
        raise CallbackRefused(REPLAYED) from None


def _signed(expected: str, given: str) -> None:
    if not given or not crypto.same(expected, given):
        raise CallbackRefused(BAD_SIGNATURE)


def _decrypt_wx(app: WorkApp, encrypt: str, receivers: list[str]) -> bytes:
    for receiver in receivers:
        if not receiver:
            continue
        try:
            return crypto.wx_decrypt(app.aes_key, encrypt, receiver)
        except crypto.CryptoError:
            continue
    raise CallbackRefused(BAD_BODY, "does not decrypt for this app")


def _xml(raw: bytes) -> dict[str, str]:
    """A flat WeCom XML message as a dict (no DTDs, no entities)."""
    if b"<!" in raw.replace(b"<![CDATA[", b""):
        raise CallbackRefused(BAD_BODY, "DTD or entity in XML")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        raise CallbackRefused(BAD_BODY, "not XML") from None
    return {child.tag: (child.text or "") for child in root}


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CallbackRefused(BAD_BODY, "not JSON") from None
    if not isinstance(data, dict):
        raise CallbackRefused(BAD_BODY, "not a JSON object")
    return data


def _reason(value: Any) -> str:
    return value.strip()[:1000] if isinstance(value, str) else ""


# --- the platforms ------------------------------------------------------------------------


def receive(
    platform: str,
    *,
    method: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    now: datetime | None = None,
) -> Received:
    """Verify and read one callback; CallbackRefused when any check fails."""
    now = now or timezone.now()
    if len(body) > MAX_BODY:
        raise CallbackRefused(BAD_BODY, "too large")
    app = _app(platform)
    if platform == Platform.WECOM:
        return _wecom(app, method, query, body, now)
    if platform == Platform.DINGTALK:
        return _dingtalk(app, query, body, now)
    return _feishu(app, headers, body, now)


def _wecom(
    app: WorkApp, method: str, query: dict[str, str], body: bytes, now: datetime
) -> Received:
    signature, timestamp, nonce = (
        query.get(k, "") for k in ("msg_signature", "timestamp", "nonce")
    )
    if method == "GET":  # the URL check when the callback is saved on WeCom
        echostr = query.get("echostr", "")
        _signed(crypto.sha1_signature(app.callback_token, timestamp, nonce, echostr), signature)
        check_time(timestamp, now)
        plain = _decrypt_wx(app, echostr, [app.corp_id])
        return Received(app=app, challenge=plain.decode(errors="replace"))
    outer = _xml(body)
    encrypt = outer.get("Encrypt", "")
    _signed(crypto.sha1_signature(app.callback_token, timestamp, nonce, encrypt), signature)
    check_time(timestamp, now)
    remember_nonce(app.platform, nonce, now)
    inner = _xml(_decrypt_wx(app, encrypt, [app.corp_id]))
    user = inner.get("FromUserName", "")
    received = Received(app=app, reply_to=user, extra={
        "event": inner.get("Event", ""),
        # A pressed card's fresh code for updating it (update_template_card), and its task.
        "response_code": inner.get("ResponseCode", "")[:300],
        "task_id": inner.get("TaskId", "")[:100],
    })  # fmt: skip
    if inner.get("MsgType") == "event" and inner.get("Event") == "template_card_event":
        parsed = parse_button_key(inner.get("EventKey"))
        if parsed and user:
            received.decision = Decision(app.platform, user, parsed[0], parsed[1])
    return received


def _dingtalk(app: WorkApp, query: dict[str, str], body: bytes, now: datetime) -> Received:
    signature = query.get("msg_signature") or query.get("signature", "")
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    encrypt = _json(body).get("encrypt")
    if not isinstance(encrypt, str):
        raise CallbackRefused(BAD_BODY, "no encrypt")
    _signed(crypto.sha1_signature(app.callback_token, timestamp, nonce, encrypt), signature)
    check_time(timestamp, now, millis=True)
    remember_nonce(app.platform, nonce, now)
    event = _json(_decrypt_wx(app, encrypt, [app.app_key, app.corp_id]))
    received = Received(app=app, extra={"event": str(event.get("EventType", ""))[:40]})
    if event.get("EventType") == "check_url":
        received.challenge = "success"
        return received
    # An interactive card's callback: who pressed what, on which card.
    content = event.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            content = None
    private = (content or {}).get("cardPrivateData") if isinstance(content, dict) else None
    user = event.get("userId")
    if isinstance(private, dict) and isinstance(user, str) and user:
        actions = private.get("actionIds") or []
        params: dict[str, Any] = (
            private["params"] if isinstance(private.get("params"), dict) else {}
        )
        action = actions[0] if isinstance(actions, list) and actions else ""
        ref = params.get("ref")
        if action in (APPROVE, REJECT) and parse_ref(ref):
            received.decision = Decision(
                app.platform, user, action, str(ref), _reason(params.get("reason"))
            )
    return received


def _feishu(app: WorkApp, headers: dict[str, str], body: bytes, now: datetime) -> Received:
    encrypt = _json(body).get("encrypt")
    if not isinstance(encrypt, str):
        raise CallbackRefused(BAD_BODY, "not encrypted (set an Encrypt Key on Feishu)")
    timestamp = headers.get("x-lark-request-timestamp", "")
    nonce = headers.get("x-lark-request-nonce", "")
    signature = headers.get("x-lark-signature", "")
    if signature or timestamp or nonce:
        _signed(crypto.lark_signature(timestamp, nonce, app.aes_key, body), signature)
        check_time(timestamp, now)
        remember_nonce(app.platform, nonce, now)
        signed = True
    else:
        signed = False
    try:
        event = _json(crypto.lark_decrypt(app.aes_key, encrypt))
    except crypto.CryptoError:
        raise CallbackRefused(BAD_BODY, "does not decrypt") from None
    header = event.get("header") if isinstance(event.get("header"), dict) else {}
    given_token = str(event.get("token") or (header or {}).get("token") or "")
    if not crypto.same(app.callback_token, given_token):
        raise CallbackRefused(BAD_SIGNATURE, "verification token")
    if event.get("type") == "url_verification":
        # Sent once when the address is saved on Feishu, unsigned: answered with the challenge.
        return Received(app=app, challenge=str(event.get("challenge", ""))[:200])
    if not signed:
        raise CallbackRefused(BAD_SIGNATURE, "unsigned event")
    received = Received(app=app, extra={"event": str((header or {}).get("event_type", ""))[:40]})
    inner = event.get("event") if isinstance(event.get("event"), dict) else {}
    operator = (inner or {}).get("operator") or {}
    action = (inner or {}).get("action") or {}
    value = action.get("value") if isinstance(action, dict) else None
    user = operator.get("user_id") if isinstance(operator, dict) else None
    if isinstance(value, dict) and isinstance(user, str) and user:
        what, ref = value.get("ztk"), value.get("ref")
        form = action.get("form_value") if isinstance(action.get("form_value"), dict) else {}
        if what in (APPROVE, REJECT) and parse_ref(ref):
            received.decision = Decision(
                app.platform, user, str(what), str(ref), _reason((form or {}).get("reason"))
            )
    return received


# --- answers ------------------------------------------------------------------------------


def answer(received: Received | None, platform: str, message: str, *, ok: bool) -> tuple[str, str]:
    """(content type, body) the platform expects after a callback we handled (or ignored).

    WeCom: a passive reply (encrypted XML) telling the user what happened; DingTalk: the
    encrypted "success"; Feishu: a toast.
    """
    if platform == Platform.FEISHU:
        if received is not None and received.challenge is not None:
            return "application/json", json.dumps({"challenge": received.challenge})
        toast = {"type": "success" if ok else "error", "content": message}
        answer: dict[str, Any] = {"toast": toast}
        if ok and message and received is not None and received.decision is not None:
            # Decided: the card loses its buttons and says so (a raw card replaces it).
            answer["card"] = {"type": "raw", "data": {
                "config": {"update_multi": True},
                "elements": [{"tag": "div", "text": {"tag": "plain_text", "content": message}}],
            }}  # fmt: skip
        return "application/json", json.dumps(answer, ensure_ascii=False)
    app = received.app if received is not None else None
    if app is None:
        return "text/plain", ""
    nonce = crypto.random_nonce()
    if platform == Platform.DINGTALK:
        timestamp = str(int(time.time() * 1000))
        encrypt = crypto.wx_encrypt(app.aes_key, b"success", app.app_key or app.corp_id)
        return "application/json", json.dumps({
            "msg_signature": crypto.sha1_signature(app.callback_token, timestamp, nonce, encrypt),
            "timeStamp": timestamp, "nonce": nonce, "encrypt": encrypt,
        })  # fmt: skip
    if received is not None and received.challenge is not None:
        return "text/plain", received.challenge
    if not received or not received.reply_to or not message:
        return "text/plain", ""
    timestamp = str(int(time.time()))
    inner = (
        f"<xml><ToUserName><![CDATA[{_cdata(received.reply_to)}]]></ToUserName>"
        f"<FromUserName><![CDATA[{_cdata(app.corp_id)}]]></FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{_cdata(message)}]]></Content></xml>"
    )
    encrypt = crypto.wx_encrypt(app.aes_key, inner.encode(), app.corp_id)
    signature = crypto.sha1_signature(app.callback_token, timestamp, nonce, encrypt)
    return "application/xml", (
        f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )


def _cdata(text: str) -> str:
    return text.replace("]]>", "]] >")
