"""Background work of the corrections: historical imports (the overdue reminders and the
re-routing sweep are the approval machinery's: ``ztk.approvals.tasks``)."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

from ztk.core.jobs import job_run

from . import bulk_import

log = logging.getLogger(__name__)


@db_task()
def import_job(job_id: str) -> None:
    """A historical-corrections import (dry run or commit) started on the HR desk."""
    job_run(job_id, bulk_import.run_job)
