"""The shift pages in a real Chromium at 375 px and 1280 px (screenshots for a human look).

HR opens Shifts from the settings index, types a night shift and sees the 24-hour bar
follow the typing (htmx swaps the server-drawn picture: no script of the page's own, no
CSP violation), saves it and finds it in the list. Nothing makes the phone page scroll
sideways. Screenshots go to var/test/screenshots/ (not committed).
"""

from __future__ import annotations

import os
from datetime import time

import pytest

from tests import factories
from tests.browser import launch_chromium, screenshots_dir
from ztk.scheduling import services
from ztk.scheduling.models import SegmentSpec

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

VIEWPORTS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=True)


def _fits(page, width: int) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_types_a_night_shift_and_the_bar_follows(live_server, browser, width):
    org = factories.small_org()
    hr = org.hr.user
    services.shift_create(
        actor=hr,
        code="SPLIT",
        name="两段班",
        segments=[SegmentSpec(time(9), time(12)), SegmentSpec(time(13), time(18), grace_in=10)],
    )
    flexible, _ = services.shift_create(
        actor=hr,
        code="FLEX",
        name="弹性班",
        kind="flexible",
        segments=[SegmentSpec(time(7), time(22))],
        arrive_from=time(8),
        arrive_until=time(10),
        required_minutes=540,
    )
    services.pattern_set(actor=hr, group=org.group, shifts=[flexible] * 5 + [None, None])
    viewport = VIEWPORTS[width]
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "hr")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/settings/")
    page.click("#settings-sections a[href='/settings/shifts/']")
    expect(page.locator("h1")).to_have_text("班次")
    page.click("#new-shift")
    expect(page.locator("#shift-bar svg .segment")).to_have_count(1)
    expect(page.locator("#shift-bar svg .midnight")).to_have_count(0)  # 09:00–18:00

    page.fill("#id_code", "N1")
    page.fill("#id_name", "夜班")
    page.fill("input[name='seg-0-start']", "22:00")
    page.fill("input[name='seg-0-end']", "06:00")
    # the picture follows: the next day appears, midnight is marked, the words say +1
    expect(page.locator("#shift-bar svg .midnight")).to_have_count(1)
    expect(page.locator("#shift-bar")).to_contain_text("06:00 +1")
    _fits(page, viewport["width"])
    _shot(page, f"settings-shift-new-night-{width}")

    page.fill("input[name='seg-0-out_latest']", "1440")
    expect(page.locator("#shift-bar .shiftbar-problems")).to_contain_text("24:00")
    page.fill("input[name='seg-0-out_latest']", "240")
    expect(page.locator("#shift-bar .shiftbar-problems")).to_have_count(0)

    page.click("main button.primary")
    page.wait_for_url(f"{live_server.url}/settings/shifts/N1/edit/")
    expect(page.locator(".messages")).to_contain_text("N1")
    _shot(page, f"settings-shift-edit-night-{width}")

    page.goto(f"{live_server.url}/settings/shifts/FLEX/edit/")
    expect(page.locator("#shift-in-use")).to_contain_text(org.group.name)
    _fits(page, viewport["width"])
    _shot(page, f"settings-shift-edit-flexible-{width}")

    page.goto(f"{live_server.url}/settings/shifts/")
    expect(page.locator("#shift-N1")).to_contain_text("跨天")
    expect(page.locator("#shift-FLEX")).to_contain_text(org.group.name)
    _fits(page, viewport["width"])
    _shot(page, f"settings-shifts-list-{width}")
    assert not violations, violations
    context.close()
