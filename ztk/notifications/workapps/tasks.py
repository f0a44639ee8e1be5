"""Background work of the work apps: syncing user ids by mobile (``core.jobs``)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from ztk.core.jobs import job_run

from .services import work_app_users_sync_job


@db_task()
def users_sync_job(job_id: str) -> None:
    """Ask the platform for every employee's user id by mobile (started on the page)."""
    job_run(job_id, work_app_users_sync_job)
