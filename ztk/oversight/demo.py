"""Demo data for the oversight findings, so each rule shows on a fresh ``make run``.

After the demo attendance (``attendance.demo``: the forgetful people of ``FORGETFUL`` did
not check in on some days of the last weeks):

- **a frequent corrector**: 1003 files a correction for every forgotten check-in, up to the
  monthly limit; 1004 and 1005 file at most two a period — 1003 stands out in the group;
- **a rubber-stamp approver**: their supervisor (the ``manager`` login, 1001) approves every
  one of those requests within seconds of each other;
- **a buddy-punch pair**: 2003 and 2004 check in on the same terminal three seconds apart on
  the working days of the last three weeks (an extra, earlier punch: their days stay normal).

And for the suspicious punches and the early warnings (预警):

- **a phone that wanders**: 2005 punched from the office with an iPhone on the working days
  of two weeks before; in the last week with a new Android phone 3 km away (field punches,
  outside the punch area) and once from Beijing an hour after Shanghai — *outside every
  fence*, *implausible jump* and *new device* (punches at midday: the days stay as they were);
- **a department whose anomalies jump**: 3001 and 3007 of 运营部 forgot every check-in of
  the last ten days (``attendance.demo.SPIKE``) — *department anomalies jump*;
- **close to the limit** and **overdue approvals piling up**: 3001 corrects his two latest
  misses (2 of 3 this period), 3007 his three earliest, filed the mornings after and still
  waiting for their head 3000 past the deadline;
- **a silent terminal**: DEMO-ZK-02 (仓库考勤机), approved, not heard from since yesterday
  — warned about during working hours (the worker checks every 15 minutes).

Everything goes through the real services (submit, approve, record punches), then the
rules and the warnings run once. Idempotent: it does nothing when the demo's requests
already exist.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from ztk.attendance.demo import FORGET_DAYS, FORGETFUL, SPIKE, SPIKE_DAYS, forgets_check_in
from ztk.core.context import RequestInfo, current_request
from ztk.core.errors import DomainError
from ztk.corrections.models import CorrectionRequest, Status
from ztk.corrections.services import ItemIn, correction_approve, correction_submit
from ztk.devices.ingest import device_contact
from ztk.devices.services import device_approve
from ztk.engine.periods import period_of
from ztk.org.models import Employee
from ztk.org.selectors import period_start_day
from ztk.org.zones import employee_zone
from ztk.punches.services import PunchInput, record_punches

from .services import findings_run
from .warning_services import warnings_run

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


WANDERER = "2005"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
)
OFFICE = (31.2305, 121.4738)  # inside the demo punch area (punches.demo, 300 m)
AWAY = (31.2574, 121.4737)  # 3 km north
BEIJING = (39.9042, 116.4074)
SILENT_TERMINAL = "DEMO-ZK-02"


def _phone_punch(employee: Employee, at: datetime, where: tuple[float, float], agent: str):
    """One phone punch as ``punches.web_punch`` records it (its audit event keeps the user
    agent: the device)."""
    token = current_request.set(RequestInfo(user_agent=agent, user=employee.user))
    try:
        record_punches(
            [
                PunchInput(
                    at=at,
                    source="mobile",
                    employee_id=employee.pk,
                    latitude=where[0],
                    longitude=where[1],
                    accuracy_m=20.0,
                    inside_geofence=where == OFFICE,
                    field_punch=where != OFFICE,
                )
            ],
            actor=employee.user,
            now=at,
            audit_action="punches.mobile_punch",
        )
    finally:
        current_request.reset(token)


def _wanderer(people: dict[str, Employee], end: date) -> int:
    employee = people.get(WANDERER)
    if employee is None or employee.user is None:
        return 0
    zone = employee_zone(employee)
    count = 0
    for back in range(20, 0, -1):
        day = end - timedelta(days=back - 1)
        if day.weekday() >= 5:
            continue
        noon = datetime.combine(day, time(12, 30), tzinfo=zone)
        if back > 7:
            _phone_punch(employee, noon, OFFICE, IPHONE)
        else:
            _phone_punch(employee, noon, AWAY, ANDROID)
        count += 1
    # an hour after the last one in Shanghai, from Beijing
    last = max(d for d in (end - timedelta(days=i) for i in range(7)) if d.weekday() < 5)
    _phone_punch(employee, datetime.combine(last, time(13, 30), tzinfo=zone), BEIJING, ANDROID)
    return count + 1


def _spike_corrections(people: dict[str, Employee], end: date) -> int:
    """3001 corrects his two latest misses, 3007 his three earliest (left waiting)."""
    filed = 0
    for number, pick in ((SPIKE[0], slice(-2, None)), (SPIKE[1], slice(0, 3))):
        employee = people.get(number)
        if employee is None or employee.user is None:
            continue
        zone = employee_zone(employee)
        days = [
            end - timedelta(days=back)
            for back in range(SPIKE_DAYS - 1, -1, -1)
            if (end - timedelta(days=back)).weekday() < 5
        ][pick]
        for day in days:
            now = min(
                datetime.combine(day + timedelta(days=1), time(9, 30), tzinfo=zone),
                timezone.now(),
            )
            try:
                filed += len(
                    correction_submit(
                        actor=employee.user,
                        employee=employee,
                        items=[
                            ItemIn(
                                day=day,
                                slot_key="in1",
                                requested_time=datetime.combine(day, time(8, 55), tzinfo=zone),
                                category="forgot",
                                reason="早上忘记打卡了",
                            )
                        ],
                        now=now,
                    )
                )
            except DomainError:
                continue  # not missing (a rest day of the plan), or the limit is reached
    return filed


def _silent_terminal(end: date) -> None:
    seen = datetime.combine(end, time(18, 5), tzinfo=UTC)
    device_contact(SILENT_TERMINAL, ip="192.168.1.202", push_version="2.4.1", now=seen)
    device_approve(
        actor=None, serial=SILENT_TERMINAL, name="仓库考勤机", attendance_group="STD", now=seen
    )


def load_oversight_demo(*, today: date | None = None) -> dict[str, int]:
    """Load the three patterns and run the rules once; returns what was done."""
    today = today or timezone.localdate()
    end = today - timedelta(days=1)
    numbers = [*FORGETFUL, *BUDDIES, *SPIKE, WANDERER]
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
    phone = _wanderer(people, end)
    spike = _spike_corrections(people, end)
    with transaction.atomic():
        _silent_terminal(end)
    result = findings_run(actor=None)
    warned = warnings_run(actor=None)
    return {
        "corrections": len(filed),
        "approved": approved,
        "buddy_punches": punches,
        "phone_punches": phone,
        "spike_corrections": spike,
        "findings": result.created,
        "warnings": warned.raised,
    }
