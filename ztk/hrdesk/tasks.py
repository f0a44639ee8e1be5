"""Background work of the HR desk: the historical-corrections import job."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from ztk.core.jobs import job_run

from . import bulk_import


@db_task()
def import_job(job_id: str) -> None:
    """A historical-corrections import (dry run or commit) started on the HR desk."""
    job_run(job_id, bulk_import.run_job)
