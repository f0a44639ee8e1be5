"""A real phone-sized Chromium: log in, read the home page in Chinese, switch to English.

Checks what only a browser can: that nothing makes a 375 px page scroll sideways and that the
language switch works end to end. Screenshots go to /tmp/ztk-*.png for a human look.
"""

from __future__ import annotations

import os

import pytest

from tests import factories
from tests.browser import launch_chromium, log_in, page_width

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (creating the organisation) are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _page(browser, viewport):
    # A phone in mainland China asks for Chinese; the app follows Accept-Language first.
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def test_employee_on_a_phone_reads_chinese_then_switches_to_english(live_server, browser):
    # given
    factories.small_org()
    context, page = _page(browser, PHONE)
    from playwright.sync_api import expect

    # when: the log-in page, then the home page
    page.goto(f"{live_server.url}/accounts/login/")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-login-375-zh.png", full_page=True)
    log_in(page, live_server.url, "employee")

    # then: Chinese by default, nothing wider than the phone
    expect(page.locator("h1")).to_have_text("我的考勤")
    expect(page.locator("nav.mainnav a.active")).to_have_text("我的考勤")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-home-375-zh.png", full_page=True)

    # when: the account menu opens
    page.click(".usermenu summary")
    expect(page.locator(".usermenu .menu")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-menu-375-zh.png")
    page.click(".usermenu summary")

    # when: switching language
    page.click("form.langswitch button")
    page.wait_for_load_state()

    # then
    expect(page.locator("h1")).to_have_text("My attendance")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-home-375-en.png", full_page=True)
    context.close()


def test_hr_navigation_scrolls_inside_itself_on_a_phone(live_server, browser):
    # given: HR has the most sections
    factories.small_org()
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "hr")
    from playwright.sync_api import expect

    # then: every section is in the nav, and the page itself stays 375 px wide
    links = page.locator("nav.mainnav a")
    expect(links).to_have_text(["我的考勤", "审批", "团队考勤", "人事管理", "报表", "系统设置"])
    assert page_width(page) <= PHONE["width"]
    page.click("form.langswitch button")
    page.wait_for_load_state()
    expect(links).to_have_text(["My attendance", "Approvals", "Team", "HR", "Reports", "Settings"])
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-hr-375-en.png", full_page=True)

    # the last section is reachable by scrolling the nav, not the page
    links.last.scroll_into_view_if_needed()
    expect(links.last).to_be_in_viewport()
    assert page.evaluate("window.scrollX") == 0
    context.close()


def test_desktop_layout(live_server, browser):
    factories.small_org()
    context, page = _page(browser, DESKTOP)
    log_in(page, live_server.url, "hr")

    page.goto(f"{live_server.url}/hr/")
    assert page_width(page) <= DESKTOP["width"]
    page.screenshot(path="/tmp/ztk-hr-desktop-zh.png")
    page.goto(f"{live_server.url}/audit/")  # HR may not: the 403 page, still with navigation
    assert page.locator("h1").inner_text() == "没有权限"
    page.screenshot(path="/tmp/ztk-403-desktop-zh.png")
    context.close()


def test_hr_sets_up_the_second_factor_on_a_phone(live_server, browser, settings):
    # given: the rule that HR needs a second factor
    settings.OTP_REQUIRED_FOR_STAFF = True
    org = factories.small_org()
    context, page = _page(browser, PHONE)
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from playwright.sync_api import expect

    from tests.accounts.helpers import code_for

    # when: HR logs in
    log_in(page, live_server.url, "hr", lands_on="/accounts/otp/?next=%2F")

    # then: the set-up page comes first, and it fits the phone
    expect(page.locator(".qr img")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-otp-setup-375-zh.png", full_page=True)

    # when: the code from the authenticator app
    device = TOTPDevice.objects.get(user=org.hr.user)
    page.fill("input[name=token]", code_for(device))
    page.click("main button[type=submit]")

    # then
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("我的考勤")
    expect(page.locator(".messages")).to_contain_text("两步验证已开启")
    context.close()
