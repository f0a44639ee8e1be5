"""Analytics in a real Chromium at 375 and 1280 px: HR opens analytics from the HR hub,
picks late arrivals, clicks the spike and lands on the people behind it; a chart downloads
as PNG. Nothing wider than the window. Screenshots: var/test/screenshots/analytics-*.png.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest
import time_machine

from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from tests.oversight.analytics_data import build_month
from tests.oversight.reminder_data import SH, build_reminders
from ztk.notifications.models import ReminderSent

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
RANGE = "from=2026-10-26&to=2026-12-27"
NOVEMBER = "from=2026-11-01&to=2026-11-30"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_hr_drills_from_a_spike_to_the_people_behind_it(live_server, browser, viewport, org):
    from playwright.sync_api import expect

    # given: 4 late arrivals in the week of 2 November, none in the other weeks
    build_month(org)
    ReminderSent.objects.create(user=org.employee.user, kind="punch_in", day=date(2026, 11, 9))
    shots = screenshots_dir()
    size = viewport["width"]
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, "hr")

    # when: from the HR hub to analytics, late arrivals over these weeks
    page.goto(f"{live_server.url}/hr/")
    page.click("a[href='/hr/analytics/']")
    page.select_option("select[name=metric]", "late")
    page.fill("input[name=from]", "2026-10-26")
    page.fill("input[name=to]", "2026-12-27")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#svg-trend-1")).to_be_visible()
    page.screenshot(path=str(shots / f"analytics-trends-{size}.png"), full_page=True)
    assert page_width(page) <= size

    # the PNG export draws the chart
    with page.expect_download() as download:
        page.click("button[data-png='svg-trend-1']")
    assert download.value.suggested_filename == "analytics-trend-1.png"

    # the spike: the week of 2 November
    page.click("#svg-trend-1 a.bar[href*='from=2026-11-02']")

    # then
    rows = page.locator("#drill tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("李四")
    page.screenshot(path=str(shots / f"analytics-people-{size}.png"), full_page=True)
    assert page_width(page) <= size
    page.click("#drill tbody tr >> nth=0 >> a[href*='/attendance/people/1003/2026-11-02/']")
    expect(page).to_have_url(f"{live_server.url}/attendance/people/1003/2026-11-02/")

    # the other tabs fit the window too
    for name in ("corrections", "approvals", "reminders", "patterns"):
        page.goto(f"{live_server.url}/hr/analytics/{name}/?{RANGE}")
        page.screenshot(path=str(shots / f"analytics-{name}-{size}.png"), full_page=True)
        assert page_width(page) <= size, name
    page.goto(f"{live_server.url}/hr/analytics/?metric=missing&by=department&{RANGE}")
    page.screenshot(path=str(shots / f"analytics-departments-{size}.png"), full_page=True)
    assert page_width(page) <= size
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_hr_reads_the_reminders_per_group_and_opens_who_did_not_punch(
    live_server, browser, viewport, org
):
    """Issue 14 item 7 on a phone: each group's before/after with its verdict, the share of
    reminders followed by a punch on time, and the people behind a group's bar."""
    from playwright.sync_api import expect

    build_reminders(org)
    shots = screenshots_dir()
    size = viewport["width"]
    with time_machine.travel(datetime(2026, 12, 7, 10, tzinfo=SH), tick=True):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page, live_server.url, "hr")
        page.goto(f"{live_server.url}/hr/analytics/reminders/?period=month&{NOVEMBER}")

        verdicts = page.locator("#group-verdicts tbody tr")
        expect(verdicts).to_have_count(2)
        expect(verdicts.first).to_contain_text("标准工时组")
        expect(verdicts.first).to_contain_text("已达到")
        expect(verdicts.nth(1)).to_contain_text("未达到")
        expect(page.locator("#svg-reminded-groups")).to_be_visible()
        page.screenshot(path=str(shots / f"analytics-reminders-groups-{size}.png"), full_page=True)
        assert page_width(page) <= size

        page.click("#svg-reminded-groups a.bar[href*='key=STD']")
        rows = page.locator("#drill tbody tr")
        expect(rows).to_have_count(4)
        expect(rows.first).to_contain_text("李四")
        page.screenshot(path=str(shots / f"analytics-reminded-people-{size}.png"), full_page=True)
        assert page_width(page) <= size
        context.close()
