"""The worker's heartbeat, kept where the web processes and the worker both see it.

The ``jobs`` cache is shared by every process of an installation (Redis, else files in the
var directory), so a web node answering /healthz reads what the worker last wrote.
"""

from __future__ import annotations

import time

from django.core.cache import caches

HEARTBEAT_KEY = "ztk:worker:heartbeat"
# The heartbeat runs every minute: three missed beats and the worker counts as stale.
STALE_AFTER_SECONDS = 180


def beat(now: float | None = None) -> None:
    caches["jobs"].set(HEARTBEAT_KEY, time.time() if now is None else now, timeout=None)


def last_beat() -> float | None:
    """The time (seconds since the epoch) a worker was last seen; None: never."""
    value = caches["jobs"].get(HEARTBEAT_KEY)
    return float(value) if value is not None else None
