"""The attendance group pages in a real Chromium at 375 px and 1280 px (screenshots for a
human look, in var/test/screenshots/): HR creates a group from the settings index, ticks
a terminal, adds a department, and checks an import; nothing scrolls sideways on a phone.
"""

from __future__ import annotations

import os

import pytest

from tests import factories
from tests.browser import launch_chromium, screenshots_dir
from ztk.devices.models import Device, DeviceStatus

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

VIEWPORTS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _fits(page, width: int) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


@pytest.mark.parametrize("width", ["375", "1280"])
def test_hr_sets_up_a_group_with_a_terminal_and_members(live_server, browser, width):
    org = factories.small_org()
    Device.objects.create(serial="CQZ7232260001", name="前台考勤机", status=DeviceStatus.APPROVED)
    org.group.geofences.create(name="总部大楼", latitude=31.2304, longitude=121.4737, radius_m=300)
    viewport = VIEWPORTS[width]
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    from playwright.sync_api import expect

    folder = screenshots_dir()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "hr")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/settings/")
    page.click("#settings-sections a[href='/settings/groups/']")
    expect(page.locator("h1")).to_have_text("考勤组")
    expect(page.locator("#group-STD")).to_contain_text("标准工时组")
    _fits(page, viewport["width"])
    page.screenshot(path=str(folder / f"groups-list-{width}.png"), full_page=True)

    page.click("#new-group")
    page.fill("input[name=code]", "SH")
    page.fill("input[name=name]", "上海办公室")
    page.select_option("select[name=time_zone]", "other")
    page.fill("input[name=time_zone_other]", "Mars/Olympus")
    page.fill("input[name=day_boundary_hour]", "4")
    page.click("#group-form button.primary")
    expect(page.locator("#group-form .errors")).to_contain_text("Mars/Olympus")
    _fits(page, viewport["width"])
    page.screenshot(path=str(folder / f"group-refused-{width}.png"), full_page=True)

    page.select_option("select[name=time_zone]", "Asia/Shanghai")
    page.click("#group-form button.primary")
    expect(page.locator(".messages")).to_contain_text("上海办公室")
    page.check("input[name=terminals][value=CQZ7232260001]")
    page.click("#terminals button")
    expect(page.locator(".messages")).to_contain_text("1")
    _fits(page, viewport["width"])
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(folder / f"group-edit-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/settings/groups/STD/edit/")
    expect(page.locator("#geofences")).to_contain_text("总部大楼")
    page.screenshot(path=str(folder / f"group-edit-geofences-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/settings/groups/SH/members/")
    page.select_option("select[name=department]", "RD")
    page.click("text=添加该部门")
    expect(page.locator("#members")).to_contain_text("张三")
    page.fill("textarea[name=numbers]", "工号\n2001\n9999")
    page.click("text=检查")
    expect(page.locator("#line-3")).to_contain_text("9999")
    _fits(page, viewport["width"])
    page.screenshot(path=str(folder / f"group-members-{width}.png"), full_page=True)
    context.close()
