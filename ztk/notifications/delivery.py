"""Delivery of outbox rows: email through Django's mail API, group robots over HTTPS.

The run itself — claiming each due row, retries with back-off, dead rows, deferring the
other rows of a failing target (a robot answering an error, the mail server down) — is the
outbox core's (`ztk.core.webhooks.deliver_due`); robots go out through its guarded
`post`. What stays here is this channel's own: the message formats and signatures, what a
row's target is (all e-mail shares one mail server; each robot is its own target) and one
mail connection per run.

Robot formats and signatures, from each platform's custom-robot documentation:

* DingTalk: ``{"msgtype": "text", "text": {"content": …}}``; signed robots add
  ``&timestamp=<ms>&sign=<urlencoded base64(HMAC-SHA256(key=secret, msg=f"{ts}\\n{secret}"))>``
  to the URL; success is ``{"errcode": 0}``.
* WeCom: the same body, the key is in the URL, no signing; success is ``{"errcode": 0}``.
* Feishu: ``{"msg_type": "text", "content": {"text": …}}`` plus, when signed, ``"timestamp"``
  (seconds) and ``"sign"`` = base64(HMAC-SHA256(key=f"{ts}\\n{secret}", msg=b"")) in the
  body; success is ``{"code": 0}`` (older endpoints: ``{"StatusCode": 0}``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import smtplib
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from ztk.core.webhooks import (  # MAX_ATTEMPTS, CLAIM_LEASE: this channel's limits too
    CLAIM_LEASE,  # noqa: F401
    ERROR_LENGTH,
    HTTP_TIMEOUT,
    MAX_ATTEMPTS,  # noqa: F401
    DeliveryError,
    DeliveryStats,
    claim_row,
    deliver_due,
    post,
    snippet,
)

from .models import Channel, OutboxMessage, Platform, RobotWebhook
from .workapps import send as workapps_send
from .workapps.models import WorkApp

BATCH = 500
# Text limits of the platforms (WeCom: 2048 bytes of content; the others allow ~20 KB).
CONTENT_BYTES: dict[str, int] = {
    Platform.DINGTALK: 18000,
    Platform.WECOM: 2048,
    Platform.FEISHU: 18000,
}

# --- signing and message formats (pure) ----------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    string_to_sign = f"{timestamp_s}\n{secret}"
    digest = hmac.new(string_to_sign.encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _clip(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


def robot_request(
    *, platform: str, url: str, secret: str, text: str, now: float | None = None
) -> tuple[str, dict[str, Any]]:
    """The URL to POST to and the JSON body, signed where the platform signs."""
    now = time.time() if now is None else now
    content = _clip(text, CONTENT_BYTES.get(platform, 2048))
    if platform == Platform.DINGTALK:
        if secret:
            timestamp = int(now * 1000)
            sign = quote_plus(dingtalk_sign(secret, timestamp))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
        return url, {"msgtype": "text", "text": {"content": content}}
    if platform == Platform.WECOM:
        return url, {"msgtype": "text", "text": {"content": content}}
    if platform == Platform.FEISHU:
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": content}}
        if secret:
            timestamp = int(now)
            body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
        return url, body
    raise DeliveryError(f"unknown robot platform {platform!r}", permanent=True)


def check_robot_response(platform: str, raw: bytes) -> None:
    """Robots answer HTTP 200 with an error code in the body; only code 0 is success."""
    try:
        data = json.loads(raw.decode("utf-8", errors="replace") or "null")
    except ValueError:
        raise DeliveryError(f"not a JSON answer: {snippet(raw)}") from None
    if not isinstance(data, dict):
        raise DeliveryError(f"unexpected answer: {snippet(raw)}")
    if platform == Platform.FEISHU:
        code = data.get("code", data.get("StatusCode"))
        message = data.get("msg", data.get("StatusMessage", ""))
    else:
        code = data.get("errcode")
        message = data.get("errmsg", "")
    if code != 0:
        raise DeliveryError(f"robot answered code {code}: {message}"[:ERROR_LENGTH])


def post_json(url: str, body: dict[str, Any], *, timeout: float = HTTP_TIMEOUT) -> bytes:
    """POST JSON: the answer's body, or DeliveryError (never naming the URL: it holds the key)."""
    _status, answer = post(url, json.dumps(body, ensure_ascii=False).encode(), {}, timeout=timeout)
    return answer


# --- the run -----------------------------------------------------------------------------


class _Mailer:
    """One mail connection per run, opened on first use."""

    def __init__(self) -> None:
        self.connection: BaseEmailBackend | None = None

    def send(self, row: OutboxMessage) -> None:
        payload = row.payload or {}
        subject = " ".join(str(payload.get("subject", "")).split())[:200]
        message = EmailMessage(
            subject=subject,
            body=str(payload.get("body", "")),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.target],
        )
        try:
            if self.connection is None:
                self.connection = get_connection(fail_silently=False)
                self.connection.open()
            message.connection = self.connection
            message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            error = f"address refused: {exc}"[:ERROR_LENGTH]
            raise DeliveryError(error, target_down=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"mail server: {exc}"[:ERROR_LENGTH]) from None

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self.connection.close()
            self.connection = None


def _target_key(row: OutboxMessage) -> tuple[str, str]:
    # All email shares one mail server; each robot is its own target; each work app one.
    if row.channel in workapps_send.CHANNELS:
        return workapps_send.target_key(row)
    return (row.channel, "" if row.channel == Channel.EMAIL else row.target)


def _claim(pk: int, now: datetime) -> OutboxMessage | None:
    return claim_row(OutboxMessage, pk, now)


def _send_robot(row: OutboxMessage, robots: dict[int, RobotWebhook | None]) -> None:
    robot_id = int(row.target) if row.target.isdigit() else 0
    if robot_id not in robots:
        robots[robot_id] = RobotWebhook.objects.filter(pk=robot_id).first()
    robot = robots[robot_id]
    if robot is None:
        raise DeliveryError("the group robot was removed", permanent=True)
    if not robot.active:
        raise DeliveryError("the group robot is switched off", permanent=True)
    url, body = robot_request(
        platform=robot.platform,
        url=robot.url,
        secret=robot.secret,
        text=str((row.payload or {}).get("text", "")),
    )
    check_robot_response(robot.platform, post_json(url, body))


def deliver_pending(
    *, ids: list[int] | None = None, now: datetime | None = None, limit: int = BATCH
) -> DeliveryStats:
    """Send the due outbox rows (only `ids`, if given); returns what happened."""
    robots: dict[int, RobotWebhook | None] = {}
    apps: dict[str, WorkApp | None] = {}
    mailer = _Mailer()

    def send(row: OutboxMessage) -> None:
        if row.channel == Channel.EMAIL:
            mailer.send(row)
        elif row.channel in workapps_send.CHANNELS:
            workapps_send.send_row(row, apps)
        else:
            _send_robot(row, robots)

    try:
        return deliver_due(
            OutboxMessage,
            send,
            ids=ids,
            now=now,
            limit=limit,
            target_of=_target_key,
            label=lambda row: f"outbox {row.pk} ({row.channel})",
        )
    finally:
        mailer.close()
