"""The holiday calendar and punch area pages in a real Chromium at 375 px and 1280 px.

HR marks a day on the calendar; HR creates a punch area with "use my current position"
(the position mocked through the browser context's geolocation, permission granted), and
a browser whose permission is refused gets a clear message with the typed coordinates
kept. Screenshots go to var/test/screenshots/ (not committed) for a human look.
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from tests import factories
from tests.browser import launch_chromium, screenshots_dir
from ztk.punches.models import Geofence, Punch
from ztk.scheduling.models import WorkCalendarDay
from ztk.scheduling.services import calendar_seed

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

VIEWPORTS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}
OFFICE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 25}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page, viewport) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]


def _signed_in(browser, live_server, width, username="hr", **context_options):
    viewport = VIEWPORTS[width]
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", device_scale_factor=1, **context_options
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_marks_a_company_holiday_on_the_calendar(live_server, browser, width):
    from playwright.sync_api import expect

    factories.small_org()
    calendar_seed(actor=None, from_year=2026, to_year=2026)  # a flushed database lost the seed
    context, page = _signed_in(browser, live_server, width)

    page.goto(f"{live_server.url}/settings/holidays/2026/")
    expect(page.locator("h1")).to_have_text("2026 年节假日日历")
    expect(page.locator(".cal-month")).to_have_count(12)
    _no_sideways_scroll(page, VIEWPORTS[width])
    _shot(page, f"settings-holidays-{width}")

    page.click("a[aria-label^='2026-06-18']")
    expect(page.locator("#day-form input[name=date]")).to_have_value("2026-06-18")
    page.check("#day-form input[name=kind][value=holiday]")
    page.fill("#day-form input[name=name]", "司庆")
    page.click("#day-form button.primary")
    expect(page.locator(".messages")).to_contain_text("司庆")
    expect(page.locator("#day-2026-06-18")).to_contain_text("手工录入")
    assert WorkCalendarDay.objects.get(date=date(2026, 6, 18)).name == "司庆"
    _shot(page, f"settings-holidays-saved-{width}")

    # Oct 4 (a Sunday inside 国庆节) is a holiday but not statutory: 2×; HR says it is
    expect(page.locator("#day-2026-10-04 .rate")).to_have_text("2×")
    expect(page.locator("#day-2026-10-01 .rate")).to_have_text("3×")
    page.goto(f"{live_server.url}/settings/holidays/2026/?day=2026-10-04#day-form")
    page.select_option("#day-form select[name=statutory]", "yes")
    page.click("#day-form button.primary")
    expect(page.locator("#day-2026-10-04 .rate")).to_have_text("3×")
    assert WorkCalendarDay.objects.get(date=date(2026, 10, 4)).statutory
    _no_sideways_scroll(page, VIEWPORTS[width])
    page.locator("#day-2026-10-04").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots_dir() / f"settings-holidays-statutory-{width}.png"))

    page.goto(f"{live_server.url}/settings/holidays/2031/")
    expect(page.locator("#package-warning")).to_be_visible()
    _no_sideways_scroll(page, VIEWPORTS[width])
    _shot(page, f"settings-holidays-uncovered-{width}")
    context.close()


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_creates_a_punch_area_at_the_current_position(live_server, browser, width):
    from playwright.sync_api import expect

    factories.small_org()
    context, page = _signed_in(
        browser, live_server, width, geolocation=OFFICE, permissions=["geolocation"]
    )

    page.goto(f"{live_server.url}/settings/")
    page.click("#settings-sections a[href='/settings/geofences/']")
    expect(page.locator("#no-fences")).to_be_visible()
    page.click("main a.button.primary")
    expect(page.locator("#locate")).to_be_visible()
    page.fill("input[name=code]", "HQ")
    page.fill("input[name=name]", "总部")
    page.click("#locate")
    expect(page.locator("#locate-status")).to_contain_text("已获取位置")
    expect(page.locator("#f-lat")).to_have_value("31.230400")
    expect(page.locator("#f-lon")).to_have_value("121.473700")
    expect(page.locator("#fence-pic-coords")).to_have_text("31.230400, 121.473700")
    page.fill("#f-radius", "250")
    expect(page.locator("#fence-pic-radius")).to_have_text("250 m")
    page.check("input[name=groups][value=STD]")
    _no_sideways_scroll(page, VIEWPORTS[width])
    _shot(page, f"settings-geofence-form-{width}")

    page.click("#fence-form button.primary")
    expect(page.locator(".messages")).to_contain_text("总部")
    expect(page.locator("#fence-HQ")).to_contain_text("250 m")
    fence = Geofence.objects.get()
    assert (fence.latitude, fence.longitude, fence.radius_m) == (31.2304, 121.4737, 250)
    assert [g.code for g in fence.groups.all()] == ["STD"]
    _no_sideways_scroll(page, VIEWPORTS[width])
    _shot(page, f"settings-geofences-{width}")
    context.close()


def test_a_refused_position_leaves_a_clear_message_and_the_typed_coordinates(live_server, browser):
    from playwright.sync_api import expect

    factories.small_org()
    context, page = _signed_in(browser, live_server, "375")  # no geolocation permission
    context.clear_permissions()

    page.goto(f"{live_server.url}/settings/geofences/new/")
    page.fill("#f-lat", "31.1")
    page.fill("#f-lon", "121.2")
    page.click("#locate")
    expect(page.locator("#locate-status")).to_contain_text("浏览器未获准提供您的位置")
    expect(page.locator("#locate-status")).to_have_class("locate-status small is-error")
    expect(page.locator("#f-lat")).to_have_value("31.1")
    expect(page.locator("#locate")).to_be_enabled()
    _shot(page, "settings-geofence-denied-375")
    context.close()


def test_an_employee_punches_inside_the_area_and_outside_gets_the_field_punch_path(
    live_server, browser
):
    """At 375 px with a mocked position: inside the active area the punch is recorded as
    inside; outside it (a colleague, so no duplicate tap) the photo form of a field punch
    (外勤) opens. An inactive area nearby counts for nothing."""
    from playwright.sync_api import expect

    org = factories.small_org()
    factories.geofence(org.group, code="HQ", latitude=31.2304, longitude=121.4737, radius_m=300)
    factories.geofence(org.group, code="OLD", latitude=31.30, longitude=121.60, active=False)

    context, page = _signed_in(browser, live_server, "375", username="employee",
                               geolocation=OFFICE, permissions=["geolocation"])  # fmt: skip
    page.goto(f"{live_server.url}/attendance/")
    page.click("#punch-button")
    expect(page.locator("#punch-status")).to_have_class("punch-status is-ok")
    _shot(page, "punch-inside-area-375")
    context.close()
    punch = Punch.objects.get(employee=org.employee)
    assert punch.inside_geofence is True and punch.field_punch is False

    in_old_area = {"latitude": 31.30, "longitude": 121.60, "accuracy": 20}
    context, page = _signed_in(browser, live_server, "375", username="colleague",
                               geolocation=in_old_area, permissions=["geolocation"])  # fmt: skip
    page.goto(f"{live_server.url}/attendance/")
    page.click("#punch-button")
    expect(page.locator("#punch-photo")).to_be_visible()
    _shot(page, "punch-outside-area-375")
    context.close()
    assert not Punch.objects.filter(employee=org.colleague).exists()
