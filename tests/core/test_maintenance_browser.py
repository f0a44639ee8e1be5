"""Maintenance mode in a real Chromium: 张三 signs in on a phone during maintenance, fills in
the correction form, sends it, reads the refusal, goes back and finds what he typed, and
once maintenance is over sends it again. Screenshots (375 px and desktop) go to
/tmp/ztk-maintenance-*.png for a human look.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium
from ztk.corrections.models import ChainPreset, CorrectionPolicy, CorrectionRequest, ReasonCategory
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.plans import plan_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
SH = ZoneInfo("Asia/Shanghai")
REASON = "考勤机死机，没能打上班卡"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _missing_checkin_yesterday():
    org = factories.small_org()
    for code, name, order in [("forgot", "忘记打卡", 10), ("device", "设备故障", 30)]:
        ReasonCategory.objects.get_or_create(
            policy=None, code=code, defaults={"name": name, "order": order}
        )
    CorrectionPolicy.objects.update_or_create(
        group=org.group, defaults={"chain_preset": ChainPreset.SINGLE}
    )
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    WeeklyPattern.objects.create(
        group=org.group, **{f"{d}_shift": shift for d in days}, default_workday_shift=shift
    )
    day = timezone.now().astimezone(SH).date() - timedelta(days=1)
    while plan_for(org.employee, day).kind != "work":  # skip statutory holidays
        day -= timedelta(days=1)
    record_punches(
        [
            PunchInput(
                at=datetime.combine(day, time(18, 2), tzinfo=SH),
                source="device",
                employee_id=org.employee.pk,
                device_sn="SN1",
                pin=org.employee.employee_no,
            )
        ]
    )
    return org, day


def _width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def _fill(page, base_url, day):
    page.goto(f"{base_url}/requests/new/?day={day.isoformat()}&slot=in1")
    page.locator("input[name=time_in1]").fill("08:57")
    page.select_option("select[name=category]", "device")
    page.fill("textarea[name=reason]", REASON)


def _form_kept(page):
    from playwright.sync_api import expect

    page.wait_for_url("**/requests/new/?**")
    expect(page.locator("textarea[name=reason]")).to_have_value(REASON)
    expect(page.locator("input[name=time_in1]")).to_have_value("08:57")
    expect(page.locator("select[name=category]")).to_have_value("device")


@pytest.mark.parametrize(("viewport", "label"), [(PHONE, "375"), (DESKTOP, "desktop")])
def test_a_form_sent_during_maintenance_is_kept_and_sent_once_it_is_over(
    live_server, browser, settings, viewport, label
):
    from playwright.sync_api import expect

    # given: maintenance; 张三 forgot to check in yesterday
    org, day = _missing_checkin_yesterday()
    settings.MAINTENANCE_MODE = True
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)

    # when: he signs in (allowed) and reads his month (banner)
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("#maintenance-banner")).to_be_visible()
    page.fill("input[name=username]", "employee")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("#maintenance-banner")).to_contain_text("暂停保存")
    page.screenshot(path=f"/tmp/ztk-maintenance-home-{label}.png", full_page=True)

    # when: he fills in the correction and sends it
    _fill(page, live_server.url, day)
    page.click("form#apply-form button[type=submit]")

    # then: the refusal, in the product's style, with what he typed
    expect(page.locator("h1")).to_have_text("未保存：系统正在维护")
    values = page.locator("#maintenance-values")
    expect(values).to_contain_text(REASON)
    expect(values).to_contain_text("08:57")
    assert _width(page) <= viewport["width"]
    page.screenshot(path=f"/tmp/ztk-maintenance-refused-{label}.png", full_page=True)
    assert CorrectionRequest.objects.count() == 0

    # when: "back to the form" — then the form holds what he typed
    page.click("[data-history-back]")
    _form_kept(page)
    page.screenshot(path=f"/tmp/ztk-maintenance-back-{label}.png", full_page=True)

    # when: sent again and the browser's own back button — the same
    page.click("form#apply-form button[type=submit]")
    expect(page.locator("#maintenance-values")).to_contain_text(REASON)
    page.go_back()
    _form_kept(page)

    # when: maintenance is over and he sends again from the refusal page
    page.click("form#apply-form button[type=submit]")
    expect(page.locator("#maintenance-values")).to_be_visible()
    settings.MAINTENANCE_MODE = False
    page.click("#content form button[type=submit]")

    # then: the request is filed with exactly what he typed
    page.wait_for_url("**/requests/*/")
    request = CorrectionRequest.objects.get()
    assert request.reason == REASON and request.category.code == "device"
    assert request.requested_time.astimezone(SH).strftime("%H:%M") == "08:57"
    expect(page.locator("#maintenance-banner")).to_have_count(0)
    context.close()
