"""The settings pages in a real Chromium at 375 px and 1280 px (screenshots for a human look).

HR opens /settings/ from the navigation, creates an API key (the secret shown once) and
revokes it; nothing makes the phone page scroll sideways. Screenshots are written to
var/test/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import re
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


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_sets_up_a_payroll_webhook(live_server, browser, width, settings):
    """From /settings/: a new webhook (a private address refused first), its secret shown
    once, a test event in the delivery log, a given-up delivery with its retry box."""
    from playwright.sync_api import expect

    from ztk.reports.models import PayrollDelivery, PayrollWebhook

    factories.small_org()
    viewport = VIEWPORTS[width]
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "hr")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/settings/")
    page.click("#settings-sections a[href='/settings/webhooks/']")
    expect(page.locator("h1")).to_have_text("推送 Webhook")
    page.fill("input[name=name]", "薪资系统")
    page.fill("input[name=url]", "https://10.0.0.8/payroll")
    page.click("main button.primary")
    expect(page.locator(".errors")).to_contain_text("10.0.0.8")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    _shot(page, f"settings-webhooks-refused-{width}")

    page.fill("input[name=url]", "https://93.184.216.34/payroll/ztk?token=abc")
    page.click("main button.primary")
    expect(page.locator("#new-secret")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    _shot(page, f"settings-webhooks-created-{width}")

    dead = PayrollDelivery.objects.create(  # written directly: nothing is sent
        webhook=PayrollWebhook.objects.get(),
        event="webhook.test",
        body="{}",
        status="dead",
        attempts=8,
        last_status=503,
        last_error="HTTP 503: 服务暂不可用",
    )
    page.click("text=打开该 Webhook")
    expect(page.locator(f"#delivery-{dead.pk}")).to_contain_text("已放弃")
    expect(page.locator("#new-secret")).to_have_count(0)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    _shot(page, f"settings-webhook-{width}")
    context.close()
