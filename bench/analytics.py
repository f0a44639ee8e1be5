"""(h) Analytics benchmark: the server time of every analytics view (/hr/analytics/…) and of
the trends API over 12 months, target ≤ 1 s each (issue 13: 10,000 employees × 12 months
and 50,000 requests).

The history is written as bulk rows — stored days (``AttendanceDay``, the engine's output
shape with random late / early / missing / absent), correction requests (5 per employee,
decided ones with their lead time and chain), field punches and one reminder sent — since
this times the reads; the engine and ingestion are timed by (a)–(d). From `make bench`
(``--only …h``) it adds the 12 months before October 2026 to the bench company; standalone
it builds its own SQLite file under var/bench-analytics/:

    python -m bench.analytics --employees 2000 --months 12 [--runs 3]

Each view is requested through Django's test client as an HR user (every figure of the
company, the largest scope), best of ``--runs`` — the time includes the queries, the chart
layout and the template, not the network.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench-analytics"
DB_PATH = BENCH_DIR / "analytics.sqlite3"
TZ = ZoneInfo("Asia/Shanghai")
LAST = date(2026, 9, 30)  # the history ends before the October of (a)–(f)
TARGET_SECONDS = 1.0
DEPARTMENTS = 20


def _line(label: str, value: str, target: str = "—", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"  {label:<46} {value:>16}   target {target}{mark}")


def first_day(months: int) -> date:
    year, month = LAST.year, LAST.month - months + 1
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def fill(months: int = 12, requests_per_employee: int = 5, seed: int = 13) -> dict:
    """Add ``months`` of stored days, requests and field punches for every employee."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from ztk.attendance.models import AttendanceDay
    from ztk.corrections.models import CorrectionRequest, ReasonCategory
    from ztk.notifications.models import ReminderSent
    from ztk.org.models import AttendanceGroup, Department, Employee
    from ztk.punches.models import Punch

    rng = random.Random(seed)
    began = time.perf_counter()
    now = timezone.now()
    start = first_day(months)
    people = list(
        Employee.objects.order_by("pk").values_list("pk", "user_id", "attendance_group_id")
    )
    with transaction.atomic():
        departments = [
            Department.objects.get_or_create(code=f"D{i:02d}", defaults={"name": f"部门{i:02d}"})[0]
            for i in range(DEPARTMENTS)
        ]
        other, _ = AttendanceGroup.objects.get_or_create(code="FLEX", defaults={"name": "弹性组"})
        for i, dept in enumerate(departments):
            ids = [pk for n, (pk, _u, _g) in enumerate(people) if n % DEPARTMENTS == i]
            Employee.objects.filter(pk__in=ids).update(department=dept)
        Employee.objects.filter(
            pk__in=[pk for n, (pk, _u, _g) in enumerate(people) if n % 5 == 0]
        ).update(attendance_group=other)
        people = [(pk, u, other.pk if n % 5 == 0 else g) for n, (pk, u, g) in enumerate(people)]
        categories = [
            ReasonCategory.objects.get_or_create(
                policy=None, code=code, defaults={"name": name, "order": order}
            )[0]
            for code, name, order in (("forgot", "忘记打卡", 10), ("device", "设备故障", 30),
                                      ("outside", "外出办事", 20))
        ]  # fmt: skip
        hr_user = get_user_model().objects.create(username="bench-hr", password="!")
        hr_user.groups.add(Group.objects.get_or_create(name="hr")[0])

    days_written = 0
    batch: list[AttendanceDay] = []
    day = start
    working = []
    while day <= LAST:
        if day.weekday() < 5:
            working.append(day)
        day += timedelta(days=1)
    for day in working:
        for pk, _user, _group in people:
            r = rng.random()
            counts = {}
            status = "normal"
            if r < 0.01:
                status, counts = "absent", {"absent_days": 1}
            elif r < 0.08:
                status = "abnormal"
                which = rng.random()
                if which < 0.5:
                    counts = {"late_count": 1, "late_minutes": rng.randint(1, 40)}
                elif which < 0.75:
                    counts = {"missing_out_count": 1}
                elif which < 0.9:
                    counts = {"missing_in_count": 1}
                else:
                    counts = {"early_count": 1, "early_minutes": rng.randint(1, 30)}
            batch.append(
                AttendanceDay(
                    employee_id=pk,
                    day=day,
                    kind="work",
                    status=status,
                    provisional=False,
                    finalised=True,
                    worked_minutes=480,
                    computed_at=now,
                    **counts,
                )
            )
            if len(batch) >= 5000:
                AttendanceDay.objects.bulk_create(batch, ignore_conflicts=True)
                days_written += len(batch)
                batch = []
    AttendanceDay.objects.bulk_create(batch, ignore_conflicts=True)
    days_written += len(batch)

    requests: list[CorrectionRequest] = []
    punches: list[Punch] = []
    n_requests = len(people) * requests_per_employee
    chain = [{"position": 1, "kind": "supervisor", "deadline_working_days": 2, "skipped": False}]
    for i in range(n_requests):
        pk, user_id, _group = people[rng.randrange(len(people))]
        d = working[rng.randrange(len(working))]
        created = datetime(d.year, d.month, d.day, 10, tzinfo=TZ) + timedelta(
            hours=rng.randint(0, 72)
        )
        status = rng.choice(("approved", "approved", "approved", "rejected", "pending"))
        decided = (
            created + timedelta(minutes=rng.randint(1, 60 * 24 * 5))
            if status != "pending"
            else None
        )
        requests.append(
            CorrectionRequest(
                employee_id=pk,
                applicant_id=user_id,
                date=d,
                slot_key=f"b{i}",
                slot_expected=datetime(d.year, d.month, d.day, rng.choice((9, 18)), tzinfo=TZ),
                requested_time=datetime(d.year, d.month, d.day, 9, tzinfo=TZ),
                category=categories[rng.randrange(len(categories))],
                reason="忘记打卡",
                channel=rng.choice(("web", "mobile", "mobile", "paper")),
                status=status,
                period_start=d.replace(day=1),
                decided_at=decided,
                chain=chain,
            )
        )
        if i % 4 == 0:
            punches.append(
                Punch(
                    employee_id=pk,
                    at=datetime(d.year, d.month, d.day, 9, rng.randint(0, 59), tzinfo=TZ),
                    source="mobile",
                    field_punch=True,
                    dedup_key=f"bench-field-{i}",
                )
            )
    CorrectionRequest.objects.bulk_create(requests, batch_size=2000)
    Punch.objects.bulk_create(punches, batch_size=2000)
    # Punch reminders from the middle of the range (issue 14 item 7): one in ten people a
    # day reminded before check-in, with its slot recorded as the sender does; 70 % then
    # punch on time, 15 % late, 15 % not at all.
    reminders: list[ReminderSent] = []
    reminded_punches: list[Punch] = []
    for d in working[len(working) // 2 :]:
        nine = datetime(d.year, d.month, d.day, 9, tzinfo=TZ)
        for pk, user_id, group_id in people:
            if rng.random() >= 0.1:
                continue
            reminders.append(
                ReminderSent(
                    user_id=user_id,
                    kind="punch_in",
                    day=d,
                    key="in1",
                    employee_id=pk,
                    group_id=group_id,
                    window_start=nine - timedelta(hours=2),
                    on_time_until=nine + timedelta(minutes=1),
                    window_end=nine + timedelta(hours=4, minutes=30),
                )
            )
            r = rng.random()
            if r < 0.85:
                at = nine + timedelta(minutes=rng.randint(-9, 0) if r < 0.7 else rng.randint(1, 60))
                reminded_punches.append(
                    Punch(employee_id=pk, at=at, source="device", dedup_key=f"bench-r-{pk}-{d}")
                )
    ReminderSent.objects.bulk_create(reminders, batch_size=2000)
    Punch.objects.bulk_create(reminded_punches, batch_size=2000)
    with connection.cursor() as cursor:  # planner statistics, as a live database has them
        cursor.execute("ANALYZE")
    return {
        "employees": len(people),
        "days": days_written,
        "requests": n_requests,
        "field_punches": len(punches),
        "reminders": len(reminders),
        "start": start,
        "end": LAST,
        "fill_s": round(time.perf_counter() - began, 1),
    }


def _filled(months: int) -> dict:
    """What ``fill`` wrote, read back (``--reuse``)."""
    from ztk.attendance.models import AttendanceDay
    from ztk.corrections.models import CorrectionRequest
    from ztk.notifications.models import ReminderSent
    from ztk.org.models import Employee
    from ztk.punches.models import Punch

    return {
        "employees": Employee.objects.count(),
        "days": AttendanceDay.objects.count(),
        "requests": CorrectionRequest.objects.count(),
        "field_punches": Punch.objects.filter(field_punch=True).count(),
        "reminders": ReminderSent.objects.count(),
        "start": first_day(months),
        "end": LAST,
        "fill_s": 0,
    }


def views(start: date, end: date) -> list[tuple[str, str]]:
    r = f"from={start}&to={end}"
    page, api = "/hr/analytics", "/api/v1/analytics/trends"
    month = f"from={end.replace(day=1)}&to={end}"
    return [
        ("trends, missing, by week", f"{page}/?metric=missing&period=week&{r}"),
        ("trends, late, by month per department",
         f"{page}/?metric=late&by=department&period=month&{r}"),
        ("trends, field punches, by week per group", f"{page}/?metric=field&by=group&{r}"),
        ("corrections by category / channel", f"{page}/corrections/?period=month&{r}"),
        ("approval lead time vs SLA, by week", f"{page}/approvals/?{r}"),
        ("reminders before / after", f"{page}/reminders/"),
        ("reminders per group + sent → punched, by month",
         f"{page}/reminders/?period=month&{r}"),
        ("days of the week and hours", f"{page}/patterns/?{r}"),
        ("drill-down: one month's late arrivals", f"{page}/people/?metric=late&by=all&{month}"),
        ("API trends, missing by department", f"{api}?metric=missing&by=department&{r}"),
        ("API trends, lead time by month", f"{api}?metric=lead_time&period=month&{r}"),
        ("API reminder sent → punched, by group, month",
         f"{api}?metric=reminder_punched&by=group&interval=month&{r}"),
    ]  # fmt: skip


def run(
    months: int = 12,
    runs: int = 3,
    quiet: bool = False,
    requests_per_employee: int = 5,
    refill: bool = True,
) -> dict:
    """Fill the history, then time each view (best of ``runs``) on the database Django is
    set up with."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    filled = fill(months, requests_per_employee) if refill else _filled(months)
    setup_test_environment()
    # the pages name their static files; no collectstatic manifest in a bench database
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override = override_settings(STORAGES=storages)
    override.enable()
    client = Client(headers={"Accept-Language": "zh-hans"})
    client.force_login(get_user_model().objects.get(username="bench-hr"))
    timings: dict[str, float] = {}
    if not quiet:
        print(
            f"\n(h) analytics, {filled['employees']:,} employees × {months} months: "
            f"{filled['days']:,} stored days, {filled['requests']:,} requests, "
            f"{filled['field_punches']:,} field punches, {filled['reminders']:,} punch reminders "
            f"(written in {filled['fill_s']} s)"
        )
    for label, url in views(filled["start"], filled["end"]):
        best = float("inf")
        for _ in range(runs):
            began = time.perf_counter()
            response = client.get(url, HTTP_HOST="localhost")
            best = min(best, time.perf_counter() - began)
            assert response.status_code == 200, (url, response.status_code)
        timings[label] = best
        if not quiet:
            _line(label, f"{best * 1000:,.0f} ms", "≤ 1 s", best <= TARGET_SECONDS)
    slowest = max(timings.values())
    return {
        **filled,
        "timings_ms": {k: round(v * 1000) for k, v in timings.items()},
        "slowest_s": round(slowest, 3),
        "ok": slowest <= TARGET_SECONDS,
    }


def _standalone(employees: int, months: int, runs: int, reuse: bool = False) -> None:
    reuse = reuse and DB_PATH.exists()
    if BENCH_DIR.exists() and not reuse:
        shutil.rmtree(BENCH_DIR)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{DB_PATH}")
    os.environ["ZTK_VAR_DIR"] = str(BENCH_DIR)
    os.environ["HUEY_IMMEDIATE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench import setup as S

    print(
        f"ZTK analytics bench — {os.environ['DATABASE_URL'].split(':')[0]}, {employees:,} employees"
    )
    if not reuse:
        S.create_company(employees)
    run(months, runs, refill=not reuse)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics")
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3, help="each view: best of N")
    parser.add_argument(
        "--reuse", action="store_true", help="time again on the database of the last run"
    )
    args = parser.parse_args()
    _standalone(args.employees, args.months, args.runs, args.reuse)


if __name__ == "__main__":
    main()
