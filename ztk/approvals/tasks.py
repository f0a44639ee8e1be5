"""Periodic work: tell approvers (and HR) about steps past their deadline; move on the
requests nobody can decide any more — for every registered request type."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ztk.core.leases import leased

from .digest import send_approver_digests
from .services import notify_overdue_all, reroute_all

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="15"))
@leased("approvals-overdue")
def notify_overdue_steps() -> None:
    """Hourly; each overdue step is announced once (the request remembers the step)."""
    count = notify_overdue_all()
    if count:
        log.info("approvals: %d overdue approval step(s) notified", count)


@db_periodic_task(crontab(minute="*/10"))
def reroute_stuck() -> None:
    """Every 10 minutes: a step whose approvers can no longer decide it (a delegation came
    into force, a superuser flag was removed, a change the signals missed) falls back, and
    a flagged request goes to an HR admin or superuser who has appeared since. No lock:
    each request is re-read under a row lock and re-checked, so two sweeps agree."""
    moved = reroute_all()
    if moved:
        log.info("approvals: %d request(s) re-routed", moved)


@db_periodic_task(crontab(minute="*/10"))
@leased("approvals-digest")
def approver_digests() -> None:
    """Every 10 minutes: the approvers' daily digest, once a day each, at (or within two
    hours after) the time of the approver's attendance group (docs/reminders.md)."""
    sent = send_approver_digests()
    if sent:
        log.info("approvals: %d digest(s) sent", sent)
