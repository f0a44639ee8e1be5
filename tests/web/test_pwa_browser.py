"""The installable app in a real Chromium: after 我的考勤 has been opened once, going offline
still shows it (marked as the copy kept on this device), the punch button says why it
cannot punch, a page never opened shows the offline page, and signing out drops the copy."""

from __future__ import annotations

import os

import pytest

from tests import factories
from tests.browser import launch_chromium, screenshots_dir

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _kept_pages(page) -> list[str]:
    return page.evaluate(
        """() => caches.has("ztk-pages").then(has => has
             ? caches.open("ztk-pages").then(c => c.keys()).then(keys =>
                 keys.map(k => new URL(k.url).pathname))
             : [])"""
    )


def test_offline_the_app_shows_my_last_known_day_and_will_not_punch(live_server, browser):
    from playwright.sync_api import expect

    factories.small_org()
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server.url

    # given: the employee signed in and opened 我的考勤 with the worker in control
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "employee")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.wait_for_function(
        "() => navigator.serviceWorker.getRegistration().then(r => !!(r && r.active))"
    )
    page.goto(f"{base}/")  # a reload may bypass the worker
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        """() => caches.open("ztk-pages").then(c => c.match(location.origin + "/"))
                   .then(hit => !!hit)"""
    )
    assert "/" in _kept_pages(page)

    # when: the phone loses its connection and the app is opened again
    context.set_offline(True)
    page.goto(f"{base}/")

    # then: the kept copy, said to be one, and a punch button that explains itself
    expect(page.locator("h1")).to_have_text("我的考勤")
    banner = page.locator("#offline-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("离线")
    expect(page.locator("#punch-button")).to_be_disabled()
    expect(page.locator("#punch-status")).to_contain_text("服务器")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(screenshots_dir() / "pwa-offline-home-375.png"), full_page=True)

    # when: a page never opened on this device
    page.goto(f"{base}/attendance/day/2020-01-02/")

    # then: the offline page, naming no one
    expect(page.locator("h1")).to_contain_text("离线")
    assert "张三" not in page.content()
    page.screenshot(path=str(screenshots_dir() / "pwa-offline-page-375.png"), full_page=True)

    # when: back online, the employee signs out
    context.set_offline(False)
    page.goto(f"{base}/")
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator("#punch-button")).to_be_enabled()
    page.click(".usermenu summary")
    page.click(".usermenu form[action$='/logout/'] button")
    page.wait_for_url(f"{base}/accounts/login/**")

    # then: nothing of theirs is left on the device
    page.wait_for_function(
        """() => caches.open("ztk-pages").then(c => c.match(location.origin + "/"))
                   .then(hit => !hit)"""
    )
    context.close()
