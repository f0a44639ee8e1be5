"""The work apps settings page in a real Chromium at 375 px and 1280 px (screenshots in
var/test/screenshots/ for a human look): HR opens it from the settings index, fills the
WeCom app and saves; the secret is not shown back; nothing scrolls sideways on a phone."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from ztk.notifications.workapps.models import WorkApp

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

VIEWPORTS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_sets_up_the_wecom_app(live_server, browser, width):
    factories.small_org()
    viewport = VIEWPORTS[width]
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    folder = screenshots_dir()
    log_in(page, live_server.url, "hr")

    page.goto(f"{live_server.url}/settings/")
    page.click("#settings-sections a[href='/settings/work-apps/']")
    expect(page.locator("h1")).to_have_text("办公应用")
    assert page_width(page) <= viewport["width"]
    page.fill("#wecom-corp_id", "wwcorp1")
    page.fill("#wecom-agent_id", "1000002")
    page.fill("#wecom-app_secret", "very-secret-value")
    page.check("#wecom input[name=active]")
    page.click("#wecom button.primary")
    page.wait_for_url(f"{live_server.url}/settings/work-apps/#wecom")

    expect(page.locator("#wecom h2 .status")).to_have_text("发送中")
    expect(page.locator("#wecom")).to_contain_text("已设置。留空即保留。")
    assert "very-secret-value" not in page.content()
    assert page_width(page) <= viewport["width"]
    page.screenshot(path=str(folder / f"work-apps-{width}.png"), full_page=True)
    assert WorkApp.objects.get(platform="wecom").ready
    context.close()
