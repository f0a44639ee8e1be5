"""The inbox at 375 px and 1280 px: a punch added by an English-speaking HR reads in
Chinese for 张三 (the site default), and in English once he switches the language.
Screenshots go to var/test/screenshots/ for a human look; so does the admin index in
zh-hans (its title and sections translated)."""

from __future__ import annotations

import os

import pytest
from django.utils import translation

from tests import factories
from tests.browser import launch_chromium, screenshots_dir
from tests.hrdesk import test_manual as manual_tests

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

pytestmark = pytest.mark.browser
shop = manual_tests.shop  # 张三 on a weekday shift, punched in on Monday (a fixture)
VIEWPORTS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _signed_in(browser, live_server, username: str, width: str):
    context = browser.new_context(viewport=VIEWPORTS[width], locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")
    return context, page


@pytest.mark.parametrize("width", ["375", "1280"])
def test_the_inbox_reads_in_the_readers_language(live_server, browser, shop, width):
    from playwright.sync_api import expect

    with translation.override("en"):  # HR works in English
        manual_tests.add(shop, [("out1", manual_tests.at(manual_tests.MON, 18, 5))])
    context, page = _signed_in(browser, live_server, shop.employee.user.username, width)

    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("#inbox h2").first).to_contain_text("人事为您补录了")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= VIEWPORTS[width]["width"]
    page.screenshot(path=str(screenshots_dir() / f"inbox-zh-{width}.png"), full_page=True)

    page.click(".langswitch button")
    expect(page.locator("#inbox h2").first).to_contain_text("HR added a punch for you on")
    page.screenshot(path=str(screenshots_dir() / f"inbox-en-{width}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("width", ["375", "1280"])
def test_the_admin_index_in_chinese(live_server, browser, width, db):
    from playwright.sync_api import expect

    factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    context, page = _signed_in(browser, live_server, "root", width)

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_contain_text("ZTK 考勤管理后台")
    expect(page.locator("caption").first).not_to_contain_text("Axes")
    page.screenshot(path=str(screenshots_dir() / f"admin-index-zh-{width}.png"), full_page=True)
    context.close()
