"""Outgoing HTTP deliveries from an outbox: the parts every channel shares.

Group robots (notifications) and payroll webhooks (reports) both keep rows in an outbox,
POST them with urllib, and retry with the same back-off; only the message format and the
signing differ, and stay with their owners.
"""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=5)
HTTP_TIMEOUT = 10  # seconds
ERROR_LENGTH = 1000


class DeliveryError(Exception):
    """A delivery failed.

    `permanent`: retrying cannot help (the target was removed or switched off).
    `status`: the receiver's HTTP status, when it answered.
    `target_down`: the whole target is failing, so its other rows wait for the retry too.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        permanent: bool = False,
        target_down: bool = True,
    ):
        super().__init__(message)
        self.status = status
        self.permanent = permanent
        self.target_down = target_down


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed tries: 1, 2, 4, … minutes."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def after_failure(attempts_before: int, error: DeliveryError, now: datetime):
    """(dead?, attempts, next attempt time) once a try has failed."""
    attempts = attempts_before + 1
    if error.permanent or attempts >= MAX_ATTEMPTS:
        return True, attempts, now
    return False, attempts, now + backoff(attempts)


def claim(model, pk: int, due_statuses, now: datetime) -> bool:
    """Take a due row for this worker by pushing its next attempt past a lease.

    One UPDATE decides the race: two workers can never send the same row.
    """
    return bool(
        model.objects.filter(pk=pk, status__in=due_statuses, next_attempt_at__lte=now).update(
            next_attempt_at=now + CLAIM_LEASE
        )
    )


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def https_or_loopback(url: str) -> bool:
    """Receivers are reached over HTTPS; plain HTTP only to this machine (a relay, tests)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(url))


def _snippet(raw: bytes) -> str:
    return raw[:300].decode("utf-8", errors="replace")


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float = HTTP_TIMEOUT
) -> tuple[int, bytes]:
    """POST `body`; (status, the answer's first 64 KiB) on 2xx, else DeliveryError.

    Error texts never include the URL: it may hold the receiver's key.
    """
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "ZTK-Attendance",
            **headers,
        },
    )
    # A proxy from the environment is used for outside receivers, never for this machine.
    handlers = [urllib.request.ProxyHandler({})] if is_loopback(url) else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        raw = exc.read(300) if exc.fp is not None else b""
        message = f"HTTP {exc.code}: {_snippet(raw)}"[:ERROR_LENGTH]
        raise DeliveryError(message, status=exc.code) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"unreachable: {exc.reason}"[:ERROR_LENGTH]) from None
    except (OSError, TimeoutError) as exc:
        raise DeliveryError(f"unreachable: {exc}"[:ERROR_LENGTH]) from None
    except ValueError as exc:  # a malformed address
        raise DeliveryError(f"bad webhook address: {exc}", permanent=True) from None
