"""The reminder settings page in a real Chromium at 375 px and 1280 px (screenshots in
var/test/screenshots/ for a human look): HR opens it from the settings index, changes the
lead time and the quiet hours, saves; nothing scrolls sideways on a phone."""

from __future__ import annotations

import os

import pytest

from tests import factories
from tests.browser import launch_chromium, screenshots_dir
from ztk.notifications.models import ReminderSettings

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

VIEWPORTS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_changes_a_groups_reminders(live_server, browser, width):
    factories.small_org()
    viewport = VIEWPORTS[width]
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    from playwright.sync_api import expect

    folder = screenshots_dir()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "hr")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/settings/")
    page.click("#settings-sections a[href='/settings/reminders/']")
    expect(page.locator("h1")).to_have_text("提醒")
    expect(page.locator("#reminders-STD")).to_contain_text("上班前 10 分钟")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(folder / f"reminders-list-{width}.png"), full_page=True)

    page.click("#reminders-STD a")
    page.fill("input[name=punch_in_minutes]", "15")
    page.fill("input[name=quiet_start]", "21:30")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(folder / f"reminders-edit-{width}.png"), full_page=True)
    page.click("#reminder-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/settings/reminders/")
    expect(page.locator("#reminders-STD")).to_contain_text("上班前 15 分钟")
    expect(page.locator("#reminders-STD")).to_contain_text("21:30")
    assert ReminderSettings.objects.get(group__code="STD").punch_in_minutes == 15
    context.close()
