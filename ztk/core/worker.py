"""The background worker's stop flag and the rule for its task locks.

Task locks (Huey's ``lock_task``) live in the queue's storage (``var/huey.sqlite3`` or
Redis), not in the worker's memory, so a worker that dies holding one leaves it held. They
are recoverable in two ways, neither of which needs a lease (neither storage this project
uses supports a lock that expires):

- **Declared at import.** Every lock is built at module level of a ``tasks.py`` (a
  decorator or a module constant), so the consumer knows all of them when it starts and
  ``run_huey --flush-locks`` (the default here) clears one that a killed worker left.
  A lock built inside a function is unknown at start and would stay held for good;
  ``tests/ops/test_worker_locks.py`` refuses one.
- **Released at stop.** A stopping worker sets the consumer's stop flag; long tasks look
  at :func:`stop_requested` between chunks, return, and so release their lock. A task
  still running when the grace period (``--shutdown-timeout``) ends is abandoned; the
  ``run_huey`` command then releases every declared lock before the process exits.

Both rest on one consumer per installation, which is what ``make run`` starts: a lock
held in the storage is then always held by that consumer.
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
