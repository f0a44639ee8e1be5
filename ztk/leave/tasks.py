"""Periodic work of leave: the balances' accrual rules (daily, idempotent)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ztk.core.leases import leased

from .services import accrue

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="40", hour="0"))
@leased("leave-accrual")
def leave_accrual() -> None:
    """Daily at 00:40: yearly grants, monthly accruals, carry-over and its expiry. Each
    movement is written once (its source), so a missed or repeated run is harmless."""
    written = accrue()
    if written:
        log.info("leave: %d balance movement(s) from the accrual rules", written)
