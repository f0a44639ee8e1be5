"""The schedule pages in a real Chromium at 375 px and 1280 px (screenshots for a human look).

HR opens the weekly pattern and the roster grid, clicks a day (the static roster.js opens
the "set one day" dialog), saves a night shift and sees it bold in the grid; the grid
scrolls inside its own box with the names kept in view, and the page itself never scrolls
sideways. Screenshots: var/test/screenshots/schedules-*.png (not committed).
"""

from __future__ import annotations

import os
from datetime import time

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, screenshots_dir
from ztk.scheduling.models import RosterEntry, Shift, ShiftSegment, WeeklyPattern

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

# Content-Security-Policy refusals (an inline script or style would be one) are collected.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""
VIEWPORTS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _org():
    org = factories.small_org()
    d9 = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=d9, position=1, start=time(9), end=time(18))
    n8 = Shift.objects.create(code="N8", name="夜班")
    ShiftSegment.objects.create(shift=n8, position=1, start=time(22), end=time(6))
    WeeklyPattern.objects.create(
        group=org.group,
        **{f"{d}_shift": d9 for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    )
    first = timezone.localdate().replace(day=1)
    RosterEntry.objects.create(employee=org.colleague, date=first, shift=None)
    bare = factories.AttendanceGroupFactory(code="NEW", name="新组")
    factories.EmployeeFactory(
        attendance_group=bare, employee_no="5001", name="孙七", department=org.department
    )
    return org, first


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_sets_a_day_in_the_roster_grid(live_server, browser, width):
    from playwright.sync_api import expect

    org, first = _org()
    viewport = VIEWPORTS[width]
    shots = screenshots_dir()
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    context.add_init_script(WATCH)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "hr")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/settings/")
    page.click("#settings-sections a[href='/settings/schedules/']")
    expect(page.locator("h1")).to_have_text("排班")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(shots / f"schedules-index-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/settings/schedules/patterns/STD/")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(shots / f"schedules-pattern-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/settings/schedules/roster/?department=RD")
    expect(page.locator("#unplanned")).to_contain_text("孙七 (5001)")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(shots / f"schedules-roster-{width}.png"), full_page=False)
    day = first.replace(day=3).isoformat()
    assert page.evaluate("window.__csp") == [] and errors == []
    page.click(f"#row-1002 td[data-day='{day}'] a")
    dialog = page.locator("#set-cell")
    expect(dialog).to_be_visible()
    expect(page.locator("#set-cell-who")).to_contain_text(f"张三 (1002) · {day}")
    page.screenshot(path=str(shots / f"schedules-roster-dialog-{width}.png"), full_page=False)
    page.select_option("#set-cell-value", "N8")
    dialog.locator("button[type=submit]").click()
    cell = page.locator(f"#row-1002 td[data-day='{day}']")
    expect(cell).to_have_text("N8")
    expect(cell).to_have_class("k-work override saved")  # the saved day is marked, in view
    assert page.locator(".roster-scroll").evaluate("el => el.scrollLeft") >= 0
    page.screenshot(path=str(shots / f"schedules-roster-saved-{width}.png"), full_page=False)
    # the name column stays in view when the grid is scrolled to the month's end
    page.locator(".roster-scroll").evaluate("el => el.scrollLeft = el.scrollWidth")
    box = page.locator(".roster-scroll").bounding_box()
    name = page.locator("#row-1002 th.name").bounding_box()
    assert box is not None and name is not None and abs(name["x"] - box["x"]) < 3
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(shots / f"schedules-roster-end-{width}.png"), full_page=False)
    assert page.evaluate("window.__csp") == [] and errors == []
    context.close()
