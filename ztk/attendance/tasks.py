"""Periodic work: keep recent days materialised, finalise past ones, drain the queue."""

import logging
import time
from collections.abc import Callable

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ztk.core.leases import Lease
from ztk.core.worker import stop_requested

from .finalise import finalise_due, refresh_recent
from .models import PendingRecompute
from .services import drain_pending

DRAIN_LEASE = "attendance-drain"
log = logging.getLogger("ztk.drain")


def _stop_unless_renewed(lease: Lease) -> Callable[[], bool]:
    """The drain's question between chunks: stop when the worker stops, or when the
    lease could not be renewed (it expired; another consumer may hold it now)."""
    return lambda: stop_requested() or not lease.renew()


def _drain() -> None:
    """One drain at a time across every consumer of the installation (a lease: a worker
    killed mid-drain holds it until it expires, then any consumer's next run takes over);
    a drain already running takes new rows in its next round.

    Rows queued just as a drain ends (after its last look, before its lease is released)
    are caught by the check after the lease, else by the minute's periodic run. A stopping
    worker — or one whose lease could not be renewed — ends the drain after the chunk in
    hand; what is left stays queued. "drain begin/end" lines (wall clock) let the
    several-consumers test see that two drains never overlap.
    """
    for _attempt in range(3):
        lease = Lease(DRAIN_LEASE)
        if not lease.acquire():
            return
        try:
            log.info("drain begin %.6f %s", time.time(), lease.owner)
            written = drain_pending(stop=_stop_unless_renewed(lease))
            log.info("drain end %.6f %s %d", time.time(), lease.owner, written)
        finally:
            lease.release()
        if stop_requested() or not PendingRecompute.objects.exists():
            return


@db_task()
def drain_recompute_queue() -> None:
    """Started when a large batch of punches commits (record_punches)."""
    _drain()


@db_periodic_task(crontab(minute="*"))
def drain_recompute_queue_periodic() -> None:
    """The safety net: a drain that failed or was missed runs again within a minute (and
    at once when the worker starts, so a queue left by a dead worker is taken up)."""
    _drain()


@db_periodic_task(crontab(minute="*/10"))
def refresh_and_finalise() -> None:
    # Queued punches first: a day is never finalised without the punches already in.
    _drain()
    if stop_requested():
        return
    refresh_recent()
    finalise_due()
