"""The settings pages in a real Chromium at 375 px and 1280 px (screenshots for a human look).

HR opens /settings/ from the navigation, creates an API key (the secret shown once) and
revokes it; nothing makes the phone page scroll sideways. Screenshots are written to
var/test/screenshots/ (not committed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests import factories
from tests.browser import launch_chromium

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

VIEWPORTS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _shot(page, name: str) -> None:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_creates_and_revokes_an_api_key(live_server, browser, width):
    factories.small_org()
    viewport = VIEWPORTS[width]
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "hr")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/settings/")
    expect(page.locator("h1")).to_have_text("系统设置")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    _shot(page, f"settings-index-{width}")

    page.click("#settings-sections a[href='/settings/api-keys/']")
    page.fill("input[name=name]", "薪资系统")
    page.click("main button.primary")
    expect(page.locator("#new-key")).to_contain_text("ztk_")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    _shot(page, f"settings-api-keys-created-{width}")

    page.click("#settings-keys form button")
    expect(page.locator(".messages")).to_contain_text("已吊销")
    expect(page.locator("#new-key")).to_have_count(0)
    _shot(page, f"settings-api-keys-revoked-{width}")
    context.close()
