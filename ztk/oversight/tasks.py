"""The nightly findings run (02:30; the pages' "run now" calls the same service), the
early warnings (every 15 minutes) and the weekly digest (Monday morning)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ztk.core.leases import leased

from .digest import send_weekly_digests
from .services import findings_run
from .warning_services import warnings_run

log = logging.getLogger(__name__)


@db_periodic_task(crontab(hour="2", minute="30"))
@leased("oversight-findings")
def nightly_findings() -> None:
    result = findings_run(actor=None)
    log.info("oversight: %d new finding(s), %d updated", result.created, result.updated)


@db_periodic_task(crontab(minute="*/15"))
@leased("oversight-warnings")
def early_warnings() -> None:
    """Raise and send the early warnings not raised before (each once per period)."""
    result = warnings_run(actor=None)
    if result.raised:
        log.info("oversight: %d warning(s) raised, %d message(s)", result.raised, result.sent)


@db_periodic_task(crontab(day_of_week="1", hour="8-11", minute="5"))
@leased("oversight-digest")
def weekly_digest() -> None:
    """Monday morning: last week's digest to auditors and HR (once each; hourly retries)."""
    log.info("oversight: %d weekly digest(s) sent", send_weekly_digests())
