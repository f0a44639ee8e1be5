"""The one approver inbox and overtime 撤销 in a real Chromium, at 375 px.

1. 李主管 on his phone sees 张三's correction (补卡), leave (年假) and overtime (加班) in one
   list and approves the overtime from it.
2. 张三 asks to cancel an approved overtime taken as 调休; 李主管 approves the cancellation
   from the same inbox; the day no longer counts it and the 调休 credit is taken back.
Screenshots go to var/test/screenshots.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from tests.leave.conftest import seed_types
from ztk.attendance.models import AttendanceDay
from ztk.attendance.services import recompute
from ztk.corrections.models import ReasonCategory
from ztk.corrections.services import ItemIn, correction_submit
from ztk.leave.absence_services import absence_submit
from ztk.leave.models import LeaveType
from ztk.leave.selectors import balance_of
from ztk.leave.services import ledger_credit
from ztk.overtime import services as overtime
from ztk.overtime.models import ChainPreset, Compensation, OvertimePolicy, OvertimeRequest, Status
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.plans import plan_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 375, "height": 740}
SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _page(browser, locale="zh-CN"):
    context = browser.new_context(viewport=PHONE, locale=locale, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SH)


def _punch(employee, *moments: datetime) -> None:
    record_punches(
        [
            PunchInput(at=m, source="device", employee_id=employee.pk, device_sn="SN1",
                       pin=employee.employee_no)
            for m in moments
        ]
    )  # fmt: skip


def _org():
    """Monday–Friday 09:00–18:00, single-level overtime approval (the supervisor)."""
    seed_types()
    ReasonCategory.objects.get_or_create(policy=None, code="forgot",
                                         defaults={"name": "忘记打卡", "order": 10})  # fmt: skip
    org = factories.small_org()
    OvertimePolicy.objects.create(group=org.group, chain_preset=ChainPreset.SINGLE)
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group,
        **{f"{d}_shift": shift for d in ("monday", "tuesday", "wednesday", "thursday")},
        friday_shift=shift,
        default_workday_shift=shift,
    )
    return org


def _last(org, kind: str, before: date) -> date:
    day = before - timedelta(days=1)
    while plan_for(org.employee, day).kind != kind:
        day -= timedelta(days=1)
    return day


def test_supervisor_sees_every_type_in_one_list_and_approves_the_overtime(live_server, browser):
    from playwright.sync_api import expect

    shots = screenshots_dir()
    org = _org()
    today = timezone.now().astimezone(SH).date()
    workday = _last(org, "work", today)
    _punch(org.employee, _at(workday, 18, 2))  # the check-in is missing
    (correction,) = correction_submit(
        actor=org.employee.user,
        employee=org.employee,
        items=[
            ItemIn(
                day=workday,
                slot_key="in1",
                requested_time=_at(workday, 8, 58),
                category="forgot",
                reason="早上忘记打卡了",
            )
        ],  # fmt: skip
    )
    ledger_credit(employee=org.employee, leave_type="annual", amount=Decimal("5"),
                  source="test-grant", kind="grant")  # fmt: skip
    absence = absence_submit(
        actor=org.employee.user,
        employee=org.employee,
        kind="leave",
        leave_type=LeaveType.objects.get(code="annual"),
        start_date=workday + timedelta(days=14),
        reason="家里有事",
    )
    ot = overtime.overtime_submit(
        actor=org.employee.user, employee=org.employee, start=_at(workday, 18, 30),
        end=_at(workday, 20, 30), reason="赶项目上线",
    )  # fmt: skip

    context, page = _page(browser)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/approvals/")
    rows = page.locator("#inbox-list > li")
    expect(rows).to_have_count(3)
    expect(page.locator(f'#inbox-list li[data-request="{correction.pk}"]')).to_contain_text("补卡")
    expect(page.locator(f'#inbox-list li[data-key="absences:{absence.pk}"]')).to_contain_text(
        "年假"
    )
    card = page.locator(f'#inbox-list li[data-key="overtime:{ot.pk}"]')
    expect(card).to_contain_text("加班")
    expect(card).to_contain_text("张三")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "one-inbox-375-zh.png"), full_page=True)

    card.locator(".row-approve button.primary").click()
    expect(page.locator(f'#inbox-list li[data-key="overtime:{ot.pk}"]')).to_have_count(0)
    expect(page.locator("#inbox-list > li")).to_have_count(2)
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "one-inbox-after-approve-375-zh.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/approvals/")
    page.screenshot(path=str(shots / "one-inbox-desktop-zh.png"), full_page=True)
    context.close()
    ot.refresh_from_db()
    assert ot.status == Status.APPROVED


def test_employee_cancels_approved_overtime_and_the_time_off_is_taken_back(live_server, browser):
    from playwright.sync_api import expect

    shots = screenshots_dir()
    org = _org()
    today = timezone.now().astimezone(SH).date()
    saturday = _last(org, "rest", today)
    _punch(org.employee, _at(saturday, 9), _at(saturday, 12))
    ot = overtime.overtime_submit(
        actor=org.employee.user, employee=org.employee, start=_at(saturday, 9),
        end=_at(saturday, 12), reason="周六赶工", compensation=Compensation.TIME_OFF,
    )  # fmt: skip
    ot = overtime.overtime_approve(actor=org.supervisor.user, request=ot)
    recompute([(org.employee.pk, saturday)], finalise=True)
    overtime.settle_due()
    assert balance_of(org.employee, "compensatory") == Decimal("3.00")
    day = AttendanceDay.objects.get(employee=org.employee, day=saturday)
    assert day.overtime_counted_minutes == 180

    # 张三, on his phone: 申请撤销 with a reason
    context, page = _page(browser)
    log_in(page, live_server.url, "employee")
    page.goto(f"{live_server.url}/overtime/{ot.pk}/")
    form = page.locator("#cancel-form")
    expect(form).to_contain_text("申请撤销")
    form.locator("input[name=reason]").fill("客户取消了上线")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "overtime-cancel-ask-375-zh.png"), full_page=True)
    form.locator("button[type=submit]").click()
    expect(page.locator("#cancels-note")).to_be_visible()
    page.screenshot(path=str(shots / "overtime-cancel-pending-375-zh.png"), full_page=True)
    context.close()
    cancel = OvertimeRequest.objects.get(cancels=ot)
    assert cancel.status == Status.PENDING
    assert balance_of(org.employee, "compensatory") == Decimal("3.00")  # not yet

    # 李主管, on his phone: the inbox marks it as a cancellation; he approves it there
    context, page = _page(browser)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/approvals/")
    card = page.locator(f'#inbox-list li[data-key="overtime:{cancel.pk}"]')
    expect(card.locator(".tag-cancel")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "one-inbox-cancellation-375-zh.png"), full_page=True)
    card.locator(".row-approve button.primary").click()
    expect(page.locator(f'#inbox-list li[data-key="overtime:{cancel.pk}"]')).to_have_count(0)
    context.close()

    # the day no longer counts it; the 调休 credit is reversed
    context, page = _page(browser)
    log_in(page, live_server.url, "employee")
    page.goto(f"{live_server.url}/overtime/{ot.pk}/")
    expect(page.locator("#ot-counted")).to_contain_text("0.0")
    page.screenshot(path=str(shots / "overtime-cancelled-375-zh.png"), full_page=True)
    context.close()
    ot.refresh_from_db()
    day.refresh_from_db()
    assert (ot.status, ot.credited_minutes) == (Status.CANCELLED, 0)
    assert day.overtime_counted_minutes == 0
    assert balance_of(org.employee, "compensatory") == 0
