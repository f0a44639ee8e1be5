"""极速打卡 in a real Chromium at 375 px: opening the app inside a (mocked) punch area during
the check-in window punches at once and shows it with an undo; the undo voids the punch.
Outside the area the app does not punch by itself and says why."""

from __future__ import annotations

import os
from datetime import date, time

import pytest
import time_machine
from django.db import OperationalError

from tests import factories
from tests.attendance.page_data import at, store_day
from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from ztk.punches.models import Punch, PunchSettings, PunchVoid
from ztk.scheduling import services as scheduling

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the test's own ORM calls, beside Playwright

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
DAY = date(2026, 12, 7)  # a Monday; the standard shift 09:00–18:00
INSIDE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 15}
OUTSIDE = {"latitude": 31.3304, "longitude": 121.4737, "accuracy": 15}  # ~11 km north


def settled(page, read):
    """`read` from the database once the live server's own writes let it: SQLite's shared
    in-memory database answers "table is locked" while the server thread still writes."""
    for _attempt in range(200):
        try:
            return read()
        except OperationalError:
            page.wait_for_timeout(50)
    return read()


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.fixture
def quick_org(transactional_db):
    org = factories.small_org()
    day_shift = scheduling.shift_create(
        actor=org.hr.user, code="DAY", name="白班", segments=[{"start": time(9), "end": time(18)}]
    )[0]
    scheduling.pattern_set(actor=org.hr.user, group=org.group, shifts=[day_shift] * 5 + [None] * 2)
    factories.geofence(org.group)
    PunchSettings.objects.update_or_create(group=org.group, defaults={"quick_punch": True})
    return org


def _open_app(browser, live_server, where):
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        device_scale_factor=2,
        geolocation=where,
        permissions=["geolocation"],
    )
    context.clock.install(time=at(DAY, 8, 45))  # the phone's clock agrees with the server's
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, "employee")
    return context, page


def test_opening_the_app_in_the_area_punches_at_once_and_the_undo_voids_it(
    quick_org, live_server, browser
):
    from playwright.sync_api import expect

    # given: Monday 08:45, the check-in window open, nobody has punched
    with time_machine.travel(at(DAY, 8, 45), tick=True):
        store_day(quick_org.employee, DAY, as_of=at(DAY, 8, 45))

        # when: the employee opens the app standing inside the punch area
        context, page = _open_app(browser, live_server, INSIDE)

        # then: the app punched by itself, says so, and offers the undo
        undo = page.locator("#punch-undo")
        expect(undo).to_be_visible()
        expect(undo).to_contain_text("撤销")
        page.wait_for_load_state("networkidle")
        [punch] = settled(page, lambda: list(Punch.objects.filter(employee=quick_org.employee)))
        assert punch.inside_geofence is True
        assert page_width(page) <= PHONE["width"]
        page.screenshot(path=str(screenshots_dir() / "quick-punch-375.png"), full_page=True)

        # when: the employee taps the undo within the ten seconds
        undo.click()

        # then: the punch is voided by them, and the page says so
        expect(page.locator("#punch-undo-line")).to_be_hidden()
        page.wait_for_function(
            "() => document.getElementById('punch-status').textContent.trim() !== ''"
        )
        page.wait_for_load_state("networkidle")  # the page has refreshed: the server is done
        assert settled(
            page,
            lambda: PunchVoid.objects.filter(
                punch=punch, voided_by=quick_org.employee.user
            ).exists(),
        )
        page.screenshot(path=str(screenshots_dir() / "quick-punch-undone-375.png"), full_page=True)
        context.close()


def test_outside_the_area_the_app_does_not_punch_by_itself(quick_org, live_server, browser):
    from playwright.sync_api import expect

    with time_machine.travel(at(DAY, 8, 45), tick=True):
        store_day(quick_org.employee, DAY, as_of=at(DAY, 8, 45))
        context, page = _open_app(browser, live_server, OUTSIDE)

        status = page.locator("#punch-status")
        page.wait_for_function(
            "() => document.getElementById('punch-status').textContent.trim() !== ''"
            " && !/定位/.test(document.getElementById('punch-status').textContent)"
        )
        expect(page.locator("#punch-undo-line")).to_be_hidden()
        expect(page.locator("#punch-button")).to_be_enabled()
        assert status.text_content().strip()
        assert not settled(page, lambda: Punch.objects.filter(employee=quick_org.employee).exists())
        page.screenshot(path=str(screenshots_dir() / "quick-punch-outside-375.png"), full_page=True)
        context.close()
