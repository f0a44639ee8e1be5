"""Demo data for the oversight findings, so each rule shows on a fresh ``make run``.

After the demo attendance (``attendance.demo``: the forgetful people of ``FORGETFUL`` did
not check in on some days of the last weeks):

- **a frequent corrector**: 1003 files a correction for every forgotten check-in, up to the
  monthly limit; 1004 and 1005 file at most two a period — 1003 stands out in the group;
- **a rubber-stamp approver**: their supervisor (the ``manager`` login, 1001) approves every
  one of those requests within seconds of each other;
- **a buddy-punch pair**: 2003 and 2004 check in on the same terminal three seconds apart on
  the working days of the last three weeks (an extra, earlier punch: their days stay normal).

Everything goes through the real services (submit, approve, record punches), then the
rules run once. Idempotent: it does nothing when the demo's requests already exist.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from ztk.attendance.demo import FORGET_DAYS, FORGETFUL, forgets_check_in
from ztk.core.errors import DomainError
from ztk.corrections.models import CorrectionRequest, Status
from ztk.corrections.services import ItemIn, correction_approve, correction_submit
from ztk.engine.periods import period_of
from ztk.org.models import Employee
from ztk.org.selectors import period_start_day
from ztk.org.zones import employee_zone
from ztk.punches.services import PunchInput, record_punches

from .services import findings_run

CORRECTOR = "1003"
LIMIT_OTHERS = 2  # the other forgetful people correct at most this many a period
BUDDIES = ("2003", "2004")
BUDDY_DAYS = 21
REASONS = ["早上忘记打卡了", "到公司后忘记打卡", "上班太匆忙，没有打卡", "手机没电，未能打卡"]


def _file_corrections(people: dict[str, Employee], end: date) -> list[CorrectionRequest]:
    start_day = period_start_day()
    filed: list[CorrectionRequest] = []
    for number in FORGETFUL:
        employee = people.get(number)
        if employee is None or employee.user is None:
            continue
        zone = employee_zone(employee)
        per_period: dict[date, int] = {}
        for back in range(FORGET_DAYS, 2, -1):
            day = end - timedelta(days=back)
            period = period_of(day, start_day)[0]
            if not forgets_check_in(number, day, end):
                continue
            if number != CORRECTOR and per_period.get(period, 0) >= LIMIT_OTHERS:
                continue  # the others leave the rest of the period's misses alone
            item = ItemIn(
                day=day,
                slot_key="in1",
                requested_time=datetime.combine(day, time(8, 57), tzinfo=zone),
                category="forgot",
                reason=REASONS[len(filed) % len(REASONS)],
            )
            now = datetime.combine(day + timedelta(days=1), time(9, 30), tzinfo=zone)
            try:
                requests = correction_submit(
                    actor=employee.user, employee=employee, items=[item], now=now
                )
            except DomainError:
                continue  # the monthly limit is reached, or the day was not missing
            per_period[period] = per_period.get(period, 0) + 1
            filed.extend(requests)
    return filed


def _buddy_punches(people: dict[str, Employee], end: date) -> int:
    first, second = (people.get(n) for n in BUDDIES)
    if first is None or second is None:
        return 0
    zone: ZoneInfo = employee_zone(first)
    items: list[PunchInput] = []
    for back in range(BUDDY_DAYS, 0, -1):
        day = end - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        stamp = datetime.combine(day, time(8, 41, 10 + back), tzinfo=zone).astimezone(UTC)
        for employee, offset in ((first, 0), (second, 3)):
            items.append(
                PunchInput(
                    at=stamp + timedelta(seconds=offset),
                    source="device",
                    employee_id=employee.pk,
                    device_sn="DEMO-ZK-01",
                    pin=employee.employee_no,
                    verify_mode=1,
                )
            )
    return record_punches(items, audit_action="demo.punches").new


def load_oversight_demo(*, today: date | None = None) -> dict[str, int]:
    """Load the three patterns and run the rules once; returns what was done."""
    today = today or timezone.localdate()
    end = today - timedelta(days=1)
    numbers = [*FORGETFUL, *BUDDIES]
    people = {
        e.employee_no: e
        for e in Employee.objects.select_related(
            "user", "attendance_group", "supervisor__user"
        ).filter(employee_no__in=numbers)
    }
    if CorrectionRequest.objects.filter(employee__employee_no__in=list(FORGETFUL)).exists():
        return {}
    filed = _file_corrections(people, end)
    approved = 0
    for request in filed:
        supervisor = request.employee.supervisor
        if supervisor is None or supervisor.user is None:
            continue
        request.refresh_from_db()
        if request.status != Status.PENDING:
            continue
        try:
            correction_approve(actor=supervisor.user, request=request)
        except DomainError:
            continue
        approved += 1
    punches = _buddy_punches(people, end)
    result = findings_run(actor=None)
    return {
        "corrections": len(filed),
        "approved": approved,
        "buddy_punches": punches,
        "findings": result.created,
    }
