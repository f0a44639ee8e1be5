"""Periodic work of the close: keep recent days materialised and finalise past ones."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ztk.attendance.finalise import refresh_recent
from ztk.attendance.tasks import drain
from ztk.core.worker import stop_requested

from .services import finalise_due


@db_periodic_task(crontab(minute="*/10"))
def refresh_and_finalise() -> None:
    # Queued punches first: a day is never finalised without the punches already in.
    drain()
    if stop_requested():
        return
    refresh_recent()
    finalise_due()
