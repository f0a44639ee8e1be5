"""The organisation and the objects the page authorization matrix asks about.

Built once per test module through the real services (tests/security/test_page_matrix.py
rolls each request back, so one role's approval, withdrawal or logout never changes the
next cell). The week: 09:00–18:00 Monday to Friday; it is Wednesday 25 November 2026,
10:00 in Shanghai.

    研发部 RD   head 王部长 1000
                team of 李主管 1001: 张三 1002 (THE employee), 李四 1003
    销售部 SALES team of 钱主管 2000: 赵六 2001 (another department, another team)
    HR 陈人事 4001 · auditor 周审计 4002 · superuser `root` (no employee record)
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tests import factories
from ztk.accounts.services import api_key_create

SH = ZoneInfo("Asia/Shanghai")
FRI = date(2026, 11, 20)
MON = date(2026, 11, 23)
TUE = date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
REASON = "早上忘记打卡了"
PERIOD_START = date(2026, 11, 1)

# Every role of the matrix, in the order the tables list them.
ROLES = (
    "anonymous",
    "employee",  # 张三 1002: the person most rows are about
    "other_department",  # 赵六 2001: an employee of another department
    "supervisor",  # 李主管 1001: 张三's direct supervisor
    "other_supervisor",  # 钱主管 2000: supervisor of another team (赵六's)
    "head",  # 王部长 1000: head of 张三's department
    "hr",  # 陈人事 4001
    "auditor",  # 周审计 4002
    "superuser",  # root: Django superuser and system admin, no employee record
)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


def png(name: str = "proof.png") -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (31, 111, 235)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@dataclass
class PageWorld:
    """Users by role and the ids of the objects the rows' paths name."""

    users: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.ids[name]


def _week(group) -> None:
    from ztk.corrections.models import ReasonCategory
    from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

    for code, name, order in [("forgot", "忘记打卡", 10), ("device", "设备故障", 30)]:
        ReasonCategory.objects.get_or_create(
            policy=None, code=code, defaults={"name": name, "order": order}
        )
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=group,
        effective_from=date(2026, 1, 1),
        **{f"{d}_shift": shift for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
        default_workday_shift=shift,
    )


def _only_checkout(employee, day: date) -> None:
    from ztk.punches.services import PunchInput, record_punches

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


def _submit(actor, employee, day: date, slot: str = "in1"):
    from ztk.corrections.services import ItemIn, correction_submit

    clock = at(day, 8, 58) if slot == "in1" else at(day, 18, 5)
    item = ItemIn(day=day, slot_key=slot, requested_time=clock, category="forgot", reason=REASON)
    (request,) = correction_submit(
        actor=actor, employee=employee, items=[item], attachments=[png()]
    )
    return request


def build() -> PageWorld:
    """The organisation of the module docstring and one of every object a page shows."""
    from ztk.approvals.services import delegation_create
    from ztk.core.models import Job
    from ztk.corrections.models import CorrectionPolicy
    from ztk.corrections.services import correction_approve, correction_reject
    from ztk.devices import imports as device_imports
    from ztk.devices.models import Device, DeviceStatus
    from ztk.hrdesk import bulk_import
    from ztk.hrdesk.manual import manual_punch_add
    from ztk.hrdesk.paper import paper_form_register
    from ztk.notifications.models import RobotWebhook
    from ztk.notifications.services import notify
    from ztk.reports.models import PayrollDelivery, PayrollWebhook
    from ztk.reports.payroll import queue_test_event

    org = factories.small_org()
    sales = org.stranger.department
    other_supervisor = factories.EmployeeFactory(
        user=factories.UserFactory(username="sales_lead"),
        employee_no="2000",
        name="钱主管",
        department=sales,
        attendance_group=org.group,
    )
    org.stranger.supervisor = other_supervisor
    org.stranger.save()
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    factories.add_to_group(root, "sysadmin")
    world = PageWorld(
        users={
            "employee": org.employee.user,
            "other_department": org.stranger.user,
            "supervisor": org.supervisor.user,
            "other_supervisor": other_supervisor.user,
            "head": org.head.user,
            "hr": org.hr.user,
            "auditor": org.auditor.user,
            "superuser": root,
        }
    )
    _week(org.group)
    CorrectionPolicy.objects.create(group=org.group, monthly_limit=10)  # room for every cell

    # corrections. 张三 punched neither Monday nor Tuesday: Monday's check-in waits for
    # 李主管, Monday's check-out was rejected, Tuesday's check-in waits for HR, Tuesday's
    # check-out is free to apply for. 赵六's Monday check-in waits for 钱主管.
    pending = _submit(org.employee.user, org.employee, MON)
    rejected = _submit(org.employee.user, org.employee, MON, "out1")
    correction_reject(actor=org.supervisor.user, request=rejected, reason="当天未到岗")
    at_hr = _submit(org.employee.user, org.employee, TUE)
    at_hr = correction_approve(actor=org.supervisor.user, request=at_hr)
    _only_checkout(org.stranger, MON)
    other_pending = _submit(org.stranger.user, org.stranger, MON)
    world.ids.update(
        pending=pending.pk,
        rejected=rejected.pk,
        at_hr_step=at_hr.pk,
        other_pending=other_pending.pk,
        attachment=pending.attachments.get().pk,
        other_attachment=other_pending.attachments.get().pk,
    )

    # leave (issue 15): 张三's outing on Thursday waits for 李主管
    from ztk.leave.absence_services import absence_submit

    absence = absence_submit(actor=org.employee.user, employee=org.employee, kind="outing",
                             start_date=date(2026, 11, 26), destination="客户现场")  # fmt: skip
    world.ids.update(absence=absence.pk)

    # overtime: 张三's Monday evening waits for 李主管, his Tuesday morning is approved;
    # 赵六's Monday evening waits for 钱主管.
    from ztk.overtime.services import overtime_approve, overtime_submit

    def overtime(employee, day: date, hh: int):
        return overtime_submit(
            actor=employee.user, employee=employee, start=at(day, hh), end=at(day, hh + 2),
            reason="赶工",
        )  # fmt: skip

    ot_pending = overtime(org.employee, MON, 18)
    ot_approved = overtime(org.employee, TUE, 6)
    for approver in (org.supervisor.user, org.hr.user):
        ot_approved = overtime_approve(actor=approver, request=ot_approved)
    ot_other = overtime(org.stranger, MON, 18)
    world.ids.update(ot_pending=ot_pending.pk, ot_approved=ot_approved.pk, ot_other=ot_other.pk)

    # a paper form of 张三's for last Friday (registered by HR) and an HR manual punch for
    # 李四 (张三's colleague) on Tuesday
    _only_checkout(org.employee, FRI)
    form = paper_form_register(
        actor=org.hr.user,
        form_no="ZZ-0001",
        employee=org.employee,
        day=FRI,
        slot_key="in1",
        time=time(8, 55),
        reason="纸质漏签申报",
        signed_by=org.head,
        signed_on=MON,
        scan=png("scan.png"),
    )
    _only_checkout(org.colleague, TUE)
    (manual,) = manual_punch_add(
        actor=org.hr.user,
        employee=org.colleague,
        day=TUE,
        times=[at(TUE, 8, 59)],
        remark="补录上班卡",
    )
    world.ids.update(paper_form=form.pk, manual_punch=manual.pk)

    # 李主管 will be away next year and 王部长 decides for him then (not in force now, so
    # no other cell changes): he and HR may end it, 王部长 sees it, nobody else learns of it
    delegation = delegation_create(
        actor=org.supervisor.user,
        approver=org.supervisor.user,
        delegate=org.head.user,
        start=date(2027, 1, 4),
        end=date(2027, 1, 8),
    )
    world.ids.update(delegation=delegation.pk)

    # a notification in 张三's inbox, a group robot, a terminal waiting for approval
    (note,) = notify(
        kind="missed_punch",
        recipients=[org.employee.user],
        title="缺卡提醒",
        body="您 11月23日 上班未打卡。",
        email=False,
    )
    robot = RobotWebhook.objects.create(
        name="研发群",
        platform="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=abc",
        kinds=["missed_punch"],
    )
    device = Device.objects.create(
        serial="PEND0001", status=DeviceStatus.PENDING, attendance_group=org.group
    )
    # HR's bulk import running in the background: only its owner sees it
    job = Job.objects.create(kind=bulk_import.JOB_PREVIEW, owner=org.hr.user)
    # an integrator's API key, created by HR (the settings pages list and revoke it)
    api_key, _raw = api_key_create(actor=org.hr.user, user=org.hr.user, name="payroll")
    # a payroll webhook (/settings/webhooks/) with one given-up delivery to retry
    webhook = PayrollWebhook.objects.create(name="薪资系统", url="https://93.184.216.34/hook")
    with transaction.atomic():
        dead = queue_test_event(webhook)
    PayrollDelivery.objects.filter(pk=dead.pk).update(status="dead", attempts=8)
    # … and HR's punch-file import (/hr/devices/import/) likewise
    device_job = Job.objects.create(kind=device_imports.JOB_PREVIEW, owner=org.hr.user)
    # … and HR's sync of work-app user ids by mobile (/settings/work-apps/)
    sync_job = Job.objects.create(
        kind="workapps.users_sync", owner=org.hr.user, params={"platform": "dingtalk"}
    )
    # an oversight finding about 张三 (frequent corrector), evidence: his pending request
    from ztk.oversight.models import Finding

    finding = Finding.objects.create(
        rule="frequent_corrector",
        key=f"frequent_corrector:e{org.employee.pk}:2026-11-01",
        severity="high",
        employee=org.employee,
        period_start=PERIOD_START,
        period_end=date(2026, 11, 30),
        params={"count": 3, "group_percentile_value": 0, "percentile": 95},
        evidence=[{"kind": "request", "id": pending.pk, "at": None, "note": "", "tag": ""}],
        first_found_at=NOW,
        last_found_at=NOW,
    )
    world.ids.update(finding=finding.pk)
    # an early warning about 张三 (close to the monthly limit), sent to his head 王部长
    from ztk.oversight.models import EarlyWarning

    warning = EarlyWarning.objects.create(
        kind="close_to_limit",
        key=f"close_to_limit:e{org.employee.pk}:2026-11-01",
        severity="medium",
        employee=org.employee,
        head=org.head,
        period_start=PERIOD_START,
        period_end=date(2026, 11, 30),
        params={"used": 2, "limit": 3, "left": 1},
        evidence=[{"kind": "request", "id": pending.pk, "at": None, "note": "", "tag": ""}],
        raised_at=NOW,
    )
    world.ids.update(warning=warning.pk)
    # the group's punch area (/settings/geofences/)
    fence = factories.geofence(org.group, code="HQ")
    world.ids.update(
        notification=note.pk,
        robot=robot.pk,
        device=device.serial,
        group=org.group.code,
        job=str(job.pk),
        api_key=api_key.pk,
        device_job=str(device_job.pk),
        sync_job=str(sync_job.pk),
        webhook=webhook.pk,
        delivery=dead.pk,
        fence=fence.code,
    )
    return world
