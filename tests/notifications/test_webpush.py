"""Web Push against a local fake push service over real HTTP.

The fake plays a push service as RFC 8030/8291/8292 describe it: it takes a POST to the
subscription's endpoint, and the test checks what a real one checks — an aes128gcm body
the device (whose private key only the test holds) can decrypt, an ``Authorization:
vapid t=<JWT>, k=<key>`` header whose ES256 JWT verifies with that key and names the push
service's origin as audience, a TTL — and answers 201, 410 (gone) or 500 as told. The
JWT is checked with `cryptography` directly, not with the code under test.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.db import transaction

from ztk.audit.models import AuditEvent
from ztk.notifications import webpush
from ztk.notifications.delivery import deliver_pending
from ztk.notifications.models import (
    NotificationKind,
    OutboxMessage,
    OutboxStatus,
    PushSubscription,
)
from ztk.notifications.services import notify, push_subscribe

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Pushed:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    answers: deque = field(default_factory=deque)
    received: list[Pushed] = field(default_factory=list)
    port: int = 0

    def endpoint(self, token: str = "dev1") -> str:
        return f"http://127.0.0.1:{self.port}/wpush/v2/{token}"


@pytest.fixture
def push_service(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            service.received.append(
                Pushed(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
            )
            status = service.answers.popleft() if service.answers else 201
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield service
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@dataclass
class Device:
    key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )


def a_device() -> Device:
    return Device(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


def subscribe(user, service: PushService, token="dev1", language="en") -> Device:
    device = a_device()
    push_subscribe(
        user=user,
        endpoint=service.endpoint(token),
        p256dh=device.p256dh,
        auth=b64(device.auth),
        user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/131",
        language=language,
    )
    return device


def remind(user, kind=NotificationKind.PUNCH_REMINDER):
    with transaction.atomic():
        notify(
            kind=kind,
            recipients=[user],
            title="Check in by 09:00",
            body="Your shift starts at 09:00.",
            url="/",
        )


def verify_vapid(header: str, audience: str) -> dict:
    """RFC 8292: ``vapid t=<JWT>, k=<P-256 public key>``; the JWT is ES256 over
    header.claims, its signature r||s (64 bytes), its claims aud/exp/sub."""
    scheme, _, params = header.partition(" ")
    assert scheme == "vapid"
    values = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = values["t"], values["k"]
    head_b64, claims_b64, sig_b64 = token.split(".")
    assert json.loads(unb64(head_b64)) == {"typ": "JWT", "alg": "ES256"}
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    sig = unb64(sig_b64)
    assert len(sig) == 64
    public.verify(
        encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
        f"{head_b64}.{claims_b64}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )  # raises InvalidSignature when it does not verify
    claims = json.loads(unb64(claims_b64))
    assert claims["aud"] == audience
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert claims["sub"].startswith(("mailto:", "https:"))
    assert key == webpush.application_server_key()  # the key the browser subscribed with
    return claims


def test_a_reminder_reaches_the_device_encrypted_and_signed(org, push_service):
    user = org.employee.user
    device = subscribe(user, push_service)

    remind(user)
    stats = deliver_pending()

    assert stats.sent >= 1
    [pushed] = push_service.received
    assert pushed.path == "/wpush/v2/dev1"
    assert pushed.headers["content-encoding"] == "aes128gcm"
    assert pushed.headers["ttl"] == "1800"  # a punch reminder is worth half an hour
    assert pushed.headers["urgency"] == "high"
    verify_vapid(pushed.headers["authorization"], f"http://127.0.0.1:{push_service.port}")
    # the device (and only it) reads the message
    plain = http_ece.decrypt(
        pushed.body, private_key=device.key, auth_secret=device.auth, version="aes128gcm"
    )
    message = json.loads(plain)
    assert message["title"] == "Check in by 09:00"
    assert message["url"].startswith("/notifications/") and message["url"].endswith("/open/")
    assert message["lang"] == "en"  # the device's language
    assert pushed.body[:16] != plain[:16]
    row = OutboxMessage.objects.get(channel="webpush")
    assert row.status == OutboxStatus.SENT and row.attempts == 1
    assert PushSubscription.objects.get().last_used_at is not None


def test_every_device_of_the_person_gets_it_and_other_kinds_keep_a_day(org, push_service):
    user = org.employee.user
    subscribe(user, push_service, "phone")
    subscribe(user, push_service, "laptop")

    remind(user, kind=NotificationKind.CORRECTION_APPROVED)
    deliver_pending()

    assert sorted(p.path for p in push_service.received) == [
        "/wpush/v2/laptop",
        "/wpush/v2/phone",
    ]
    assert {p.headers["ttl"] for p in push_service.received} == {"86400"}
    assert {p.headers["urgency"] for p in push_service.received} == {"normal"}


def test_a_device_the_push_service_calls_gone_is_removed_and_audited(org, push_service):
    user = org.employee.user
    subscribe(user, push_service)
    push_service.answers.append(410)

    remind(user)
    stats = deliver_pending()

    assert stats.dead == 1
    row = OutboxMessage.objects.get(channel="webpush")
    assert row.status == OutboxStatus.DEAD and "gone" in row.last_error
    assert not PushSubscription.objects.exists()
    event = AuditEvent.objects.get(action="notifications.push.pruned")
    assert event.changes["status"] == 410
    assert event.changes["before"]["user"] == user.pk
    # the next message no longer goes there
    remind(user)
    deliver_pending()
    assert len(push_service.received) == 1


def test_404_is_gone_too_but_a_server_error_is_retried(org, push_service):
    user = org.employee.user
    subscribe(user, push_service, "a")
    push_service.answers.extend([500])

    remind(user)
    stats = deliver_pending()

    assert stats.failed == 1
    row = OutboxMessage.objects.get(channel="webpush")
    assert row.status == OutboxStatus.FAILED and row.last_error.startswith("HTTP 500")
    assert PushSubscription.objects.exists()  # kept: the service was only down

    push_service.answers.append(404)
    stats = deliver_pending(now=row.next_attempt_at)
    assert stats.dead == 1 and not PushSubscription.objects.exists()


def test_the_key_pair_is_made_once_and_kept_in_var(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.VAPID_PRIVATE_KEY = ""
    webpush._cache.clear()
    try:
        first = webpush.application_server_key()
        webpush._cache.clear()
        assert webpush.application_server_key() == first  # read back, not made again
        path = tmp_path / webpush.KEY_FILE
        assert path.stat().st_mode & 0o777 == 0o600
        assert len(unb64(first)) == 65 and unb64(first)[0] == 4  # an uncompressed P-256 point
    finally:
        webpush._cache.clear()


def test_a_configured_key_is_used(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    settings.VAPID_PRIVATE_KEY = b64(raw)
    webpush._cache.clear()
    try:
        expected = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        assert webpush.application_server_key() == b64(expected)
    finally:
        webpush._cache.clear()
