"""(i) The punch-reminder scan at one minute's tick (issue 14): server time per tick and
queries per tick, on the company `python -m bench` created (09:00–18:00, Monday to
Friday, every employee in one group), spread over 20 departments, everyone with an
e-mail address and one person in ten with a Web Push device.

Ticks on Monday 2 November 2026 (Asia/Shanghai), as the Huey task runs them:

* 08:30 — nobody due (the check-in reminder starts 10 minutes before 09:00);
* 08:50 — everyone due: the tick finds them and queues one task per batch (department
  and slot time, ≤ 500 people); the workers then send each reminder to the inbox, by
  e-mail and Web Push (timed separately: "the workers then send …");
* 08:51 — everyone already reminded: nothing is sent.

Queries per tick must not grow with the number of employees: the 08:50 tick runs first on
the next day with a tenth of the people (the others' group has reminders off) and then
with everyone, and the two counts are compared — for the scan (who is due: a fixed
number of queries) and for the whole tick, whose writes (inbox, outbox and "reminded"
rows, in bulk) take one INSERT per batch of rows the database accepts in one statement
(on SQLite ~100 rows, its 999-parameter limit) and one `notify` per department and slot
time. Deliveries are queued for the worker, as in production, not sent inside the tick.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 2)
DEPARTMENTS = 20


def _prepare(employees: int) -> None:
    """Fixture data for the benchmark (bulk rows, not a user's write)."""
    from django.db import transaction

    from ztk.notifications.models import PushSubscription
    from ztk.org.models import Department, Employee

    with transaction.atomic():
        departments = Department.objects.bulk_create(
            [Department(code=f"R{i:02d}", name=f"提醒部{i}") for i in range(DEPARTMENTS)]
        )
        people = list(Employee.objects.order_by("pk").values_list("pk", "user_id"))
        for i, dept in enumerate(departments):
            ids = [pk for n, (pk, _u) in enumerate(people) if n % DEPARTMENTS == i]
            Employee.objects.filter(pk__in=ids).update(department=dept)
        for start in range(0, len(people), 2000):
            chunk = [pk for pk, _u in people[start : start + 2000]]
            Employee.objects.filter(pk__in=chunk).update(email="bench@example.com")
        PushSubscription.objects.bulk_create(
            [
                PushSubscription(
                    user_id=user_id,
                    endpoint=f"https://push.example.net/bench/{user_id}",
                    p256dh="B" + "A" * 86,
                    auth="A" * 22,
                )
                for n, (_pk, user_id) in enumerate(people)
                if n % 10 == 0
            ],
            batch_size=2000,
        )


def _tick(at: datetime) -> tuple[int, float, int, list[dict]]:
    """(people due, seconds, queries, batches) of one run of the periodic task's body: the
    scan, and each batch handed to the worker's queue (Huey's storage, as in production)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ztk.notifications.reminders import send_punch_reminders
    from ztk.notifications.tasks import punch_reminder_batch

    batches: list[dict] = []

    def enqueue(batch: dict) -> None:
        batches.append(batch)
        punch_reminder_batch(batch)

    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        sent = send_punch_reminders(now=at, enqueue=enqueue)
        seconds = time.perf_counter() - began
    return sent, seconds, len(queries), batches


def _work(batches: list[dict]) -> tuple[int, float, list[float]]:
    """What the workers then do: each batch sent (inbox, outbox, once-only rows), one
    after the other here (production runs HUEY_WORKERS of them side by side)."""
    from ztk.notifications.reminders import send_reminder_batch

    each: list[float] = []
    sent = 0
    began = time.perf_counter()
    for batch in batches:
        start = time.perf_counter()
        sent += send_reminder_batch(batch)
        each.append(time.perf_counter() - start)
    return sent, time.perf_counter() - began, each


def _scan(at: datetime) -> tuple[int, float, int]:
    """(people due, seconds, queries) of the scan alone: who is due, nothing written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ztk.notifications.reminders import punch_reminders_due

    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        due = punch_reminders_due(at)
        seconds = time.perf_counter() - began
    return len(due), seconds, len(queries)


def run(*, employees: int) -> dict[str, Any]:
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    from ztk.notifications.models import OutboxMessage, ReminderSettings
    from ztk.org.models import AttendanceGroup, Employee
    from ztk.scheduling.models import WeeklyPattern

    HUEY.immediate = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _prepare(employees)
    group = AttendanceGroup.objects.get(code="STD")

    def at(day: date, hh: int, mm: int) -> datetime:
        return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SH)

    print(f"\n(i) punch reminders at one minute's tick, {employees:,} employees")
    # A tenth of the people first (Tuesday): the others sit in a group with reminders off.
    quiet = AttendanceGroup.objects.create(code="OFF", name="不提醒组")
    ReminderSettings.objects.create(group=quiet, punch_in=False, punch_out=False)
    ids = list(Employee.objects.order_by("pk").values_list("pk", flat=True))
    tenth = set(ids[: max(len(ids) // 10, DEPARTMENTS)])  # spread over every department
    rest = [pk for pk in ids if pk not in tenth]
    for start in range(0, len(rest), 2000):
        Employee.objects.filter(pk__in=rest[start : start + 2000]).update(attendance_group=quiet)
    # the same weekly pattern for the quiet group (so that its people have slots too)
    pattern = WeeklyPattern.objects.filter(group=group).order_by("pk").first()
    if pattern is not None:
        pattern.pk = None
        pattern.group = quiet
        pattern.save()
    tuesday = MONDAY + timedelta(days=1)
    small_scan = _scan(at(tuesday, 8, 50))
    small_sent, small_s, small_q, small_batches = _tick(at(tuesday, 8, 50))
    _work(small_batches)
    for start in range(0, len(rest), 2000):
        Employee.objects.filter(pk__in=rest[start : start + 2000]).update(attendance_group=group)

    full_scan = _scan(at(MONDAY, 8, 50))
    results = {}
    results["08:30 nobody due"] = _tick(at(MONDAY, 8, 30))
    results["08:50 everyone due"] = _tick(at(MONDAY, 8, 50))
    worked, work_s, each = _work(results["08:50 everyone due"][3])
    results["08:51 everyone already reminded"] = _tick(at(MONDAY, 8, 51))
    rows = OutboxMessage.objects.count()
    print(f"  {'tick':<34} {'reminded':>9} {'server time':>12} {'queries':>8}")
    print(f"  {'08:50, a tenth (' + str(len(tenth)) + ')':<34} {small_sent:>9,} "
          f"{small_s * 1000:>9.0f} ms {small_q:>8}")  # fmt: skip
    for label, (sent, seconds, queries, _b) in results.items():
        print(f"  {label:<34} {sent:>9,} {seconds * 1000:>9.0f} ms {queries:>8}")
    batches = results["08:50 everyone due"][3]
    print(
        f"  the workers then send the {len(batches)} batches of 08:50: {worked:,} reminded in"
        f" {work_s:.2f} s one after the other (longest batch {max(each) * 1000:.0f} ms)"
    )
    print(f"  outbox rows queued for delivery: {rows:,} (e-mail and Web Push)")
    print("  the scan alone (who is due; nothing written):")
    for label, (due, seconds, queries) in (
        (f"08:50, a tenth ({len(tenth)})", small_scan),
        ("08:50, everyone", full_scan),
    ):
        print(f"  {label:<34} {due:>9,} {seconds * 1000:>9.0f} ms {queries:>8}")
    full_sent, full_s, full_q, _batches = results["08:50 everyone due"]
    idle_s = max(results["08:30 nobody due"][1], results["08:51 everyone already reminded"][1])
    constant = full_scan[2] == small_scan[2]
    return {
        "scan_s": full_scan[1],
        "scan_queries": (small_scan[2], full_scan[2]),
        "tick_due_s": full_s,
        "tick_idle_s": idle_s,
        "work_s": work_s,
        "batches": len(batches),
        "batch_max_s": max(each),
        "queries_small": small_q,
        "queries_full": full_q,
        "sent": full_sent,
        "constant": constant,
        "scan_ok": full_scan[1] <= 1.0 and constant,
        "ok": full_s <= 1.0,
    }
