"""The Web Push channel to a person (docs/pwa.md "Web Push"): a notification on each
device where the person switched notifications on in the installed app.

* Keys: one VAPID key pair (RFC 8292) per installation, generated once into
  ``var/vapid_private.pem`` (mode 600, like ``var/secret_key``) unless VAPID_PRIVATE_KEY
  gives one. The public half is the browser's ``applicationServerKey``.
* A send is one POST to the device's push service: the JSON message encrypted for the
  device (RFC 8291, ``Content-Encoding: aes128gcm``, ``http_ece``), an
  ``Authorization: vapid t=<ES256 JWT for the push service's origin>, k=<public key>``
  header (``py_vapid``), a ``TTL`` (how long the push service may hold it: a punch
  reminder is worth 30 minutes, other messages a day) and an ``Urgency``.
* It goes through the outbox like every channel (retries, back-off, the delivery log) and
  through the guarded `post` (never to this machine or the internal network).
* A push service that answers 404 or 410 says the subscription is gone (the person
  uninstalled the app or revoked the permission): the subscription is removed, audited as
  ``notifications.push.pruned``, and the row is given up at once.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import http_ece  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from py_vapid import Vapid02  # type: ignore[import-untyped]

from ztk.audit.services import record
from ztk.core.webhooks import DeliveryError, post

from .channels import Outgoing, PersonChannel, Target, register
from .models import Channel, NotificationKind, OutboxMessage, PushSubscription

log = logging.getLogger(__name__)

KEY_FILE = "vapid_private.pem"
BODY_LIMIT = 1000  # characters of the body shown (push messages are at most 4 KB)
TTL_DEFAULT = 24 * 3600
TTL_BY_KIND = {NotificationKind.PUNCH_REMINDER.value: 30 * 60}
URGENT_KINDS = frozenset({NotificationKind.PUNCH_REMINDER.value})
JWT_LIFETIME = 12 * 3600  # RFC 8292: at most 24 hours
GONE = (404, 410)


# --- keys ------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _key_file() -> Path:
    return Path(settings.VAR_DIR) / KEY_FILE


def _generate(path: Path) -> None:
    """Write a new private key to `path` once (a second process finds it there)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def vapid() -> Any:
    """The installation's VAPID signer (``py_vapid.Vapid02``)."""
    configured = getattr(settings, "VAPID_PRIVATE_KEY", "") or ""
    source = configured or str(_key_file())
    with _lock:
        if source in _cache:
            return _cache[source]
        if configured:
            text = configured.strip()
            if "-----BEGIN" in text:
                key = serialization.load_pem_private_key(text.encode(), password=None)
                signer = Vapid02(key)
            else:
                signer = Vapid02.from_raw(text.encode())
        else:
            path = _key_file()
            if not path.exists():
                _generate(path)
            signer = Vapid02(serialization.load_pem_private_key(path.read_bytes(), None))
        _cache[source] = signer
        return signer


def application_server_key() -> str:
    """The public key the browser subscribes with (uncompressed P-256 point, base64url)."""
    public = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(public)


def subject() -> str:
    """The contact push services see: VAPID_SUBJECT, else the sender address."""
    configured = getattr(settings, "VAPID_SUBJECT", "") or ""
    if configured:
        return configured
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    return f"mailto:{address}"


# --- one request (pure apart from the key) ----------------------------------------------------


def origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def push_request(
    subscription: PushSubscription,
    message: dict[str, Any],
    *,
    ttl: int = TTL_DEFAULT,
    urgency: str = "normal",
    now: float | None = None,
) -> tuple[str, bytes, dict[str, str]]:
    """(URL, encrypted body, headers) of one push message to one device."""
    now = time.time() if now is None else now
    try:
        receiver_key = b64url_decode(subscription.p256dh)
        auth_secret = b64url_decode(subscription.auth)
    except (ValueError, TypeError):
        raise DeliveryError("the device's keys are not valid", permanent=True) from None
    data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    body = http_ece.encrypt(
        data,
        private_key=ec.generate_private_key(ec.SECP256R1()),  # one key per message
        dh=receiver_key,
        auth_secret=auth_secret,
        version="aes128gcm",
    )
    claims = {"aud": origin(subscription.endpoint), "exp": int(now) + JWT_LIFETIME}
    try:
        headers = vapid().sign({**claims, "sub": subject()})
    except Exception as exc:  # noqa: BLE001 - py_vapid raises its own for a bad subject
        raise DeliveryError(f"VAPID: {exc}", permanent=True) from None
    return (
        subscription.endpoint,
        body,
        {
            "Authorization": headers["Authorization"],
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(int(ttl)),
            "Urgency": urgency,
        },
    )


# --- the channel -------------------------------------------------------------------------------


def push_targets(users: list[Any]) -> dict[int, list[Target]]:
    """Each person's devices, each in the language its page was in when subscribed."""
    out: dict[int, list[Target]] = {}
    rows = PushSubscription.objects.filter(user_id__in=[u.pk for u in users]).order_by("pk")
    for pk, user_id, language in rows.values_list("pk", "user_id", "language"):
        out.setdefault(user_id, []).append(Target(str(pk), language or ""))
    return out


def push_payload(message: Outgoing) -> dict[str, Any]:
    try:
        link = reverse("notifications:open", args=[message.notification.pk])
    except NoReverseMatch:
        link = message.url
    body = message.body if len(message.body) <= BODY_LIMIT else message.body[:BODY_LIMIT] + "…"
    return {
        "title": message.title,
        "body": body,
        "url": link if message.url or message.approve_url else "",
        "tag": f"ztk-{message.notification.pk}",
        "lang": message.language,
        "ttl": TTL_BY_KIND.get(message.kind, TTL_DEFAULT),
        "urgency": "high" if message.kind in URGENT_KINDS else "normal",
    }


def prune(subscription: PushSubscription, status: int | None) -> None:
    """Remove a subscription its push service called gone (audited)."""
    with transaction.atomic():
        deleted, _rows = PushSubscription.objects.filter(pk=subscription.pk).delete()
        if deleted:
            record(
                "notifications.push.pruned",
                object_type=PushSubscription._meta.label_lower,
                object_id=subscription.pk,
                actor=None,
                before={
                    "user": subscription.user_id,
                    "push_service": urlsplit(subscription.endpoint).netloc,
                    "user_agent": subscription.user_agent,
                },
                extra={"status": status},
            )
    log.info("push subscription %s pruned (HTTP %s)", subscription.pk, status)


class PushSender:
    """Sends one run's Web Push rows."""

    def send(self, row: OutboxMessage) -> None:
        pk = int(row.target) if row.target.isdigit() else 0
        subscription = PushSubscription.objects.filter(pk=pk).first()
        if subscription is None:
            raise DeliveryError("the device switched notifications off", permanent=True)
        payload = dict(row.payload or {})
        ttl = int(payload.pop("ttl", TTL_DEFAULT))
        urgency = str(payload.pop("urgency", "normal"))
        url, body, headers = push_request(subscription, payload, ttl=ttl, urgency=urgency)
        try:
            post(url, body, headers)
        except DeliveryError as exc:
            if exc.status in GONE:
                prune(subscription, exc.status)
                raise DeliveryError(
                    f"HTTP {exc.status}: the device's subscription is gone and was removed",
                    status=exc.status,
                    permanent=True,
                    target_down=False,
                ) from None
            if exc.status in (400, 403, 413):
                # Refused as it is (bad keys, a wrong key pair, too big): retrying cannot help.
                raise DeliveryError(str(exc), status=exc.status, permanent=True) from None
            raise
        PushSubscription.objects.filter(pk=pk).update(last_used_at=timezone.now())

    def close(self) -> None:
        pass


WEBPUSH = PersonChannel(
    code=Channel.WEBPUSH.value,
    label=gettext_lazy("Web Push"),
    default=True,
    targets=push_targets,
    payload=push_payload,
    sender=PushSender,
    help=gettext_lazy("To each phone or computer where the person switched notifications on."),
)
register(WEBPUSH)
