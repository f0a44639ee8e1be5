"""Issue 15's proof in a real Chromium: 张三 on a 375 px phone asks for a morning off from
the day page (the preview shows half a day), 李主管 approves it in the approval inbox, and
the day then shows 请假 on the check-in while the annual balance drops by half a day.

Screenshots go to var/test/screenshots/leave-*.png for a human look.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from tests.leave.conftest import seed_types
from ztk.leave.models import AbsencePolicy, AbsenceRequest, ChainPreset
from ztk.leave.selectors import balance_of
from ztk.leave.services import ledger_credit
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.plans import plan_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _shop():
    """09:00–18:00 every day, single-level approval, 5 days of annual leave; 张三 checked
    out yesterday but never checked in (he was at the doctor's in the morning)."""
    seed_types()  # the live server's tests flush the tables, the data migration's rows too
    org = factories.small_org()
    AbsencePolicy.objects.create(group=org.group, chain_preset=ChainPreset.SINGLE)
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    WeeklyPattern.objects.create(
        group=org.group, **{f"{d}_shift": shift for d in days}, default_workday_shift=shift
    )
    ledger_credit(employee=org.employee, leave_type="annual", amount=Decimal("5"),
                  source="test-grant", kind="grant")  # fmt: skip
    day = timezone.now().astimezone(SH).date() - timedelta(days=1)
    while plan_for(org.employee, day).kind != "work":
        day -= timedelta(days=1)
    record_punches([PunchInput(at=datetime.combine(day, time(18, 2), tzinfo=SH),
                               source="device", employee_id=org.employee.pk, device_sn="SN1",
                               pin=org.employee.employee_no)])  # fmt: skip
    return org, day


def _page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def test_half_day_leave_on_a_phone_approved_then_the_day_shows_leave(live_server, browser):
    from playwright.sync_api import expect

    org, day = _shop()
    shots = screenshots_dir()

    # 张三, on his phone: the day page, then 申请请假/外出/出差
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "employee")
    page.goto(f"{live_server.url}/attendance/day/{day.isoformat()}/")
    page.click("#apply-leave")
    page.wait_for_url("**/absences/new/?day=*")
    expect(page.locator('#balances dd[data-type="annual"]')).to_contain_text("5")
    page.select_option("select[name=start_part]", "am")
    expect(page.locator("#preview-amount")).to_contain_text("0.5")  # htmx followed
    expect(page.locator("#preview li[data-day]")).to_have_count(1)
    expect(page.locator("#preview li[data-day]")).to_contain_text("09:00–13:30")
    page.fill("textarea[name=reason]", "上午去医院复查")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "leave-apply-375.png"), full_page=True)
    page.click("#leave-form button[type=submit]")
    page.wait_for_url("**/absences/*/")
    expect(page.locator("#absence-status")).to_have_text("待审批")
    page.screenshot(path=str(shots / "leave-pending-375.png"), full_page=True)
    context.close()
    req = AbsenceRequest.objects.get()
    assert (req.amount, req.start_part) == (Decimal("0.5"), "am")

    # 李主管: the approval inbox lists it beside the corrections; approve
    context, page = _page(browser, DESKTOP)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/approvals/")
    card = page.locator(f'#inbox-list li[data-key="absences:{req.pk}"]')
    expect(card).to_contain_text("张三")
    page.screenshot(path=str(shots / "leave-inbox-desktop.png"), full_page=True)
    card.locator(".row-approve button.primary").click()
    expect(page.locator(f'#inbox-list li[data-key="absences:{req.pk}"]')).to_have_count(0)
    page.goto(f"{live_server.url}/absences/{req.pk}/")
    expect(page.locator("#absence-status")).to_have_text("已通过")
    context.close()

    # 张三 again: the check-in shows 请假, the balance is 4.5 days
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "employee")
    page.goto(f"{live_server.url}/attendance/day/{day.isoformat()}/")
    expect(page.locator("table.slots tbody tr").first).to_contain_text("请假")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "leave-day-375.png"), full_page=True)
    page.goto(f"{live_server.url}/absences/balances/")
    expect(page.locator('#balances dd[data-type="annual"]')).to_contain_text("4.5")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "leave-ledger-375.png"), full_page=True)
    context.close()
    assert balance_of(org.employee, "annual") == Decimal("4.5")


def test_who_is_away_and_hr_balances_fit_a_phone(live_server, browser):
    from playwright.sync_api import expect

    org, day = _shop()
    from ztk.leave.absence_services import absence_submit

    absence_submit(actor=org.employee.user, employee=org.employee, kind="trip",
                   start_date=day, destination="北京")  # fmt: skip
    shots = screenshots_dir()
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/absences/away/?month={day:%Y-%m}")
    expect(page.locator(".away-grid td.away-trip")).to_have_count(1)
    assert page_width(page) <= PHONE["width"]  # the grid scrolls inside its box
    page.screenshot(path=str(shots / "leave-away-375.png"), full_page=True)
    context.close()
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "hr")
    page.goto(f"{live_server.url}/absences/hr/balances/?employee=1002")
    expect(page.locator('#balances dd[data-type="annual"]')).to_contain_text("5")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "leave-hr-balances-375.png"), full_page=True)
    page.goto(f"{live_server.url}/absences/hr/report/")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "leave-report-375.png"), full_page=True)
    context.close()
