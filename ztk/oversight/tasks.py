"""The nightly findings run (02:30); the pages' "run now" calls the same service."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ztk.core.leases import leased

from .services import findings_run

log = logging.getLogger(__name__)


@db_periodic_task(crontab(hour="2", minute="30"))
@leased("oversight-findings")
def nightly_findings() -> None:
    result = findings_run(actor=None)
    log.info("oversight: %d new finding(s), %d updated", result.created, result.updated)
