"""The worker's heartbeat: /healthz tells whether a background worker is running."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .health import beat


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    """Every minute (and when the worker starts): the time a worker was last seen."""
    beat()
