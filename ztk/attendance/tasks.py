"""Periodic work: keep recent days materialised, finalise past ones, drain the queue."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task
from huey.exceptions import TaskLockedException

from ztk.core.worker import stop_requested

from .finalise import finalise_due, refresh_recent
from .models import PendingRecompute
from .services import drain_pending

# Declared at import, so `run_huey --flush-locks` clears it after a worker died holding it
# (built inside _drain it was unknown at start and stayed held: every drain then ended at
# once and the queue was never emptied). Rules in ztk/core/worker.py.
DRAIN_LOCK = lock_task("attendance-drain")


def _drain() -> None:
    """One drain at a time; a drain already running takes new rows in its next round.

    Rows queued just as a drain ends (after its last look, before its lock is released)
    are caught by the check after the lock, else by the minute's periodic run. A stopping
    worker ends the drain after the chunk in hand; what is left stays queued.
    """
    for _attempt in range(3):
        try:
            with DRAIN_LOCK:
                drain_pending(stop=stop_requested)
        except TaskLockedException:
            return
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
