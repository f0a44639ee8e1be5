"""Demo attendance: shifts, a night-shift group and punches from 1 October to yesterday.

October 2026 holds the National Day holiday (1–7 Oct) and a make-up working Saturday
(10 Oct), so the calendar shows both. Anomalies are seeded on purpose: forgotten punches,
late arrivals and an early leave — including recent ones for the `employee` login, whose
October shows every status (``SHOWCASE``; the correction requests on two of its days are
filed by ``ztk.ops.demo``, corrections being above attendance).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from ztk.engine import slot_windows
from ztk.org.models import AttendanceGroup, Employee
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.plans import build_plans

from .finalise import finalise_due
from .services import recompute_range

DEMO_START = date(2026, 10, 1)
NIGHT_WORKERS = ["3002", "3003", "3004", "3005", "3006"]
# The oversight demo (ztk/oversight/demo.py): these people forget to check in on these
# weekdays (0 = Monday) of the last FORGET_DAYS days, then file corrections for them.
FORGETFUL = {"1003": (0, 2, 4), "1004": (1, 3), "1005": (1, 4)}
FORGET_DAYS = 40
# The early-warning demo: two of 运营部 forget every check-in of the last SPIKE_DAYS days, a
# jump of the department's anomalies against its own weeks before (department_jump); they
# file corrections for some of them (ztk/oversight/demo.py).
SPIKE = ("3001", "3007")
SPIKE_DAYS = 10


def forgets_check_in(employee_no: str, day: date, end: date) -> bool:
    """Whether the oversight demo's forgetful ``employee_no`` forgot ``day``'s check-in."""
    if employee_no in SPIKE:
        return 0 <= (end - day).days < SPIKE_DAYS
    weekdays = FORGETFUL.get(employee_no, ())
    return day.weekday() in weekdays and 3 <= (end - day).days < FORGET_DAYS


DEMO_EMPLOYEE = "1002"  # the `employee` login
# The demo employee's October, beside its normal days, rest days, the holiday and the 调休
# Saturday: one day of each anomaly. 16 October gets an approved correction (补卡) and 19
# October one still pending (ztk.ops.demo).
CORRECTED_DAY = date(2026, 10, 16)
PENDING_DAY = date(2026, 10, 19)
SHOWCASE: dict[date, dict[str, str]] = {  # "ok": on time, whatever the dice say
    date(2026, 10, 12): {"in1": "late", "out1": "ok"},
    date(2026, 10, 13): {"in1": "ok", "out1": "early"},
    date(2026, 10, 14): {"in1": "forgot", "out1": "ok"},  # a missing punch left as it is
    date(2026, 10, 15): {"in1": "forgot", "out1": "forgot"},  # absent
    CORRECTED_DAY: {"in1": "ok", "out1": "forgot"},
    PENDING_DAY: {"in1": "forgot", "out1": "ok"},
}


def _shifts():
    day, created = Shift.objects.get_or_create(code="DAY", defaults={"name": "白班 09:00-18:00"})
    if created:
        ShiftSegment.objects.create(shift=day, position=1, start=time(9), end=time(18))
    night, created = Shift.objects.get_or_create(
        code="NIGHT", defaults={"name": "夜班 22:00-06:00"}
    )
    if created:
        ShiftSegment.objects.create(shift=night, position=1, start=time(22), end=time(6))
    return day, night


def _pattern(group: AttendanceGroup, shift, weekend: bool = False) -> None:
    if WeeklyPattern.objects.filter(group=group).exists():
        return
    WeeklyPattern.objects.create(
        group=group,
        monday_shift=shift,
        tuesday_shift=shift,
        wednesday_shift=shift,
        thursday_shift=shift,
        friday_shift=shift,
        saturday_shift=shift if weekend else None,
        sunday_shift=None,
        default_workday_shift=shift,
    )


def _day_punches(rng: random.Random, plan, recent_special: dict) -> list[datetime]:
    """Punch times for one planned day, with the occasional anomaly."""
    out: list[datetime] = []
    for window in plan:
        kind, expected = window
        roll = rng.random()
        special = recent_special.get(kind)
        if special == "forgot":
            continue
        if kind.startswith("in"):
            if special == "late" or (special is None and roll < 0.04):
                offset = timedelta(minutes=rng.randint(6, 45))
            else:
                offset = -timedelta(minutes=rng.randint(1, 25))
        else:
            if special == "early" or (special is None and roll < 0.02):
                offset = -timedelta(minutes=rng.randint(10, 60))
            else:
                offset = timedelta(minutes=rng.randint(0, 50))
        if roll > 0.985 and special is None:
            continue  # forgot
        out.append(expected + offset + timedelta(seconds=rng.randint(0, 59)))
    return out


@transaction.atomic
def load_attendance_demo(*, today: date | None = None) -> int:
    """Idempotent: punches are deduplicated by key, shifts created once. Returns new punches."""
    today = today or timezone.localdate()
    day_shift, night_shift = _shifts()
    standard = AttendanceGroup.objects.filter(code="STD").first()
    if standard is None:
        return 0
    night, _ = AttendanceGroup.objects.get_or_create(code="NIGHT", defaults={"name": "夜班组"})
    _pattern(standard, day_shift)
    _pattern(night, night_shift, weekend=False)
    Employee.objects.filter(employee_no__in=NIGHT_WORKERS).update(attendance_group=night)

    employees = list(Employee.objects.select_related("attendance_group").filter(active=True))
    end = today - timedelta(days=1)
    if end < DEMO_START:
        return 0
    plans = build_plans(employees, DEMO_START, end)
    rng = random.Random(2026)
    recent = {(DEMO_EMPLOYEE, day): slots for day, slots in SHOWCASE.items()}
    recent.update(
        {  # the demo employee has something to correct in the last days
            (DEMO_EMPLOYEE, end): {"out1": "forgot"},
            (DEMO_EMPLOYEE, end - timedelta(days=1)): {"in1": "late"},
            (DEMO_EMPLOYEE, end - timedelta(days=2)): {"in1": "forgot"},
        }
    )
    items: list[PunchInput] = []
    for employee in employees:
        day = DEMO_START
        while day <= end:
            plan = plans.get((employee.pk, day))
            if plan is not None and plan.kind == "work":
                windows = [(w.key, w.expected) for w in slot_windows(plan)]
                special = recent.get((employee.employee_no, day), {})
                if forgets_check_in(employee.employee_no, day, end):
                    special = {"in1": "forgot"}
                for stamp in _day_punches(rng, windows, special):
                    items.append(
                        PunchInput(
                            at=stamp.astimezone(UTC),
                            source="device",
                            employee_id=employee.pk,
                            device_sn="DEMO-ZK-01",
                            pin=employee.employee_no,
                            verify_mode=15,
                        )
                    )
            day += timedelta(days=1)
    new = 0
    now = timezone.now()
    for i in range(0, len(items), 1000):
        # recompute=False: the whole range is recomputed right below, once.
        new += record_punches(
            items[i : i + 1000], now=now, audit_action="demo.punches", recompute=False
        ).new
    recompute_range(start=DEMO_START, end=today, now=now)
    finalise_due(now=now, lookback_days=(today - DEMO_START).days + 1)
    return new
