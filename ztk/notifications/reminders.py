"""Reminders that prevent missed punches (docs/reminders.md): before each expected check-in
and at each check-out, to the people who have not punched yet.

Set-based: one run reads the groups' settings, the people of the groups that are awake,
their plans (``scheduling.plans.build_plans``, the engine's own plan resolution and
windows), the reminders already sent, their punches and exemptions — a fixed number of
queries whatever the number of employees — and sends one message per batch of people
with the same text (same slot time, same department), through ``services.notify``.
Each (person, attendance date, slot) is reminded once (``ReminderSent``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ztk import engine
from ztk.org.models import AttendanceGroup, Department, Employee
from ztk.org.zones import zone_names
from ztk.punches.models import Punch
from ztk.scheduling.plans import build_plans, exemptions_for

from .models import (
    NotificationKind,
    ReminderKind,
    ReminderOptOut,
    ReminderSent,
    ReminderSettings,
)
from .services import notify

# A check-out reminder is still sent this long after the check-out time (a worker that was
# down for a few minutes catches up); after that it would no longer help.
CHECKOUT_CATCH_UP = timedelta(minutes=30)
# Above this many ids, filter by time only (SQLite's bound-parameter limit; see plans.py).
_MAX_IN_IDS = 900


@dataclass(frozen=True)
class GroupReminders:
    group_id: int
    zone: ZoneInfo
    settings: ReminderSettings


def group_settings(group_ids: Iterable[int] | None = None) -> dict[int, GroupReminders]:
    """Every active group's reminder settings (the defaults for a group without a row) with
    its time zone: two queries, plus the company row when some group has no zone."""
    groups = AttendanceGroup.objects.filter(active=True)
    if group_ids is not None:
        groups = groups.filter(pk__in=list(group_ids))
    rows = list(groups.values_list("pk", "time_zone"))
    saved = {
        s.group_id: s for s in ReminderSettings.objects.filter(group_id__in=[r[0] for r in rows])
    }
    names = zone_names([tz for _pk, tz in rows])
    return {
        pk: GroupReminders(pk, ZoneInfo(names[tz]), saved.get(pk) or ReminderSettings(group_id=pk))
        for pk, tz in rows
    }


def opted_out(kinds: Sequence[str], user_ids: Iterable[int] | None = None) -> set[tuple[int, str]]:
    """(user id, kind) of everyone who switched one of `kinds` off: one query."""
    qs = ReminderOptOut.objects.filter(kind__in=list(kinds))
    if user_ids is not None:
        ids = list(user_ids)
        if len(ids) <= _MAX_IN_IDS:
            qs = qs.filter(user_id__in=ids)
    return set(qs.values_list("user_id", "kind"))


def url_of(name: str, *args: Any) -> str:
    """A page's path, or "" when pages are not mounted (an API-only deployment)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class Due:
    """One slot of one person's day whose reminder is due now."""

    employee_id: int
    user_id: int
    department_id: int | None
    day: date
    window: Any  # engine.SlotWindow
    kind: str  # ReminderKind.PUNCH_IN | PUNCH_OUT
    zone: ZoneInfo
    group_id: int | None = None


def _due_windows(plan: engine.DayPlan, now: datetime, lead: timedelta) -> list[tuple[Any, str]]:
    """The windows of a plan whose reminder is due at `now`: a check-in from `lead` before
    its expected time until it; a check-out from its time for CHECKOUT_CATCH_UP."""
    found = []
    for window in engine.slot_windows(plan):
        if window.kind == "in" and window.expected - lead <= now < window.expected:
            found.append((window, ReminderKind.PUNCH_IN.value))
        elif window.kind == "out" and window.expected <= now < min(
            window.expected + CHECKOUT_CATCH_UP, window.end
        ):
            found.append((window, ReminderKind.PUNCH_OUT.value))
    return found


def _covered(window: Any, exemptions: Sequence[engine.Exemption]) -> bool:
    """The engine's rule: an exemption covers a slot when it contains the expected time."""
    t = window.expected
    if window.kind == "in":
        return any(e.start <= t < e.end for e in exemptions)
    return any(e.start < t <= e.end for e in exemptions)


def works_in_quiet_hours(window: Any, reminders: GroupReminders) -> bool:
    """Whether the shift works through the quiet hours at this slot: the first worked minute
    after a check-in, or the last one before a check-out, lies in them. Quiet hours protect
    rest, not work: a night shift's check-out at 06:00 is still reminded, while a day
    shift's check-in reminder that HR placed in the quiet hours stays silent."""
    worked = window.expected if window.kind == "in" else window.expected - timedelta(minutes=1)
    return reminders.settings.is_quiet(worked.astimezone(reminders.zone).time())


def punch_reminders_due(now: datetime) -> list[Due]:
    """Who is to be reminded at `now`, and of which slot (nothing is written)."""
    kinds = (ReminderKind.PUNCH_IN.value, ReminderKind.PUNCH_OUT.value)
    groups = {
        pk: g for pk, g in group_settings().items() if g.settings.punch_in or g.settings.punch_out
    }
    # Groups in their quiet hours now still remind the slots of shifts that work in them.
    quiet_now = {
        pk for pk, g in groups.items() if g.settings.is_quiet(now.astimezone(g.zone).time())
    }
    if not groups:
        return []
    people = list(
        Employee.objects.filter(
            attendance_group_id__in=list(groups), active=True, user__is_active=True
        )
        .order_by()
        .values_list(
            "pk", "attendance_group_id", "user_id", "department_id", "hire_date", "leave_date"
        )
    )
    if not people:
        return []
    # The attendance dates that may hold a slot due now, in every group's zone.
    local_dates = {now.astimezone(g.zone).date() for g in groups.values()}
    first, last = min(local_dates) - timedelta(days=1), max(local_dates)

    @dataclass(frozen=True)
    class Subject:
        pk: int
        attendance_group_id: int

    plans = build_plans([Subject(p[0], p[1]) for p in people], first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    # Plans are shared between people (one object per group, date and shift): the due
    # windows are worked out once per plan.
    due_of_plan: dict[int, list[tuple[Any, str]]] = {}
    candidates: list[Due] = []
    for pk, group_id, user_id, department_id, hired, left in people:
        reminders = groups[group_id]
        lead = timedelta(minutes=reminders.settings.punch_in_minutes)
        for day in days:
            if (hired and day < hired) or (left and day > left):
                continue
            plan = plans.get((pk, day))
            if plan is None or plan.kind != "work":
                continue  # rest days and holidays have no slots
            windows = due_of_plan.get(id(plan))
            if windows is None:
                windows = _due_windows(plan, now, lead)
                if group_id in quiet_now:  # a plan is one group's: filtered once per plan
                    windows = [w for w in windows if works_in_quiet_hours(w[0], reminders)]
                due_of_plan[id(plan)] = windows
            for window, kind in windows:
                if reminders.settings.enabled(kind):
                    candidates.append(
                        Due(pk, user_id, department_id, day, window, kind, reminders.zone, group_id)
                    )
    if not candidates:
        return []
    ids = sorted({c.employee_id for c in candidates})
    user_ids = {c.user_id for c in candidates}
    out = opted_out(kinds, user_ids)
    sent = set(
        ReminderSent.objects.filter(kind__in=kinds, day__gte=first, day__lte=last)
        .filter(**({"user_id__in": list(user_ids)} if len(user_ids) <= _MAX_IN_IDS else {}))
        .values_list("user_id", "day", "key")
    )
    earliest = min(c.window.start for c in candidates)
    punches = Punch.objects.filter(at__gte=earliest, at__lte=now, void__isnull=True).order_by()
    if len(ids) <= _MAX_IN_IDS:
        punches = punches.filter(employee_id__in=ids)
    punched: dict[int, list[datetime]] = defaultdict(list)
    wanted = set(ids)
    for employee_id, at in punches.values_list("employee_id", "at"):
        if employee_id in wanted:
            punched[employee_id].append(at)
    exemptions = exemptions_for(ids, first, last)
    due = []
    for c in candidates:
        if (c.user_id, c.kind) in out or (c.user_id, c.day, c.window.key) in sent:
            continue
        if any(c.window.start <= at <= now for at in punched.get(c.employee_id, ())):
            continue  # punched in this slot's window already
        if _covered(c.window, exemptions.get((c.employee_id, c.day), ())):
            continue  # leave, business trip … (exemptions)
        due.append(c)
    return due


def _texts(kind: str) -> tuple[Any, Any]:
    """Title and body templates (``notify`` renders them in every language)."""
    if kind == ReminderKind.PUNCH_IN:
        return (
            gettext_lazy("Check in by %(time)s"),
            gettext_lazy(
                "Your shift starts at %(time)s and you have not checked in yet. Punch now."
            ),
        )
    return (
        gettext_lazy("Time to check out (%(time)s)"),
        gettext_lazy("Your shift ended at %(time)s and you have not checked out yet. Punch now."),
    )


def slot_record(d: Due) -> list[Any]:
    """What a ``ReminderSent`` keeps of the reminded slot, as plain data a queued batch
    carries: employee, group, and the window's start, on-time bound and end (UTC ISO; the
    bounds are the engine's, ``SlotWindow.on_time_until`` and ``end_exclusive``)."""
    w = d.window
    return [
        d.employee_id,
        d.group_id,
        w.start.astimezone(UTC).isoformat(),
        w.on_time_until().astimezone(UTC).isoformat(),
        w.end_exclusive().astimezone(UTC).isoformat(),
    ]


def _slot_fields(extra: Sequence[Any]) -> dict[str, Any]:
    if len(extra) != 5:
        return {}
    employee_id, group_id, start, on_time, end = extra
    return {
        "employee_id": employee_id,
        "group_id": group_id,
        "window_start": datetime.fromisoformat(start),
        "on_time_until": datetime.fromisoformat(on_time),
        "window_end": datetime.fromisoformat(end),
    }


# People per batch handed to the worker: several workers share a minute with many people due.
BATCH_PEOPLE = 500


def reminder_batches(due: list[Due]) -> list[dict[str, Any]]:
    """The sends of one tick, as plain data a queued task can carry: one per (kind, slot
    time, zone, department), at most BATCH_PEOPLE people each, in slot-time order."""
    groups: dict[tuple[str, datetime, str, int | None], list[Due]] = defaultdict(list)
    for d in due:
        groups[(d.kind, d.window.expected, d.zone.key, d.department_id)].append(d)
    batches = []
    for (kind, expected, zone, department_id), rows in sorted(
        groups.items(), key=lambda item: (item[0][1], item[0][0], item[0][3] or 0)
    ):
        for start in range(0, len(rows), BATCH_PEOPLE):
            batches.append(
                {
                    "kind": kind,
                    "expected": expected.astimezone(UTC).isoformat(),
                    "zone": zone,
                    "department": department_id,
                    "people": [
                        [
                            d.user_id,
                            d.day.isoformat(),
                            d.window.key,
                            *slot_record(d),
                        ]
                        for d in rows[start : start + BATCH_PEOPLE]
                    ],
                }
            )
    return batches


def send_reminder_batch(batch: dict[str, Any]) -> int:
    """Send one batch (`reminder_batches`): each person once — those another run reminded
    meanwhile are left out (and a concurrent run backs off on the unique constraint).
    Returns how many were reminded."""
    kind = str(batch["kind"])
    expected = datetime.fromisoformat(batch["expected"])
    zone = ZoneInfo(batch["zone"])
    people = [(int(row[0]), date.fromisoformat(row[1]), str(row[2])) for row in batch["people"]]
    # What ties each reminder to its slot (``slot_record``); a batch queued before it was
    # carried (three items per person) records none.
    slots = {
        (int(row[0]), date.fromisoformat(row[1]), str(row[2])): _slot_fields(row[3:])
        for row in batch["people"]
    }
    if not people:
        return 0
    days = {day for _u, day, _k in people}
    already = set(
        ReminderSent.objects.filter(
            kind=kind, day__in=days, user_id__in=[u for u, _d, _k in people]
        ).values_list("user_id", "day", "key")
    )
    people = [p for p in people if p not in already]
    if not people:
        return 0
    users = get_user_model().objects.in_bulk([u for u, _d, _k in people])
    department_id = batch.get("department")
    department = Department.objects.filter(pk=department_id).first() if department_id else None
    title, body = _texts(kind)
    try:
        with transaction.atomic():
            # The rows first: the unique constraint makes a concurrent run back off.
            ReminderSent.objects.bulk_create(
                [
                    ReminderSent(user_id=u, kind=kind, day=day, key=key, **slots[(u, day, key)])
                    for u, day, key in people
                ]
            )
            sent = notify(
                kind=NotificationKind.PUNCH_REMINDER,
                recipients=[users[u] for u, _d, _k in people if u in users],
                title=title,
                body=body,
                params={"time": expected.astimezone(zone).strftime("%H:%M")},
                url=url_of("attendance:home"),
                data={"reminder": kind, "expected": expected.astimezone(UTC).isoformat()},
                department=department,
            )
    except IntegrityError:
        return 0  # another run reminded them at the same moment
    return len(sent)


def send_punch_reminders(
    *, now: datetime | None = None, enqueue: Callable[[dict[str, Any]], Any] | None = None
) -> int:
    """Send every punch reminder due at `now`; returns how many people are to be reminded.

    With `enqueue` (the periodic task passes its queued task), each batch is handed to the
    worker's queue instead of being sent here, so that a minute with thousands due stays a
    short tick and the workers share the writes (docs/reminders.md "Measured")."""
    now = now or timezone.now()
    due = punch_reminders_due(now)
    if not due:
        return 0
    count = 0
    for batch in reminder_batches(due):
        if enqueue is not None:
            enqueue(batch)
            count += len(batch["people"])
        else:
            count += send_reminder_batch(batch)
    return count
