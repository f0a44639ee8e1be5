"""Leases: the locks of background tasks, safe with several consumers on several nodes.

A lease is a row of ``core.Lease`` (name, owner, expiry). Taking it is one atomic upsert
that succeeds only when nobody holds the name or the holder's lease has expired; renewing
and releasing touch the row only while it is still the caller's. So:

- one drain (or delivery run, reminder scan…) runs at a time across every consumer of the
  installation, whichever node it runs on;
- a consumer killed while holding a lease stops holding it when the lease expires
  (``settings.TASK_LEASE_SECONDS``); the next periodic run on any consumer takes the work up;
- a consumer stopping releases only its own leases — never another's (Huey's
  ``flush_locks`` cleared every lock in the storage, which is why only one consumer could
  run before: ``docs/deployment.md``, "Several consumers").

Long tasks renew between chunks (``Lease.renew``); a renewal that fails means the lease
expired and someone else may hold it now, so the task stops after the chunk in hand.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Lease as LeaseRow

log = logging.getLogger("ztk.leases")
F = TypeVar("F", bound=Callable[..., Any])

_held: dict[str, Lease] = {}  # this process's leases, released when its worker stops
_held_lock = threading.Lock()


class LeaseHeld(Exception):
    """Someone else holds the lease."""


def _owner_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class Lease:
    def __init__(self, name: str, seconds: float | None = None) -> None:
        self.name = name
        self.seconds = float(seconds if seconds is not None else settings.TASK_LEASE_SECONDS)
        self.owner = _owner_id()

    def _expiry(self):
        return timezone.now() + timedelta(seconds=self.seconds)

    def acquire(self) -> bool:
        table = LeaseRow._meta.db_table
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (name, owner, expires_at, acquired_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET"
                " owner = excluded.owner, expires_at = excluded.expires_at,"
                f" acquired_at = excluded.acquired_at WHERE {table}.expires_at < %s",
                [self.name, self.owner, self._expiry(), now, now],
            )
            cursor.execute(f"SELECT owner FROM {table} WHERE name = %s", [self.name])
            row = cursor.fetchone()
        mine = bool(row) and row[0] == self.owner
        if mine:
            with _held_lock:
                _held[self.owner] = self
        return mine

    def renew(self) -> bool:
        """Extend the lease; False when it is no longer ours (expired and taken)."""
        with transaction.atomic():
            renewed = LeaseRow.objects.filter(name=self.name, owner=self.owner).update(
                expires_at=self._expiry()
            )
        return renewed == 1

    def release(self) -> bool:
        """Give the lease up; False when it was no longer ours."""
        with _held_lock:
            _held.pop(self.owner, None)
        with transaction.atomic():
            deleted, _ = LeaseRow.objects.filter(name=self.name, owner=self.owner).delete()
        return deleted > 0

    def __enter__(self) -> Lease:
        if not self.acquire():
            raise LeaseHeld(self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def leased(name: str, seconds: float | None = None) -> Callable[[F], F]:
    """Run the task only while holding the lease ``name``; skip it (quietly) when another
    consumer holds it — that run does the same work."""

    def decorate(task: F) -> F:
        @functools.wraps(task)
        def run(*args: Any, **kwargs: Any) -> Any:
            lease = Lease(name, seconds)
            if not lease.acquire():
                log.info("skipped %s: the lease is held elsewhere", name)
                return None
            try:
                return task(*args, **kwargs)
            finally:
                lease.release()

        return run  # type: ignore[return-value]

    return decorate


def release_held() -> list[str]:
    """Release every lease this process holds (a stopping worker); returns their names."""
    with _held_lock:
        mine = list(_held.values())
    if mine and connection.vendor == "sqlite":
        # The process is exiting: wait a second for a busy database, not the usual 20 —
        # a lease that cannot be released now expires by itself.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 1000")
    released = []
    for lease in mine:
        try:
            if lease.release():
                released.append(lease.name)
        except Exception:  # noqa: BLE001 - the database may be gone; the lease then expires
            log.exception("could not release the lease %s", lease.name)
    return sorted(released)


def holder(name: str) -> str | None:
    """Who holds ``name`` now (an unexpired lease), for tests and /healthz."""
    row = LeaseRow.objects.filter(name=name, expires_at__gt=timezone.now()).first()
    return row.owner if row else None
