"""The demo's last steps, which need apps above attendance: the terminal that "sent" the
demo punches, approved and seen just now (so the devices page shows it), and the demo
employee's two October correction requests — one approved (the day shows 补卡), one still
waiting for the supervisor (审批中). Written through the same services as real use, at the
times they would have happened, so the audit log and the inbox read like a real month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ztk.attendance.demo import CORRECTED_DAY, DEMO_EMPLOYEE, PENDING_DAY
from ztk.corrections.models import CorrectionRequest
from ztk.corrections.services import ItemIn, correction_approve, correction_submit
from ztk.devices.ingest import device_contact
from ztk.devices.services import device_approve
from ztk.org.models import Employee
from ztk.org.zones import employee_zone

DEMO_TERMINAL = "DEMO-ZK-01"
TERMINAL_NAME = "前台考勤机"
TERMINAL_IP = "192.168.1.201"

User = get_user_model()


def _at(employee: Employee, day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=employee_zone(employee))


def load_demo_terminal(*, now: datetime | None = None) -> None:
    """The demo terminal as it would be after a morning of uploads: registered on first
    contact, approved by the system admin into the standard group, last seen now."""
    now = now or timezone.now()
    admin = User.objects.filter(username="admin").first()
    with transaction.atomic():
        device_contact(DEMO_TERMINAL, ip=TERMINAL_IP, push_version="2.4.1", now=now)
        device_approve(
            actor=admin, serial=DEMO_TERMINAL, name=TERMINAL_NAME, attendance_group="STD", now=now
        )


def load_demo_corrections(*, today: date | None = None) -> int:
    """The demo employee's approved and pending October corrections (nothing when the demo
    month has not passed yet, or when they exist already). Returns how many were filed."""
    today = today or timezone.localdate()
    employee = (
        Employee.objects.select_related("user", "supervisor__user", "attendance_group")
        .filter(employee_no=DEMO_EMPLOYEE)
        .first()
    )
    if employee is None or employee.supervisor is None or today <= PENDING_DAY:
        return 0
    if CorrectionRequest.objects.filter(employee=employee).exists():
        return 0
    hr = User.objects.filter(groups__name="hr", is_active=True).order_by("pk").first()
    filed = 0
    with transaction.atomic():
        # Forgot to check out on the 16th; filed the next morning, approved by both steps.
        submitted = _at(employee, CORRECTED_DAY + timedelta(days=1), 9, 30)
        (approved,) = correction_submit(
            actor=employee.user,
            employee=employee,
            items=[
                ItemIn(
                    day=CORRECTED_DAY,
                    slot_key="out1",
                    requested_time=_at(employee, CORRECTED_DAY, 18, 10),
                    category="forgot",
                    reason="下班走得急，忘记打卡了",
                )
            ],
            now=submitted,
        )
        filed += 1
        deciders = [employee.supervisor.user, hr]
        for step, decider in enumerate(deciders):
            if decider is None or approved.status != "pending":
                break
            correction_approve(
                actor=decider,
                request=approved,
                comment="情况属实",
                now=submitted + timedelta(hours=2 + step),
            )
            approved.refresh_from_db()
        # Forgot to check in on the 19th; the supervisor has not decided yet.
        correction_submit(
            actor=employee.user,
            employee=employee,
            items=[
                ItemIn(
                    day=PENDING_DAY,
                    slot_key="in1",
                    requested_time=_at(employee, PENDING_DAY, 8, 55),
                    category="forgot",
                    reason="早上指纹识别失败，没有打上卡",
                )
            ],
            now=_at(employee, PENDING_DAY, 11),
        )
        filed += 1
    return filed
