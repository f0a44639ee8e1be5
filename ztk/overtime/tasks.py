"""Periodic work: convert approved time-off overtime once its day is final."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ztk.core.leases import leased

from .services import settle_due

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="40"))
@leased("overtime-settle")
def settle_time_off() -> None:
    """Hourly: approved 调休 overtime whose day became final goes to the balance."""
    count = settle_due()
    if count:
        log.info("overtime: %d request(s) converted to time off", count)
