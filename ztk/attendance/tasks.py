"""Periodic work: keep recent days materialised, finalise past ones, drain the queue."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task
from huey.exceptions import TaskLockedException

from .finalise import finalise_due, refresh_recent
from .models import PendingRecompute
from .services import drain_pending


def _drain() -> None:
    """One drain at a time; a drain already running takes new rows in its next round.

    Rows queued just as a drain ends (after its last look, before its lock is released)
    are caught by the check after the lock, else by the minute's periodic run.
    """
    for _attempt in range(3):
        try:
            with lock_task("attendance-drain"):
                drain_pending()
        except TaskLockedException:
            return
        if not PendingRecompute.objects.exists():
            return


@db_task()
def drain_recompute_queue() -> None:
    """Started when a large batch of punches commits (record_punches)."""
    _drain()


@db_periodic_task(crontab(minute="*"))
def drain_recompute_queue_periodic() -> None:
    """The safety net: a drain that failed or was missed runs again within a minute."""
    _drain()


@db_periodic_task(crontab(minute="*/10"))
def refresh_and_finalise() -> None:
    # Queued punches first: a day is never finalised without the punches already in.
    _drain()
    refresh_recent()
    finalise_due()
