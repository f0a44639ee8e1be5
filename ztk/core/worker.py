"""The background worker's stop flag.

A stopping worker sets the consumer's stop flag; long tasks look at :func:`stop_requested`
between chunks and return, so the grace period (``--shutdown-timeout``) is enough and
their leases (``ztk.core.leases``) are released. A task still running when the grace
period ends is abandoned; ``ztk run_huey`` then releases the leases this process holds
before it exits. A worker killed outright (kill -9, power loss) releases nothing: its
leases expire after ``settings.TASK_LEASE_SECONDS`` and any consumer takes the work up.
"""

from __future__ import annotations

import threading

_stop_flag: threading.Event | None = None


def watch_stop_flag(flag: threading.Event) -> None:
    """Called by ``run_huey`` with the consumer's stop flag (set on SIGINT, SIGTERM)."""
    global _stop_flag
    _stop_flag = flag


def stop_requested() -> bool:
    """True once the worker running this task is stopping: finish the current chunk of
    work and return, so its lock is released and the grace period is enough."""
    return _stop_flag is not None and _stop_flag.is_set()
