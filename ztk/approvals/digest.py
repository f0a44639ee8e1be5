"""The approvers' daily digest (docs/reminders.md): once a day, at the hour of the
approver's attendance group, each approver with steps waiting gets one message listing
them in the one queue order (``selectors.queue_order``: overdue first, by the SLA
deadlines of ``sla.Deadlines``).

Who waits for whom is the machinery's rule (``rules.may_decide``): the named approvers of a
step, their delegates in force today, any HR admin on an HR step, any superuser on a
superuser step, either on a flagged one; never the request's participants. Read set-based
per request type: the pending requests with their approvers, one calendar read, the
delegations, the HR admins and superusers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ztk.notifications.models import (
    NotificationKind,
    ReminderKind,
    ReminderSent,
    ReminderSettings,
)
from ztk.notifications.reminders import group_settings, opted_out
from ztk.notifications.services import notify
from ztk.org.models import Employee
from ztk.org.roles import HR
from ztk.org.zones import zone_names

from . import routing
from .models import Delegation
from .registry import registered
from .selectors import QueueEntry, queue_key
from .sla import Deadlines

# The digest goes out at the group's time, or within this long after it (a worker that was
# down catches up); later that day it is skipped.
CATCH_UP = timedelta(hours=2)
MAX_LISTED = 20

User = get_user_model()


def _waiting(now: datetime) -> dict[int, list[tuple[QueueEntry[Any], str]]]:
    """Per user id: the steps waiting for them, as queue entries with a line of text."""
    today = timezone.localdate(now)
    delegates: dict[int, set[int]] = defaultdict(set)
    for approver, delegate in Delegation.objects.filter(
        start__lte=today, end__gte=today
    ).values_list("approver_id", "delegate_id"):
        delegates[approver].add(delegate)
    hr = set(User.objects.filter(groups__name=HR, is_active=True).values_list("pk", flat=True))
    superusers = set(
        User.objects.filter(is_superuser=True, is_active=True).values_list("pk", flat=True)
    )
    found: dict[int, list[tuple[QueueEntry[Any], str]]] = defaultdict(list)
    for d in registered():
        requests = list(
            d.pending()
            .filter(current_step__isnull=False)
            .prefetch_related("current_approvers")
            .order_by("pk")
        )
        if not requests:
            continue
        deadlines = Deadlines((r.step_started_at for r in requests), now)
        describe = getattr(d, "describe", None)
        for req in requests:
            step = req.step() or {}
            due = deadlines.of(
                req.step_started_at, int(step.get("deadline_working_days") or 1), d.zone(req)
            )
            kind = req.current_kind
            who: set[int] = set()
            if kind in (routing.HR, routing.OVERSIGHT):
                who |= hr
            if kind in (routing.SUPERUSER, routing.OVERSIGHT):
                who |= superusers
            if kind not in routing.ROLE_KINDS:
                named = {u.pk for u in req.current_approvers.all()}
                who |= named
                for approver in named:
                    who |= delegates.get(approver, set())
            who -= d.participants(req)
            entry = QueueEntry(req, req.pk, bool(getattr(req, "expedited", False)),
                               req.step_started_at, due)  # fmt: skip
            overdue = due is not None and now >= due
            text = describe(req) if describe else f"#{req.pk}"
            line = f"{'‼ ' if overdue else ''}{text}"
            for user_id in who:
                found[user_id].append((entry, line))
    return found


def waiting_steps(now: datetime) -> dict[int, list[tuple[QueueEntry[Any], str]]]:
    """Per user id: the steps waiting for them (entries with their SLA deadline and a line
    of text) — the digest's rule, also read by the early warnings (overdue pile-ups)."""
    return _waiting(now)


def send_approver_digests(*, now: datetime | None = None) -> int:
    """Send each approver's digest if their group's digest time has come today and it was
    not sent yet; returns how many were sent."""
    now = now or timezone.now()
    kind = ReminderKind.DIGEST.value
    waiting = _waiting(now)
    if not waiting:
        return 0
    out = opted_out([kind], waiting)
    groups_of = dict(
        Employee.objects.filter(user_id__in=list(waiting), active=True).values_list(
            "user_id", "attendance_group_id"
        )
    )
    settings = group_settings({g for g in groups_of.values() if g is not None})
    default_zone = zone_names([None])[None]
    users = {u.pk: u for u in User.objects.filter(pk__in=list(waiting), is_active=True)}
    due: list[tuple[int, Any]] = []
    for user_id in waiting:
        if (user_id, kind) in out or user_id not in users:
            continue
        group = settings.get(groups_of.get(user_id) or 0)
        if group is not None:
            s, zone = group.settings, group.zone
        else:  # no employee or no group: the defaults in the company's zone
            s, zone = ReminderSettings(), ZoneInfo(default_zone)
        local = now.astimezone(zone)
        start = local.replace(
            hour=s.digest_time.hour, minute=s.digest_time.minute, second=0, microsecond=0
        )
        if not s.digest or not start <= local < start + CATCH_UP or s.is_quiet(local.time()):
            continue
        due.append((user_id, local.date()))
    if not due:
        return 0
    sent_before = set(
        ReminderSent.objects.filter(kind=kind, day__in={day for _u, day in due}).values_list(
            "user_id", "day"
        )
    )
    count = 0
    for user_id, day in due:
        if (user_id, day) in sent_before:
            continue
        items = sorted(waiting[user_id], key=lambda e: queue_key(e[0], now))
        lines = [line for _entry, line in items[:MAX_LISTED]]
        if len(items) > MAX_LISTED:
            lines.append("…")
        overdue = sum(1 for e, _l in items if e.deadline is not None and now >= e.deadline)
        try:
            with transaction.atomic():
                ReminderSent.objects.create(user_id=user_id, kind=kind, day=day)
                sent = notify(
                    kind=NotificationKind.APPROVAL_DIGEST,
                    recipients=[users[user_id]],
                    title=gettext_lazy("%(n)s requests wait for your approval"),
                    body=gettext_lazy("%(overdue)s of them are overdue (marked ‼), listed first:"),
                    params={"n": len(items), "overdue": overdue},
                    suffix="\n" + "\n".join(lines),
                    url=_inbox_url(),
                    data={"requests": [e.pk for e, _l in items], "overdue": overdue},
                )
        except IntegrityError:
            continue
        count += len(sent)
    return count


def _inbox_url() -> str:
    for d in registered():
        url = getattr(d, "inbox_url", None)
        if url:
            return str(url() if callable(url) else url)
    return ""
