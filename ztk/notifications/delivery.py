"""Delivery of outbox rows: email through Django's mail API, group robots over HTTPS.

Each due row is claimed first (its next attempt moved a lease ahead, in one conditional
UPDATE), so two workers never send the same row, and a worker that dies mid-way leaves
the row due again once the lease ends. A failure schedules the next attempt 1, 2, 4 …
minutes later; after `MAX_ATTEMPTS` the row is `dead` and stays visible to admins. When a
target fails (a robot answers an error, the mail server is unreachable), its other rows in
the same run are deferred to the same retry time instead of each waiting for a timeout,
so a failing channel never holds up the others.

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
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from ztk.core.webhooks import (  # MAX_ATTEMPTS, CLAIM_LEASE: this channel's limits too
    CLAIM_LEASE,  # noqa: F401
    ERROR_LENGTH,
    HTTP_TIMEOUT,
    MAX_ATTEMPTS,  # noqa: F401
    DeliveryError,
    after_failure,
    backoff,
    claim,
    post,
)

from .models import Channel, OutboxMessage, OutboxStatus, Platform, RobotWebhook

log = logging.getLogger(__name__)

BATCH = 500
# Text limits of the platforms (WeCom: 2048 bytes of content; the others allow ~20 KB).
CONTENT_BYTES = {Platform.DINGTALK: 18000, Platform.WECOM: 2048, Platform.FEISHU: 18000}
DUE = (OutboxStatus.PENDING, OutboxStatus.FAILED)


@dataclass
class DeliveryStats:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "deferred": self.deferred,
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
        raise DeliveryError(f"not a JSON answer: {_snippet(raw)}") from None
    if not isinstance(data, dict):
        raise DeliveryError(f"unexpected answer: {_snippet(raw)}")
    if platform == Platform.FEISHU:
        code = data.get("code", data.get("StatusCode"))
        message = data.get("msg", data.get("StatusMessage", ""))
    else:
        code = data.get("errcode")
        message = data.get("errmsg", "")
    if code != 0:
        raise DeliveryError(f"robot answered code {code}: {message}"[:ERROR_LENGTH])


def _snippet(raw: bytes) -> str:
    return raw[:300].decode("utf-8", errors="replace")


def post_json(url: str, body: dict[str, Any], *, timeout: float = HTTP_TIMEOUT) -> bytes:
    """POST JSON: the answer's body, or DeliveryError (never naming the URL: it holds the key)."""
    _status, answer = post(url, json.dumps(body, ensure_ascii=False).encode(), {}, timeout=timeout)
    return answer


# --- the run -----------------------------------------------------------------------------


class _Mailer:
    """One mail connection per run, opened on first use."""

    def __init__(self) -> None:
        self.connection = None

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
    # All email shares one mail server; each robot is its own target.
    return (row.channel, "" if row.channel == Channel.EMAIL else row.target)


def _claim(pk: int, now: datetime) -> OutboxMessage | None:
    return (
        OutboxMessage.objects.filter(pk=pk).first() if claim(OutboxMessage, pk, DUE, now) else None
    )


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


def _mark_sent(row: OutboxMessage, now: datetime) -> None:
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENT, attempts=row.attempts + 1, sent_at=now, last_error=""
    )


def _mark_failed(row: OutboxMessage, error: DeliveryError, now: datetime) -> tuple[str, datetime]:
    dead, attempts, next_at = after_failure(row.attempts, error, now)
    status = OutboxStatus.DEAD if dead else OutboxStatus.FAILED
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=status, attempts=attempts, next_attempt_at=next_at, last_error=str(error)
    )
    return status, next_at


def deliver_pending(
    *, ids: list[int] | None = None, now: datetime | None = None, limit: int = BATCH
) -> DeliveryStats:
    """Send the due outbox rows (only `ids`, if given); returns what happened."""
    now = now or timezone.now()
    due = OutboxMessage.objects.filter(status__in=DUE, next_attempt_at__lte=now)
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    candidates = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    stats = DeliveryStats()
    robots: dict[int, RobotWebhook | None] = {}
    down: dict[tuple[str, str], tuple[str, datetime]] = {}
    mailer = _Mailer()
    try:
        for pk in candidates:
            row = _claim(pk, now)
            if row is None:
                continue  # another worker has it, or it changed meanwhile
            key = _target_key(row)
            if key in down:
                error, retry_at = down[key]
                OutboxMessage.objects.filter(pk=row.pk).update(
                    next_attempt_at=retry_at, last_error=f"waiting: {error}"[:ERROR_LENGTH]
                )
                stats.deferred += 1
                continue
            try:
                if row.channel == Channel.EMAIL:
                    mailer.send(row)
                else:
                    _send_robot(row, robots)
            except Exception as exc:  # noqa: BLE001 - one row's failure never stops the run
                if not isinstance(exc, DeliveryError):
                    log.exception("outbox %s: unexpected error", row.pk)
                    exc = DeliveryError(f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH])
                status, retry_at = _mark_failed(row, exc, now)
                log.warning("outbox %s (%s) %s: %s", row.pk, row.channel, status, exc)
                if status == OutboxStatus.DEAD:
                    stats.dead += 1
                    retry_at = now + backoff(1)
                else:
                    stats.failed += 1
                if exc.target_down and not exc.permanent:
                    down[key] = (str(exc), retry_at)
            else:
                _mark_sent(row, now)
                stats.sent += 1
    finally:
        mailer.close()
    return stats
