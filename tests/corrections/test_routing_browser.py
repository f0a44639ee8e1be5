"""A request nobody could be found to decide, in a real Chromium: the only HR admin's own
correction is flagged on the oversight page; a superuser added later finds it there on a
phone, reads why on its routing form (电子流转单) and approves it on a desktop.
Screenshots go to /tmp/ztk-oversight-*.png and /tmp/ztk-routing-*.png for a human look.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, log_in
from ztk.corrections.models import CorrectionRequest, ReasonCategory, Status
from ztk.corrections.services import ItemIn, correction_submit
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


def _hr_files_their_own_correction():
    """09:00–18:00 every day; 陈人事 (the only HR admin, no supervisor) forgot to check in
    yesterday and asks for the correction. There is no superuser yet."""
    org = factories.small_org()
    ReasonCategory.objects.get_or_create(
        policy=None, code="forgot", defaults={"name": "忘记打卡", "order": 10}
    )
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    WeeklyPattern.objects.create(
        group=org.group, **{f"{d}_shift": shift for d in days}, default_workday_shift=shift
    )
    day = timezone.now().astimezone(SH).date() - timedelta(days=1)
    while plan_for(org.hr, day).kind != "work":
        day -= timedelta(days=1)
    record_punches(
        [
            PunchInput(
                at=datetime.combine(day, time(18, 2), tzinfo=SH),
                source="device",
                employee_id=org.hr.pk,
                device_sn="SN1",
                pin=org.hr.employee_no,
            )
        ]
    )
    item = ItemIn(
        day=day,
        slot_key="in1",
        requested_time=datetime.combine(day, time(8, 56), tzinfo=SH),
        category="forgot",
        reason="早上忘记打卡了",
    )
    (request,) = correction_submit(actor=org.hr.user, employee=org.hr, items=[item])
    return org, request


def test_a_superuser_finds_the_flagged_request_and_decides_it(live_server, browser):
    from playwright.sync_api import expect

    # given: flagged — nobody but 陈人事 could decide it; then a superuser joins
    org, request = _hr_files_their_own_correction()
    assert request.current_kind == "oversight"
    factories.UserFactory(username="root", is_staff=True, is_superuser=True)

    # when: the superuser opens the oversight page on a phone
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, "root")
    page.goto(f"{live_server.url}/hr/oversight/")

    # then: the flagged request comes first, with why; no escalation (that is HR's)
    expect(page.locator("#flagged-notice")).to_be_visible()
    first = page.locator("#oversight-list > li").first
    expect(first).to_have_attribute("data-flagged", "1")
    expect(first).to_contain_text("陈人事")
    expect(first).to_contain_text("没有其他人可以审批")
    expect(page.locator("form[action$='/escalate/']")).to_have_count(0)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-oversight-flagged-375.png", full_page=True)
    context.close()

    # when: on a desktop, the request's routing form
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, "root")
    page.goto(f"{live_server.url}/hr/oversight/")
    page.screenshot(path="/tmp/ztk-oversight-flagged-desktop.png", full_page=True)
    page.locator("#oversight-list > li").first.locator("a").first.click()
    page.wait_for_url(f"**/requests/{request.pk}/")
    current = page.locator(".chain li.step-current")
    expect(current.locator(".step-fallback")).to_contain_text("没有人担任此审批角色")
    page.screenshot(path="/tmp/ztk-routing-flagged-desktop.png", full_page=True)

    # … and approves it
    page.locator("form[action$='/approve/'] button[type=submit]").click()
    page.wait_for_url(f"**/requests/{request.pk}/")
    request = CorrectionRequest.objects.get(pk=request.pk)
    assert request.status == Status.APPROVED and request.decided_by.username == "root"
    context.close()
