"""Periodic work: keep recent days materialised, finalise past ones."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .finalise import finalise_due, refresh_recent


@db_periodic_task(crontab(minute="*/10"))
def refresh_and_finalise() -> None:
    refresh_recent()
    finalise_due()
