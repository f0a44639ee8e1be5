"""The PIN page, the biometric data page and the terminal page's sync button on a 375 px
phone and a desktop, in a real Chromium (zh-hans, the default language). Screenshots go
to var/test/screenshots/terminal-people-*.png for a human look."""

from __future__ import annotations

import os

import pytest

from tests.browser import launch_chromium, page_width, screenshots_dir
from ztk.devices.models import BiometricOptOut, TerminalPin
from ztk.devices.services import terminal_pin_set

from .conftest import make_device
from .test_biometrics import fp_line

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.terminal_sync,
]


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def test_pin_and_biometric_pages_fit_a_phone(browser, live_server, client, org):
    a = make_device("TERMA0001", group=org.group, name="前门")
    make_device("TERMB0002", group=org.group, name="后门")
    terminal_pin_set(actor=None, pin="77", employee=org.colleague, group=org.group, card="1234567")
    client.post(
        f"/iclock/cdata?SN={a.serial}&table=OPERLOG",
        data=fp_line().encode(),
        content_type="text/plain",
    )
    shots = screenshots_dir()
    # HR signs in with a second factor: the session is made here and handed to Chromium
    client.force_login(org.hr.user)
    session = client.cookies["sessionid"].value

    def hr_page(viewport):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(10_000)
        return context, page

    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page = hr_page(viewport)
        page.goto(f"{live_server.url}/hr/devices/pins/")
        assert page.locator("#pin-mappings").inner_text().count("1234567") == 1
        assert page_width(page) <= viewport["width"]
        page.screenshot(path=str(shots / f"terminal-people-pins-{name}.png"), full_page=True)

        page.goto(f"{live_server.url}/hr/devices/biometrics/")
        assert "张三" in page.locator("#templates").inner_text()
        assert page_width(page) <= viewport["width"]
        page.screenshot(path=str(shots / f"terminal-people-biometrics-{name}.png"), full_page=True)

        page.goto(f"{live_server.url}/hr/devices/{a.serial}/")
        assert page.locator("#sync-all button").is_visible()
        assert page_width(page) <= viewport["width"]
        page.locator("#sync-all").screenshot(path=str(shots / f"terminal-people-sync-{name}.png"))
        context.close()

    # on the phone: map a PIN through the form, then withdraw consent
    context, page = hr_page(PHONE)
    page.goto(f"{live_server.url}/hr/devices/pins/")
    form = page.locator("#pin-form")
    form.locator("input[name=pin]").fill("501")
    form.locator("input[name=employee_no]").fill("1002")
    form.locator("input[name=card]").fill("8800123")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert TerminalPin.objects.filter(pin="501", card="8800123").exists()
    page.screenshot(path=str(shots / "terminal-people-pins-saved-phone.png"), full_page=True)

    page.goto(f"{live_server.url}/hr/devices/biometrics/")
    form = page.locator("#withdraw-form")
    form.locator("input[name=employee_no]").fill("1002")
    form.locator("input[name=reason]").fill("本人书面撤回")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert BiometricOptOut.objects.filter(employee=org.employee).exists()
    assert "本人书面撤回" in page.locator("#opt-outs").inner_text()
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(shots / "terminal-people-withdrawn-phone.png"), full_page=True)
    context.close()
