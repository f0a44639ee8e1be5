"""Background work: pulling punches from terminals, purging photos, the file-import job."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ztk.core.jobs import job_run
from ztk.core.leases import leased

from . import biometrics, imports
from .pull import pull_all
from .services import photo_purge_expired

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
@leased("devices-pull")
def pull_devices() -> None:
    """Every five minutes; the lock keeps a slow terminal from piling up overlapping runs."""
    for result in pull_all():
        if result.ok:
            log.info("pull %s", result.summary())
        else:
            log.warning("pull %s", result.summary())


@db_periodic_task(crontab(hour="3", minute="17"))
@leased("devices-photo-purge")
def purge_device_photos() -> None:
    """Daily: terminal photos past ZTK_DEVICE_PHOTO_RETENTION_DAYS are deleted (audited)."""
    count = photo_purge_expired()
    if count:
        log.info("deleted %d terminal photos past the retention period", count)


@db_task()
def import_job(job_id: str) -> None:
    """A USB/spreadsheet punch import (dry run or commit) started on /hr/devices/import/."""
    job_run(job_id, imports.run_job)


@db_task()
def sync_employees_task(employee_ids: list[int]) -> None:
    """People and templates to the terminals for a large change (biometrics._flush)."""
    result = biometrics.sync_employees(employee_ids, reason="change")
    log.info("terminal sync of %d employees: %d commands", len(employee_ids), result.total)
