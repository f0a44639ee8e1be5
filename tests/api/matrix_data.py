"""The data the authorization matrix's requests refer to, built with the real services.

`World` builds each piece on first use, so a cell only pays for what its row names: a row's
path "/api/v1/corrections/{pending}/approve" asks for `World.pending`, a body builder
`lambda w: {"ids": [w.pending]}` likewise. Every cell is its own test (and transaction),
so a write — one role's approval, withdrawal, transfer — never changes another role's case.

The week: 09:00–18:00 Monday to Friday for the small org's group; it is Wednesday
2026-11-25 10:00 in Shanghai (the matrix test moves the clock there).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tests.factories import SmallOrg

SH = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 23)
TUE = date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SH)  # Wednesday morning
RANGE = "from=2026-11-23&to=2026-11-27"
PERIOD = "2026-11"
REASON = "早上忘记打卡了"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


class Form(dict):
    """A multipart/form-data body (fields and uploaded files) rather than JSON."""


def png(name: str = "proof.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def correction_item(day: date = MON) -> dict[str, Any]:
    """One item of POST /corrections: the missing check-in at 08:58."""
    return {
        "date": day.isoformat(),
        "slot": "in1",
        "requested_time": at(day, 8, 58).isoformat(),
        "category": "forgot",
        "reason": REASON,
    }


class AbsenceWorld:
    """Leave requests for the matrix (mixed into World): 张三 (1002) has 5 days of annual
    leave; a pending request for Monday waits for the supervisor."""

    org: SmallOrg
    week: None

    @cached_property
    def annual_granted(self) -> None:
        from ztk.leave.services import ledger_credit

        self.week  # noqa: B018 - days need a plan
        ledger_credit(employee=self.org.employee, leave_type="annual", amount=5,
                      source="matrix", kind="grant")  # fmt: skip

    def _leave(self, day: date) -> Any:
        from ztk.leave.absence_services import absence_submit
        from ztk.leave.models import LeaveType

        self.annual_granted  # noqa: B018
        return absence_submit(
            actor=self.org.employee.user,
            employee=self.org.employee,
            kind="leave",
            leave_type=LeaveType.objects.get(code="annual"),
            start_date=day,
        )

    @cached_property
    def absence_pending(self) -> int:
        return self._leave(MON).pk

    @cached_property
    def absence_approved(self) -> int:
        from ztk.leave.absence_services import absence_approve

        req = self._leave(TUE)
        req = absence_approve(actor=self.org.supervisor.user, request=req)
        return absence_approve(actor=self.org.hr.user, request=req).pk

    def absence_submission(self) -> dict[str, Any]:
        self.annual_granted  # noqa: B018
        return {"employee": "1002", "kind": "leave", "type": "annual",
                "start_date": MON.isoformat(), "start_part": "am"}  # fmt: skip

    def absence_multipart(self) -> Form:
        return Form(payload=json.dumps(self.absence_submission()), files=[png()])


class World(AbsenceWorld):
    """Lazily built data of the small org (tests/factories.py), usable with str.format_map."""

    def __init__(self, org: SmallOrg) -> None:
        self.org = org

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    # --- the week and its missing punches ----------------------------------------------------

    @cached_property
    def week(self) -> None:
        """09:00–18:00 Monday to Friday for the org's attendance group; the reason categories."""
        from ztk.corrections.models import ReasonCategory
        from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

        for code, name, order in [("forgot", "忘记打卡", 10), ("device", "设备故障", 30)]:
            ReasonCategory.objects.get_or_create(
                policy=None, code=code, defaults={"name": name, "order": order}
            )
        shift = Shift.objects.create(code="D9", name="白班")
        ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
        WeeklyPattern.objects.create(
            group=self.org.group,
            effective_from=date(2026, 1, 1),
            monday_shift=shift,
            tuesday_shift=shift,
            wednesday_shift=shift,
            thursday_shift=shift,
            friday_shift=shift,
            default_workday_shift=shift,
        )

    def only_checkout(self, employee, day: date) -> None:
        """`employee` left at 18:02 on `day` but never checked in: check-in (in1) missing."""
        from ztk.punches.services import PunchInput, record_punches

        self.week  # noqa: B018 - the plan that makes in1 a slot
        record_punches(
            [
                PunchInput(
                    at=at(day, 18, 2),
                    source="device",
                    employee_id=employee.pk,
                    device_sn="SN1",
                    pin=employee.employee_no,
                )
            ]
        )

    def submit(self, actor, employee, day: date) -> int:
        """A correction of `employee`'s missing check-in on `day`, filed by `actor`."""
        from ztk.corrections.services import ItemIn, correction_submit

        self.only_checkout(employee, day)
        item = ItemIn(
            day=day, slot_key="in1", requested_time=at(day, 8, 58), category="forgot", reason=REASON
        )
        (request,) = correction_submit(actor=actor, employee=employee, items=[item])
        return request.pk

    # --- overtime ------------------------------------------------------------------------------

    def overtime(self, actor, employee, day: date, hh: int = 18) -> int:
        """An overtime request of `employee` on `day` from `hh`:00 for two hours."""
        from ztk.overtime.services import overtime_submit

        request = overtime_submit(
            actor=actor, employee=employee, start=at(day, hh), end=at(day, hh + 2), reason="赶工"
        )
        return request.pk

    @cached_property
    def ot_pending(self) -> int:
        """The employee's overtime of Monday evening, waiting for their supervisor."""
        return self.overtime(self.org.employee.user, self.org.employee, MON)

    @cached_property
    def ot_at_hr_step(self) -> int:
        """The employee's overtime of Tuesday evening: the supervisor approved, HR waits."""
        from ztk.overtime.models import OvertimeRequest
        from ztk.overtime.services import overtime_approve

        pk = self.overtime(self.org.employee.user, self.org.employee, TUE)
        overtime_approve(actor=self.org.supervisor.user, request=OvertimeRequest.objects.get(pk=pk))
        return pk

    @cached_property
    def ot_approved(self) -> int:
        """The employee's overtime of Monday morning, approved by both steps."""
        from ztk.overtime.models import OvertimeRequest
        from ztk.overtime.services import overtime_approve

        pk = self.overtime(self.org.employee.user, self.org.employee, MON, hh=6)
        for actor in (self.org.supervisor.user, self.org.hr.user):
            overtime_approve(actor=actor, request=OvertimeRequest.objects.get(pk=pk))
        return pk

    def overtime_submission(self) -> dict[str, Any]:
        """The body of POST /overtime: the employee's Monday evening, 18:00–20:00."""
        self.week  # noqa: B018
        return {
            "employee": self.org.employee.employee_no,
            "start": at(MON, 18).isoformat(),
            "end": at(MON, 20).isoformat(),
            "reason": "赶项目上线",
        }

    # --- corrections --------------------------------------------------------------------------

    @cached_property
    def fence(self) -> str:
        """The org's punch area, code HQ (the geofence endpoints read and update it)."""
        from tests.factories import geofence

        return geofence(self.org.group, code="HQ").code

    @cached_property
    def missing_checkin(self) -> date:
        """The employee (1002) has a missing check-in on Monday and no correction for it."""
        self.only_checkout(self.org.employee, MON)
        return MON

    @cached_property
    def pending(self) -> int:
        """The employee's own correction of Monday, waiting for their supervisor (step 1)."""
        return self.submit(self.org.employee.user, self.org.employee, MON)

    @cached_property
    def at_hr_step(self) -> int:
        """The employee's correction of Tuesday: the supervisor approved, HR's step (2) waits."""
        from ztk.corrections.models import CorrectionRequest
        from ztk.corrections.services import correction_approve

        pk = self.submit(self.org.employee.user, self.org.employee, TUE)
        request = CorrectionRequest.objects.get(pk=pk)
        correction_approve(actor=self.org.supervisor.user, request=request)
        return pk

    @cached_property
    def colleague_pending(self) -> int:
        """The colleague's (1003: same supervisor and department as the employee) correction."""
        return self.submit(self.org.colleague.user, self.org.colleague, MON)

    @cached_property
    def filed_by_supervisor(self) -> int:
        """The supervisor filed it for the employee: their own step is skipped, HR decides."""
        return self.submit(self.org.supervisor.user, self.org.employee, MON)

    @cached_property
    def hr_own(self) -> int:
        """HR's own correction: no supervisor, so HR's step — which HR may never take."""
        return self.submit(self.org.hr.user, self.org.hr, MON)

    def submission(self) -> dict[str, Any]:
        """The body of POST /corrections for the employee's missing Monday check-in."""
        return {
            "employee": self.org.employee.employee_no,
            "items": [correction_item(self.missing_checkin)],
        }

    def multipart_submission(self) -> Form:
        """POST /corrections/multipart: the same submission as `payload`, plus a proof file."""
        return Form(payload=json.dumps(self.submission()), files=[png()])

    def preview(self) -> dict[str, Any]:
        """The body of POST /corrections/preview for the employee's Monday check-in."""
        self.week  # noqa: B018 - the day needs a plan
        return {
            "employee": self.org.employee.employee_no,
            "date": MON.isoformat(),
            "slot": "in1",
            "requested_time": at(MON, 8, 58).isoformat(),
        }

    # --- terminals and notifications ----------------------------------------------------------

    @cached_property
    def pending_device(self) -> str:
        """The serial of a terminal that said hello and waits for approval."""
        from ztk.devices.models import Device, DeviceStatus

        device = Device.objects.create(
            serial="PEND0001", status=DeviceStatus.PENDING, attendance_group=self.org.group
        )
        return device.serial

    @cached_property
    def notification(self) -> int:
        """An unread notification in the employee's inbox."""
        from ztk.notifications.services import notify

        with transaction.atomic():
            (sent,) = notify(
                kind="missed_punch",
                recipients=[self.org.employee.user],
                title="缺卡提醒",
                body="您 11月23日 上班未打卡。",
                email=False,
            )
        return sent.pk

    # --- oversight findings -------------------------------------------------------------------

    def _finding(self, rule: str, **subject: Any) -> int:
        from ztk.oversight.models import Finding

        finding = Finding.objects.create(
            rule=rule,
            key=f"{rule}:{sorted(subject)}:2026-11-01",
            severity="high",
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            params={"count": 4},
            first_found_at=NOW,
            last_found_at=NOW,
            **subject,
        )
        return finding.pk

    @cached_property
    def finding(self) -> int:
        """An open finding about the employee (a frequent corrector)."""
        return self._finding("frequent_corrector", employee=self.org.employee)

    @cached_property
    def hr_finding(self) -> int:
        """An open finding about HR's own work: the auditor's to handle."""
        return self._finding("hr_activity", user=self.org.hr.user)
