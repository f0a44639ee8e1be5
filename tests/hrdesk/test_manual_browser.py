"""HR manual add in a real Chromium: find 张三 by "zs", open a day with a missing check-out,
add 18:05 with a remark, see the slot filled by HR — and 张三 sees it in his own day view.

Screenshots go to /tmp/ztk-manual-*.png for a human look.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, log_in, page_width
from ztk.org.services import pinyin_initials
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.plans import plan_for

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (creating the organisation) are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _page(browser, viewport):
    # English, so the assertions read the source strings whatever the catalogue holds.
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _shop_with_a_missing_checkout():
    """A 09:00–18:00 shift every day; 张三 punched in on the latest past working day only."""
    org = factories.small_org()
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group,
        **{f"{d}_shift": shift for d in ("monday", "tuesday", "wednesday", "thursday")},
        **{f"{d}_shift": shift for d in ("friday", "saturday", "sunday")},
        default_workday_shift=shift,
    )
    org.employee.name_initials = pinyin_initials(org.employee.name)
    org.employee.save(update_fields=["name_initials"])
    day = timezone.now().astimezone(SH).date() - timedelta(days=1)
    while plan_for(org.employee, day).kind != "work":  # skip statutory holidays
        day -= timedelta(days=1)
    record_punches(
        [
            PunchInput(
                at=datetime.combine(day, time(8, 55), tzinfo=SH),
                source="device",
                employee_id=org.employee.pk,
                device_sn="SN1",
                pin=org.employee.employee_no,
            )
        ]
    )
    return org, day


def _open_the_day(page, base_url: str, day: date) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/hr/manual/")
    page.locator("input[name=q]").press_sequentially("zs", delay=50)
    result = page.locator("#manual-results a", has_text="张三")
    expect(result).to_be_visible()  # came in through htmx, no page load
    result.click()
    page.fill("input[name=day]", day.isoformat())
    page.click("form.manual-date button[type=submit]")
    expect(page.locator("#manual-day-title")).to_be_visible()


def test_hr_adds_a_missing_checkout_on_a_desktop(live_server, browser):
    from playwright.sync_api import expect

    # given
    org, day = _shop_with_a_missing_checkout()
    context, page = _page(browser, DESKTOP)
    log_in(page, live_server.url, "hr")

    # when: HR finds 张三 by pinyin initials and opens the day
    _open_the_day(page, live_server.url, day)

    # then: the check-out is missing, the check-in has the terminal punch
    checkout = page.locator("tr[data-slot=out1]")
    expect(checkout.locator(".slot-badge")).to_have_text("Missing punch")
    expect(page.locator(".punch-list")).to_contain_text("08:55:00")
    expect(page.locator("input[name=time_out1]")).to_have_value("18:00")
    assert page_width(page) <= DESKTOP["width"]
    page.screenshot(path="/tmp/ztk-manual-before-desktop-en.png", full_page=True)

    # when: 18:05 with a remark, saved
    page.fill("input[name=time_out1]", "18:05")
    page.fill("textarea[name=remark]", "考勤机断电，主管确认 18:05 离开")
    page.click("form.manual-form button[type=submit]")

    # then: the day is recomputed on the spot, with a message
    expect(page.locator(".messages")).to_contain_text("Added 18:05 for 张三")
    expect(checkout.locator(".slot-badge")).to_have_text("Added by HR")
    expect(checkout.locator(".slot-badge")).to_have_class("slot-badge slot-manual")
    expect(checkout).to_contain_text("18:05")
    manual_punch = page.locator(".punch-list li.is-manual")
    expect(manual_punch).to_contain_text("考勤机断电")
    expect(manual_punch.locator("details.manual-void summary")).to_have_text("Void")
    expect(page.locator("input[name=time_out1]")).to_have_count(0)
    assert page_width(page) <= DESKTOP["width"]
    page.screenshot(path="/tmp/ztk-manual-after-desktop-en.png", full_page=True)
    context.close()

    # when: 张三 looks at his own day
    context, page = _page(browser, DESKTOP)
    log_in(page, live_server.url, "employee")
    page.goto(f"{live_server.url}/attendance/day/{day.isoformat()}/")

    # then: the check-out is there, added by HR, with the remark
    expect(page.locator("table.slots tbody tr").nth(1).locator(".slot-badge")).to_have_text(
        "Added by HR"
    )
    expect(page.locator(".punch-list")).to_contain_text("18:05:00")
    expect(page.locator(".punch-list")).to_contain_text("考勤机断电")
    page.screenshot(path="/tmp/ztk-manual-employee-day-desktop-en.png", full_page=True)
    context.close()


def test_hr_voids_a_wrong_manual_punch_on_a_phone(live_server, browser):
    from playwright.sync_api import expect

    # given: a manual check-out already added
    org, day = _shop_with_a_missing_checkout()
    from ztk.hrdesk.manual import manual_punch_add

    manual_punch_add(
        actor=org.hr.user,
        employee=org.employee,
        day=day,
        times=[("out1", datetime.combine(day, time(18, 50), tzinfo=SH))],
        remark="录入错误的时间",
    )
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "hr")

    # when
    _open_the_day(page, live_server.url, day)
    assert page_width(page) <= PHONE["width"]
    page.click(".punch-list li.is-manual details.manual-void summary")
    page.fill(".punch-list li.is-manual input[name=reason]", "时间录错了")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-manual-void-375-en.png", full_page=True)
    page.click(".punch-list li.is-manual button[type=submit]")

    # then: struck through with the reason, the slot open again, nothing wider than a phone
    expect(page.locator(".messages")).to_contain_text("was voided")
    voided = page.locator(".punch-list li.is-voided")
    expect(voided.locator("s time")).to_contain_text("18:50:00")
    expect(voided).to_contain_text("时间录错了")
    expect(page.locator("tr[data-slot=out1] .slot-badge")).to_have_text("Missing punch")
    expect(page.locator("input[name=time_out1]")).to_have_value("18:00")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-manual-voided-375-en.png", full_page=True)
    context.close()
