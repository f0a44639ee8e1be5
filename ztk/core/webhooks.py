"""Outbox delivery: the one core every outgoing channel runs on.

Group robots and e-mail (notifications) and payroll webhooks (reports) each keep rows in
an outbox table with the same bookkeeping columns (``status`` pending/sent/failed/dead,
``attempts``, ``next_attempt_at``, ``last_error``, ``sent_at``). This module owns
everything they share: enqueueing the send after the commit (`send_after_commit`), the
run over the due rows (`deliver_due`: claim each row, send it, mark it sent or failed,
defer the other rows of a failing target), retries with back-off and giving up
(`backoff`, `after_failure`, ``MAX_ATTEMPTS``), the admin's "try again" (`retry_rows`),
and the one outbound HTTP sender (`post`). Only the message format, the signing and what
a row's target is stay with their owners (``notifications.delivery``,
``reports.payroll``).

Each due row is claimed first (its next attempt moved a lease ahead, in one conditional
UPDATE), so two workers never send the same row, and a worker that dies mid-way leaves
the row due again once the lease ends. A failure schedules the next attempt 1, 2, 4 …
minutes later; after `MAX_ATTEMPTS` the row is ``dead`` and stays visible to admins.

`post` refuses receivers inside the network (server-side request forgery): the host is
resolved at send time, every address it resolves to must be a public internet address
(`address_problem`), and the connection goes to the address that was checked, so a DNS
answer that changes between the check and the connect (rebinding) cannot redirect it.
Redirects are never followed. `url_problem` gives the same answer early, when an address
is saved. ``WEBHOOK_ALLOW_PRIVATE=true`` lifts the address rule (and allows plain HTTP)
for receivers inside the network, such as a relay, and for tests.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

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
        model._default_manager.filter(
            pk=pk, status__in=due_statuses, next_attempt_at__lte=now
        ).update(next_attempt_at=now + CLAIM_LEASE)
    )


# --------------------------------------------------------------------------- the outbox run

# The bookkeeping statuses every outbox table uses (its TextChoices carry the labels).
PENDING, SENT, FAILED, DEAD = "pending", "sent", "failed", "dead"
DUE = (PENDING, FAILED)


@dataclass
class DeliveryStats:
    """What a run did. `deferred` (rows put off because their target was failing) is
    reported only by runs that group rows by target."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    by_target: bool = field(default=True, repr=False)

    def as_dict(self) -> dict[str, int]:
        out = {"sent": self.sent, "failed": self.failed, "dead": self.dead}
        return {**out, "deferred": self.deferred} if self.by_target else out


# Generic over the outbox models: `_default_manager` is Django's typed name for a model's
# manager (`objects` is not declared on Model itself).
def claim_row(
    model: type[models.Model], pk: int, now: datetime, *, related: tuple[str, ...] = ()
) -> Any | None:
    """The row, claimed for this worker (see `claim`); None when another worker has it
    or it is no longer due."""
    if not claim(model, pk, DUE, now):
        return None
    return model._default_manager.select_related(*related).filter(pk=pk).first()


def failure_fields(row: Any, error: DeliveryError, now: datetime) -> dict[str, Any]:
    """The row's bookkeeping after a failed try: failed (next attempt after the back-off)
    or dead."""
    dead, attempts, next_at = after_failure(row.attempts, error, now)
    return {
        "status": DEAD if dead else FAILED,
        "attempts": attempts,
        "next_attempt_at": next_at,
        "last_error": str(error)[:ERROR_LENGTH],
    }


def deliver_due(
    model: type[models.Model],
    send: Callable[[Any], dict[str, Any] | None],
    *,
    ids: Iterable[int] | None = None,
    now: datetime | None = None,
    limit: int,
    related: tuple[str, ...] = (),
    target_of: Callable[[Any], Any] | None = None,
    on_failure: Callable[[Any, DeliveryError], dict[str, Any]] | None = None,
    label: Callable[[Any], str] = lambda row: f"outbox {row.pk}",
) -> DeliveryStats:
    """Send the due rows of an outbox table (only `ids`, if given), oldest due first.

    `send(row)` delivers one row, raising DeliveryError on failure, and may return more
    fields to store with the success (an HTTP status, a signature). Any other exception is
    logged and counted as a failure: one row's failure never stops the run. With
    `target_of`, a failing target (``DeliveryError.target_down``) defers its other rows of
    this run to the same retry time instead of each waiting for its own timeout, so one
    broken channel never holds up the others. `on_failure(row, error)` gives more fields
    to store with a failure.
    """
    now = now or timezone.now()
    due = model._default_manager.filter(status__in=DUE, next_attempt_at__lte=now)
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    candidates = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    stats = DeliveryStats(by_target=target_of is not None)
    down: dict[Any, tuple[str, datetime]] = {}
    for pk in candidates:
        row = claim_row(model, pk, now, related=related)
        if row is None:
            continue  # another worker has it, or it changed meanwhile
        key = target_of(row) if target_of is not None else None
        if key is not None and key in down:
            error, retry_at = down[key]
            model._default_manager.filter(pk=row.pk).update(
                next_attempt_at=retry_at, last_error=f"waiting: {error}"[:ERROR_LENGTH]
            )
            stats.deferred += 1
            continue
        try:
            extra = send(row) or {}
        except Exception as exc:  # noqa: BLE001 - one row's failure never stops the run
            if not isinstance(exc, DeliveryError):
                log.exception("%s: unexpected error", label(row))
                exc = DeliveryError(f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH])
            fields = failure_fields(row, exc, now)
            if on_failure is not None:
                fields.update(on_failure(row, exc))
            model._default_manager.filter(pk=row.pk).update(**fields)
            log.warning("%s %s: %s", label(row), fields["status"], exc)
            retry_at = fields["next_attempt_at"]
            if fields["status"] == DEAD:
                stats.dead += 1
                retry_at = now + backoff(1)
            else:
                stats.failed += 1
            if key is not None and exc.target_down and not exc.permanent:
                down[key] = (str(exc), retry_at)
        else:
            model._default_manager.filter(pk=row.pk).update(
                status=SENT, attempts=row.attempts + 1, sent_at=now, last_error="", **extra
            )
            stats.sent += 1
    return stats


def send_after_commit(task: Callable[[list[int]], Any], ids: list[int]) -> None:
    """Enqueue `task(ids)` (a Huey task that calls `deliver_due`) once the current
    transaction commits, so a rolled-back change sends nothing. When the queue is down the
    rows stay due and the periodic run sends them."""

    def enqueue() -> None:
        try:
            task(ids)
        except Exception:  # noqa: BLE001 - the queue is down: the periodic task retries
            log.exception("could not enqueue the delivery of outbox rows %s", ids)

    transaction.on_commit(enqueue)


def retry_rows(
    model: type[models.Model], ids: Iterable[int], *, audit: Callable[[Any], object]
) -> list[int]:
    """Give failed or given-up rows a fresh set of attempts, due now: `audit(row)` is
    called for each (before the change) inside the caller's transaction; returns their ids.
    The caller checks who may do it and enqueues the send (`send_after_commit`)."""
    rows = list(
        model._default_manager.select_for_update()
        .filter(pk__in=list(ids), status__in=[FAILED, DEAD])
        .order_by("pk")
    )
    for row in rows:
        audit(row)
    pks = [r.pk for r in rows]
    if pks:
        model._default_manager.filter(pk__in=pks).update(
            status=PENDING, attempts=0, next_attempt_at=timezone.now()
        )
    return pks


# --------------------------------------------------------------------------- the address guard

# Cloud metadata services, named in refusals (all are also non-global addresses).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeAddress(DeliveryError):
    """The receiver's address is this machine, a private network or a metadata service."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped ::ffff:a.b.c.d, 6to4, NAT64)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(value: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a receiver may not be at this IP address, or None when it may.

    Allowed: global unicast addresses only. Refused: loopback, private (RFC 1918, ULA),
    link-local, carrier-grade NAT, unspecified, multicast, reserved and documentation
    ranges, cloud metadata services, and IPv6 forms that carry one of those IPv4s."""
    ip = ipaddress.ip_address(value) if isinstance(value, str) else value
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return f"{ip} is a link-local address"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            problem = address_problem(inner)
            return f"{ip} ({problem})" if problem else None
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata service"
    for test, what in (
        (ip.is_loopback, "a loopback address (this machine)"),
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private network address"),
        (ip.is_reserved, "a reserved address"),
    ):
        if test:
            return f"{ip} is {what}"
    if not ip.is_global:
        return f"{ip} is not a public internet address"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to: `host` resolved once and every answer checked.

    One unsafe answer refuses the host (a name that resolves to a public and a private
    address is a rebinding attempt). Unless WEBHOOK_ALLOW_PRIVATE is on."""
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise DeliveryError(
            f"unreachable: cannot resolve the host ({exc})"[:ERROR_LENGTH]
        ) from None
    if not addresses:
        raise DeliveryError("unreachable: the host has no address")
    if not allow_private():
        for address in addresses:
            problem = address_problem(address.split("%", 1)[0])
            if problem:
                raise UnsafeAddress(f"address refused: {problem}")
    return addresses


NOT_HTTPS, PRIVATE_ADDRESS = "not_https", "private_address"


def url_problem(url: str, *, resolve_names: bool = True) -> tuple[str, str] | None:
    """Why a robot or webhook address cannot be saved — ``(NOT_HTTPS, "")`` or
    ``(PRIVATE_ADDRESS, the address)`` — or None.

    HTTPS only (plain HTTP only with WEBHOOK_ALLOW_PRIVATE, for a relay inside the network);
    the host must not be, or resolve to, an address `address_problem` refuses. A name that
    does not resolve now is accepted: it is resolved and checked again at every send."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return NOT_HTTPS, ""
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        return NOT_HTTPS, ""
    if parts.scheme == "http" and not allow_private():
        return NOT_HTTPS, ""
    if allow_private():
        return None
    try:
        return (PRIVATE_ADDRESS, host) if address_problem(host) else None
    except ValueError:
        pass  # a name, not an address
    if host == "localhost" or host.endswith(".localhost"):
        return PRIVATE_ADDRESS, host
    if not resolve_names:
        return None
    try:
        addresses = resolve(host, port or 443)
    except (OSError, UnicodeError):
        return None
    for address in addresses:
        if address_problem(address.split("%", 1)[0]):
            return PRIVATE_ADDRESS, f"{host} ({address})"
    return None


def validate_receiver_url(value: str, *, not_https_message: Any) -> None:
    """The model validator of robot and webhook addresses (a clear error when saved)."""
    problem = url_problem(value)
    if problem is None:
        return
    code, address = problem
    if code == NOT_HTTPS:
        raise ValidationError(not_https_message, code="receiver_url")
    raise ValidationError(
        _(
            "%(address)s is not a public internet address (this machine, a private network "
            "or a cloud metadata service). Receivers must be reachable on the internet."
        ),
        code="private_address",
        params={"address": address},
    )


class _GuardedConnect:
    """Connect to an address checked by `checked_addresses`, never to a fresh resolution
    (DNS rebinding): the TLS name and the Host header stay the URL's host name. Through a
    proxy (HTTPS CONNECT) the target name is checked and the proxy resolves it."""

    def _guarded_create_connection(self, address, timeout=None, source_address=None):
        host, port = address
        tunnel = getattr(self, "_tunnel_host", None)
        if tunnel:
            checked_addresses(tunnel, getattr(self, "_tunnel_port", None) or 443)
            return socket.create_connection(address, timeout, source_address)
        error: OSError | None = None
        for ip in checked_addresses(host, port):
            try:
                return socket.create_connection((ip, port), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")


class GuardedHTTPConnection(_GuardedConnect, http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._create_connection = self._guarded_create_connection


class GuardedHTTPSConnection(_GuardedConnect, http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._create_connection = self._guarded_create_connection


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        self.ssl_context = ssl.create_default_context()
        super().__init__(context=self.ssl_context)

    def https_open(self, req):
        return self.do_open(GuardedHTTPSConnection, req, context=self.ssl_context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Receivers answer; they do not redirect. A 3xx is a failed delivery, never followed
    (a redirect could point anywhere, this machine included)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def opener(url: str) -> urllib.request.OpenerDirector:
    """The one way out for webhooks and robots: guarded connections, no redirects; the
    environment's HTTPS proxy for outside receivers, never for an allowed private one."""
    host = urlsplit(url).hostname or ""
    private = allow_private() and (host == "localhost" or _is_ip_with_problem(host))
    proxies = {} if private else {k: v for k, v in getproxies().items() if k == "https"}
    return urllib.request.build_opener(
        urllib.request.ProxyHandler(proxies),
        _GuardedHTTPHandler(),
        _GuardedHTTPSHandler(),
        _NoRedirect(),
    )


def _is_ip_with_problem(host: str) -> bool:
    try:
        return address_problem(host) is not None
    except ValueError:
        return False


def snippet(raw: bytes) -> str:
    """The start of a receiver's answer, for error texts."""
    return raw[:300].decode("utf-8", errors="replace")


def post(
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    *,
    timeout: float = HTTP_TIMEOUT,
    method: str = "POST",
) -> tuple[int, bytes]:
    """POST `body` (or GET, with `method` and no body); (status, the answer's first
    64 KiB) on 2xx, else DeliveryError.

    Error texts never include the URL: it may hold the receiver's key.
    """
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "ZTK-Attendance",
            **headers,
        },
    )
    try:
        with opener(url).open(request, timeout=timeout) as response:
            return response.status, response.read(65536)
    except DeliveryError:
        raise
    except urllib.error.HTTPError as exc:
        raw = exc.read(300) if exc.fp is not None else b""
        if 300 <= exc.code < 400:
            message = f"HTTP {exc.code}: redirects are not followed"
        else:
            message = f"HTTP {exc.code}: {snippet(raw)}"[:ERROR_LENGTH]
        raise DeliveryError(message, status=exc.code) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, DeliveryError):
            raise exc.reason from None
        raise DeliveryError(f"unreachable: {exc.reason}"[:ERROR_LENGTH]) from None
    except (OSError, TimeoutError) as exc:
        raise DeliveryError(f"unreachable: {exc}"[:ERROR_LENGTH]) from None
    except ValueError as exc:  # a malformed address
        raise DeliveryError(f"bad webhook address: {exc}", permanent=True) from None
