"""Background delivery: right after a commit, every minute for retries, and the daily
missed-punch alerts."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ztk.core.leases import leased

from .cutoff_reminder import send_cutoff_reminders
from .delivery import deliver_pending
from .missed_punch_alert import notify_missed_punches
from .reminders import send_punch_reminders

log = logging.getLogger(__name__)


@db_task(retries=3, retry_delay=30)
def deliver_outbox(ids: list[int]) -> None:
    """Enqueued by `notify` after the commit: send these rows now."""
    stats = deliver_pending(ids=ids)
    log.info("outbox delivery %s", stats.as_dict())


@db_periodic_task(crontab(minute="*"))
@leased("notifications-deliver")
def deliver_due() -> None:
    """Every minute: retry failed rows whose time has come, and any row left behind."""
    stats = deliver_pending()
    if stats.sent or stats.failed or stats.dead:
        log.info("outbox retry %s", stats.as_dict())


def alert_hour() -> int:
    return int(getattr(settings, "MISSED_PUNCH_ALERT_HOUR", 8))


@db_periodic_task(crontab(minute="15"))
@leased("notifications-missed-punch")
def missed_punch_alerts() -> None:
    """Once a day at MISSED_PUNCH_ALERT_HOUR:15 local time: yesterday's missed punches.

    Scheduled hourly and checked against the local hour, because Huey's crontab runs in
    UTC; re-running is harmless (each missing slot is reported once).
    """
    now = timezone.localtime()
    if now.hour != alert_hour():
        return
    sent = notify_missed_punches(day=now.date() - timedelta(days=1))
    log.info("missed-punch alerts for %s: %d", now.date() - timedelta(days=1), sent)


@db_periodic_task(crontab(minute="*"))
@leased("notifications-punch-reminders")
def punch_reminders() -> None:
    """Every minute: remind those whose check-in is near or whose check-out has come and
    who have not punched (a fixed number of queries per run, docs/reminders.md)."""
    sent = send_punch_reminders()
    if sent:
        log.info("punch reminders: %d", sent)


@db_periodic_task(crontab(minute="30"))
@leased("notifications-cutoff-reminders")
def cutoff_reminders() -> None:
    """Hourly: the correction cut-off reminder, once per person and period, in the first
    hour outside the group's quiet hours (docs/reminders.md)."""
    sent = send_cutoff_reminders()
    if sent:
        log.info("cut-off reminders: %d", sent)
