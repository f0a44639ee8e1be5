"""Overtime (加班) in a real Chromium, end to end.

张三 worked last Saturday (a rest day: 09:00–17:40 on the terminal). On a 375 px phone, in
Chinese, he opens that day, sees the overtime computed from his punches and applies for
it; 李主管 on a desktop follows the link from the approval inbox to the overtime waiting
for him and approves (single-level chain); HR's monthly report then shows 8.5 hours of
rest-day overtime (休息日加班, paid at 2×). Screenshots go to var/test/screenshots.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from ztk.overtime.models import ChainPreset, OvertimePolicy
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.plans import plan_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _page(browser, viewport, locale):
    context = browser.new_context(viewport=viewport, locale=locale, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _saturday_worked():
    """Monday–Friday 09:00–18:00, single-level overtime approval; 张三 punched in at 09:00
    and out at 17:40 on the last Saturday that was a rest day."""
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
    today = timezone.now().astimezone(SH).date()
    day = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
    while plan_for(org.employee, day).kind != "rest":  # a make-up working day: go back
        day -= timedelta(days=7)
    record_punches(
        [
            PunchInput(
                at=datetime.combine(day, clock, tzinfo=SH),
                source="device",
                employee_id=org.employee.pk,
                device_sn="SN1",
                pin=org.employee.employee_no,
            )
            for clock in (time(9), time(17, 40))
        ]
    )
    return org, day


def test_saturday_overtime_applied_approved_and_reported_at_the_rest_day_rate(live_server, browser):
    from playwright.sync_api import expect

    shots = screenshots_dir()
    org, day = _saturday_worked()

    # when: 张三, on a phone in Chinese, opens the Saturday and applies for the overtime
    context, page = _page(browser, PHONE, "zh-CN")
    log_in(page, live_server.url, "employee")
    page.goto(f"{live_server.url}/attendance/day/{day.isoformat()}/")
    card = page.locator("#day-overtime")
    expect(card).to_contain_text("510")  # 8 h 40 min, rounded down to the 30-minute unit
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "overtime-day-375-zh.png"), full_page=True)
    card.locator("#apply-overtime").click()
    page.wait_for_url("**/overtime/new/?day=*")
    expect(page.locator("#ot-computed")).to_contain_text("8.5")
    page.fill("input[name=start]", "09:00")
    page.fill("input[name=end]", "18:00")
    page.fill("textarea[name=reason]", "周六赶项目上线")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "overtime-apply-375-zh.png"), full_page=True)
    page.click("#overtime-form button[type=submit]")

    # then: the request, pending, as a rest-day overtime
    page.wait_for_url("**/overtime/*/")
    expect(page.locator("#request-status")).to_have_text("待审批")
    expect(page.locator("#ot-kind")).to_have_text("休息日加班（2 倍）")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "overtime-pending-375-zh.png"), full_page=True)
    request_url = page.url
    context.close()

    # when: 李主管, on a desktop in English, goes from the approval inbox to the overtime
    context, page = _page(browser, DESKTOP, "en-US")
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/requests/inbox/")
    entry = page.locator("#inbox-list li.inbox-row[data-type=overtime]", has_text="张三")
    expect(entry).to_have_count(1)
    page.screenshot(path=str(shots / "overtime-inbox-desktop-en.png"), full_page=True)
    entry.locator(".req-title a").click()
    page.wait_for_url(request_url)
    page.click("#approve-form button[type=submit]")

    # then: approved, and the day counts it
    expect(page.locator("#request-status")).to_have_text("Approved")
    expect(page.locator("#ot-counted")).to_contain_text("8.5")
    page.screenshot(path=str(shots / "overtime-approved-desktop-en.png"), full_page=True)
    context.close()

    # then: 张三, on his phone in English, finds it approved in his overtime list
    context, page = _page(browser, PHONE, "en-US")
    log_in(page, live_server.url, "employee")
    page.goto(f"{live_server.url}/overtime/")
    expect(page.locator("#my-overtime li.req-card .chip")).to_have_text("Approved")
    expect(page.locator("#my-overtime li.req-card")).to_contain_text("Rest-day overtime (2×)")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "overtime-mine-375-en.png"), full_page=True)
    page.goto(request_url)
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "overtime-approved-375-en.png"), full_page=True)
    context.close()

    # then: HR's monthly report shows it as rest-day overtime (paid at 2×)
    context, page = _page(browser, DESKTOP, "zh-CN")
    log_in(page, live_server.url, "hr")
    page.goto(f"{live_server.url}/reports/?period={day:%Y-%m}")
    table = page.locator("#monthly-summary")
    headers = table.locator("thead th").all_inner_texts()
    column = headers.index("休息日加班(小时)")
    row = table.locator("tbody tr", has_text="张三")
    cell = row.locator("th, td").nth(column)
    expect(cell).to_have_text("8.50")
    assert headers[column - 1] == "工作日加班(小时)"
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "overtime-report-desktop-zh.png"))
    context.close()
