"""A real Chromium: the report page on a phone, and the personal sheet printed on one A4 page.

Screenshots and the PDF go to /tmp/ztk-reports-* for a human look.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests import factories
from tests.browser import launch_chromium
from tests.reports.data import november
from ztk.leave.models import LeaveType

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 375, "height": 740}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _log_in(browser, base_url: str, username: str):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return context, page


def _page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def test_hr_reads_the_monthly_report_on_a_phone(live_server, browser):
    org = factories.small_org()
    november(org)
    LeaveType.objects.create(code="family_care", name_zh="陪护假", name_en="Family care leave")
    context, page = _log_in(browser, live_server.url, "hr")

    page.goto(f"{live_server.url}/reports/?period=2026-11")

    assert page.locator("#monthly-summary tbody tr").count() == 7
    assert "陪护假(天)" in page.locator("#monthly-summary thead").inner_text()  # HR's type
    assert _page_width(page) <= PHONE["width"]
    wrap = page.locator(".tablewrap").last
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls inside
    page.screenshot(path="/tmp/ztk-reports-monthly-375.png", full_page=True)
    shots = Path(os.environ.get("ZTK_VAR_DIR", "var/test")) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "reports-monthly-375.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(shots / "reports-monthly-1280.png"), full_page=True)
    context.close()


def test_an_employee_prints_their_sheet_on_one_a4_page(live_server, browser):
    org = factories.small_org()
    november(org)
    context, page = _log_in(browser, live_server.url, "employee")

    page.goto(f"{live_server.url}/reports/sheet/?period=2026-11")

    assert page.url.endswith("/reports/sheet/1002/?period=2026-11")
    assert _page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-reports-sheet-375.png", full_page=True)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1047})  # A4 less the margins at 96 dpi
    page.screenshot(path="/tmp/ztk-reports-sheet-print.png", full_page=True)
    assert page.locator(".appbar").is_hidden()
    assert page.locator(".rep-actions").is_hidden()
    pdf = page.pdf(format="A4", print_background=True)
    Path("/tmp/ztk-reports-sheet.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1
    context.close()
