"""The HR terminal page on a 375 px phone, in a real Chromium."""

from __future__ import annotations

import shutil

import pytest

from ztk.devices.models import DeviceStatus
from ztk.punches.models import Punch

from .conftest import image_bytes, make_device, photo_body

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine"),
]


def test_phone_width_approve_and_assign(live_server, client, org, monkeypatch):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    # Playwright's sync API runs an event loop in this thread; the ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    make_device("PEND0001", status=DeviceStatus.PENDING)
    make_device("CGXH201260001", group=org.group)
    client.post(
        "/iclock/cdata?SN=PEND0001&table=ATTLOG",
        data=b"1002\t2026-11-26 08:50:00\n",
        content_type="text/plain",
    )
    client.post(
        "/iclock/cdata?SN=CGXH201260001&table=ATTLOG",
        data=b"77\t2026-11-26 08:50:00\n77\t2026-11-26 18:00:00\n",
        content_type="text/plain",
    )
    client.force_login(org.hr.user)
    session = client.cookies["sessionid"].value

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en")
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.goto(f"{live_server.url}/hr/devices/")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375

            page.locator("#pending-PEND0001 button.primary").click()
            page.wait_for_load_state()
            assert Punch.objects.filter(device_sn="PEND0001").count() == 1

            card = page.locator("#held-CGXH201260001-77")
            card.locator("input[name=employee_no]").fill(org.colleague.employee_no)
            card.locator("button.primary").click()
            page.wait_for_load_state()
            assert Punch.objects.filter(employee=org.colleague).count() == 2

            page.goto(f"{live_server.url}/hr/devices/CGXH201260001/")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
        finally:
            browser.close()


def test_terminal_page_with_photos_and_allow_lists_fits_a_phone(
    live_server, client, org, monkeypatch, photo_dir
):
    """The photos load through the permission-checked view; the page does not scroll sideways."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    make_device("CGXH201260001", group=org.group, allowed_networks=["2001:db8:1::/48"])
    for index, color in enumerate([(200, 60, 60), (60, 120, 200)]):
        client.post(
            "/iclock/cdata?SN=CGXH201260001&table=ATTPHOTO",
            data=photo_body(image_bytes((640, 480), color=color), f"2026112608570{index}-1002.jpg"),
            content_type="text/plain",
            REMOTE_ADDR="2001:db8:1::7",
        )
    client.force_login(org.hr.user)
    session = client.cookies["sessionid"].value

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en")
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.goto(f"{live_server.url}/hr/devices/CGXH201260001/")
            page.wait_for_load_state("networkidle")

            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            widths = page.eval_on_selector_all(
                ".photo-grid img", "els => els.map(e => e.naturalWidth)"
            )
            assert widths == [640, 640]
            assert "2001:db8:1::/48" in page.input_value("textarea[name=allowed_networks]")
        finally:
            browser.close()


def test_a_3x_terminal_page_fits_a_phone_and_a_desktop(live_server, client, org, monkeypatch):
    """A terminal that registered over push 3.x: its protocol and session on the page."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from tests.browser import screenshots_dir
    from ztk.devices.simulator3 import Push3Terminal

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    make_device("CGXH3X0000001", group=org.group)
    Push3Terminal(live_server.url, "CGXH3X0000001").connect()
    client.force_login(org.hr.user)
    session = client.cookies["sessionid"].value

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for width, name in ((375, "phone"), (1280, "desktop")):
                context = browser.new_context(viewport={"width": width, "height": 900}, locale="en")
                context.add_cookies(
                    [{"name": "sessionid", "value": session, "url": live_server.url}]
                )
                page = context.new_page()
                page.goto(f"{live_server.url}/hr/devices/CGXH3X0000001/")
                assert "3.x" in page.inner_text("#push-protocol")
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.screenshot(path=str(screenshots_dir() / f"terminal-3x-{name}.png"))
                context.close()
        finally:
            browser.close()
