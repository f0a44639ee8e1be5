"""(j) The nightly oversight findings run at scale (issue 13): N employees with M months of
punches (two a day on working days, a tenth of them phone punches with a position and the
audit event that carries their device), R correction requests spread over the months with
their submit and approve trail, then ``findings_run`` timed — target ≤ 60 s at 10,000
employees × 12 months and 50,000 requests. The early warnings' run is timed beside it.

Fixture rows are bulk-inserted (a benchmark's data, not a user's writes); the run itself
is the production service, as the nightly task calls it.

    make bench BENCH_ARGS="--only j --db sqlite --employees 2000 --findings-months 12 \\
        --findings-requests 10000"
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from . import setup as S

DEPARTMENTS = 20
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36"


def _months_back(today: date, months: int) -> date:
    year, month = today.year, today.month - months
    while month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1)


def fill(*, employees: int, months: int, requests: int, today: date, seed: int = 13) -> dict:
    """The company, its departments and the months of punches and requests."""
    from django.db import transaction

    from ztk.approvals.models import ActionKind
    from ztk.audit.models import AuditEvent
    from ztk.corrections.models import ApprovalAction, CorrectionRequest, ReasonCategory
    from ztk.engine.periods import period_of
    from ztk.org.models import Department, Employee
    from ztk.punches.models import Geofence, Punch

    rng = random.Random(seed)
    group = S.create_company(employees)
    Geofence.objects.create(
        code="HQ", name="总部", latitude=31.2304, longitude=121.4737, radius_m=300
    ).groups.set([group])
    departments = Department.objects.bulk_create(
        [Department(code=f"D{i:02d}", name=f"部门{i}") for i in range(DEPARTMENTS)]
    )
    people = list(Employee.objects.order_by("pk").values_list("pk", "user_id"))
    with transaction.atomic():
        for index, department in enumerate(departments):
            ids = [pk for pk, _u in people[index::DEPARTMENTS]]
            Employee.objects.filter(pk__in=ids).update(department=department)
            # the first of each department supervises the rest of it
            Employee.objects.filter(pk__in=ids[1:]).update(supervisor_id=ids[0])
    supervisor_of = dict(Employee.objects.values_list("pk", "supervisor__user_id"))
    start = _months_back(today, months)
    counts = {"punches": 0, "web_punches": 0, "requests": 0, "decisions": 0}

    punch_rows: list[Punch] = []
    events: list[AuditEvent] = []
    seq = 10**12  # far above the real chain's sequence (the run audits itself)

    def flush() -> None:
        nonlocal punch_rows, events
        Punch.objects.bulk_create(punch_rows, batch_size=5000)
        AuditEvent.objects.bulk_create(events, batch_size=5000)
        punch_rows, events = [], []

    day = start
    while day < today:
        if day.weekday() < 5:
            base = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
            for pk, _user in people:
                for hour in (0, 9):
                    at = base + timedelta(hours=hour, minutes=rng.randint(-30, 30),
                                          seconds=rng.randint(0, 59))  # fmt: skip
                    phone = rng.random() < 0.1
                    key = f"b:{pk}:{at.timestamp():.0f}"
                    if phone:
                        lat = 31.2304 + rng.uniform(-0.002, 0.002)
                        lon = 121.4737 + rng.uniform(-0.002, 0.002)
                        punch_rows.append(
                            Punch(
                                employee_id=pk,
                                at=at,
                                source="mobile",
                                latitude=lat,
                                longitude=lon,
                                accuracy_m=20.0,
                                inside_geofence=True,
                                dedup_key=key,
                            )  # fmt: skip
                        )
                        counts["web_punches"] += 1
                    else:
                        punch_rows.append(
                            Punch(
                                employee_id=pk,
                                at=at,
                                source="device",
                                device_sn="BENCH",
                                pin=str(pk),
                                dedup_key=key,
                            )  # fmt: skip
                        )
                    counts["punches"] += 1
            if len(punch_rows) >= 50_000:
                _flush_with_events(punch_rows, events, rng, seq_start=seq)
                seq += len(events)
                flush()
        day += timedelta(days=1)
    _flush_with_events(punch_rows, events, rng, seq_start=seq)
    flush()

    # the requests: spread over the months, most approved by the supervisor within minutes
    category = ReasonCategory.objects.filter(policy__isnull=True).first() or (
        ReasonCategory.objects.create(code="forgot", name="忘记打卡")
    )
    created = CorrectionRequest._meta.get_field("created_at")
    stamped = ApprovalAction._meta.get_field("at")
    created.auto_now_add = stamped.auto_now_add = False  # historical times (fixture rows)
    users = dict(people)
    days = (today - start).days
    reasons = ["忘记打卡", "早上忘记打卡了", "手机没电", "外出办事", "系统故障"]
    chosen: set[tuple[int, date]] = set()
    batch: list[CorrectionRequest] = []
    while len(chosen) < requests:
        pk, user_id = people[rng.randrange(len(people))]
        when = start + timedelta(days=rng.randrange(days))
        if (pk, when) in chosen or when.weekday() >= 5:
            continue
        chosen.add((pk, when))
        filed = datetime(when.year, when.month, when.day, 2, tzinfo=UTC) + timedelta(
            days=1, minutes=rng.randint(0, 600)
        )
        approver = supervisor_of.get(pk)
        batch.append(
            CorrectionRequest(
                employee_id=pk,
                applicant_id=user_id,
                date=when,
                slot_key="in1",
                requested_time=datetime(when.year, when.month, when.day, 0, 58, tzinfo=UTC),
                category=category,
                reason=rng.choice(reasons),
                channel="web",
                status="approved" if approver else "pending",
                period_start=period_of(when, 1)[0],
                created_at=filed,
                decided_at=filed + timedelta(minutes=rng.randint(1, 240)) if approver else None,
                decided_by_id=approver,
            )  # fmt: skip
        )
    with transaction.atomic():
        made = CorrectionRequest.objects.bulk_create(batch, batch_size=2000)
        actions: list[ApprovalAction] = []
        for request in made:
            actions.append(
                ApprovalAction(request=request, actor_id=request.applicant_id,
                               action=ActionKind.SUBMIT, at=request.created_at, step=1)
            )  # fmt: skip
            if request.decided_by_id:
                actions.append(
                    ApprovalAction(request=request, actor_id=request.decided_by_id,
                                   action=ActionKind.APPROVE, at=request.decided_at, step=1)
                )  # fmt: skip
        ApprovalAction.objects.bulk_create(actions, batch_size=5000)
    created.auto_now_add = stamped.auto_now_add = True
    counts["requests"] = len(made)
    counts["decisions"] = sum(1 for a in actions if a.action == ActionKind.APPROVE)
    del users
    return counts


def _flush_with_events(punches: list, events: list, rng: random.Random, *, seq_start: int):
    """Each phone punch gets its audit event (the device: the user agent) once inserted."""
    from ztk.audit.models import AuditEvent
    from ztk.punches.models import Punch

    phones = [p for p in punches if p.source == "mobile"]
    if not phones:
        return
    Punch.objects.bulk_create(phones, batch_size=5000)
    punches[:] = [p for p in punches if p.source != "mobile"]
    for n, p in enumerate(phones, start=seq_start + 1):
        agent = ANDROID if rng.random() < 0.002 else IPHONE  # a few switch phones
        events.append(
            AuditEvent(
                seq=n,
                at=p.at,
                action="punches.mobile_punch",
                object_type="punches.punch",
                object_id=str(p.pk),
                ip="10.0.0.1",
                user_agent=agent,
                prev_hash="0" * 64,
                hash=f"{n:064x}",
            )  # fmt: skip
        )


def run(*, employees: int, months: int, requests: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from ztk.oversight.services import findings_run
    from ztk.oversight.warning_services import warnings_run

    now = timezone.now()
    today = timezone.localdate(now)
    began = time.perf_counter()
    counts = fill(employees=employees, months=months, requests=requests, today=today)
    filled = time.perf_counter() - began
    print(f"\n(j) nightly oversight findings, {employees:,} employees × {months} months")
    print(f"  fixture rows: {counts} in {filled:.0f} s")
    with CaptureQueriesContext(connection) as queries:
        t0, cpu = time.perf_counter(), time.process_time()
        result = findings_run(actor=None, now=now)
        seconds = time.perf_counter() - t0
        cpu_s = time.process_time() - cpu
    print(f"  findings_run: {seconds:.2f} s (CPU {cpu_s:.2f} s), {len(queries)} queries")
    print(f"  findings: {result.created} new, by rule {result.by_rule}")
    t0 = time.perf_counter()
    warned = warnings_run(actor=None, now=now)
    warn_s = time.perf_counter() - t0
    print(f"  warnings_run: {warn_s:.2f} s, {warned.raised} raised ({warned.by_kind})")
    # the target scales with the work: ≤ 60 s at 10,000 employees (linear in people)
    budget = 60.0 * max(employees, 1) / 10_000
    return {
        "seconds": seconds,
        "budget": budget,
        "ok": seconds <= budget,
        "warnings_seconds": warn_s,
        "counts": counts,
        "queries": len(queries),
    }
