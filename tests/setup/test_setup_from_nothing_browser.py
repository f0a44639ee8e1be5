"""Issue 12's headline proof: HR sets a new team up from nothing in the product's own pages.

HR at 1280 px, with a department of two people in no attendance group and an approved
terminal that counts for no group, goes through the settings pages only: a shift, the
group (time zone, day boundary, field punches outside the areas), its weekly pattern, the
year's holidays imported with the page's button, a punch area around the office taken
with "use my current position", a correction policy with a single-level chain, the
terminal, the two members. Then the first employee, on a 375 px phone inside the area,
punches from 我的考勤 and the day is judged by the new shift; the second, outside the
area, is asked for a photo for a field punch (外勤).

The server's clock is moved (time_machine, ticking) to a Wednesday 08:30 in Shanghai, so
the punch always falls just before the new shift's 09:00 start: no sleeping, no
dependence on when the test runs. Screenshots of every settings page visited are kept
in var/test/screenshots/setup-walk-*.png.
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.browser import launch_chromium, screenshots_dir
from ztk.attendance.models import AttendanceDay
from ztk.corrections.models import CorrectionPolicy, ReasonCategory
from ztk.devices.models import Device, DeviceStatus
from ztk.org.models import AttendanceGroup, Employee
from ztk.punches.models import Geofence, Punch
from ztk.scheduling.models import WorkCalendarDay

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_BEFORE_NINE = datetime(2026, 12, 9, 8, 30, tzinfo=SHANGHAI)  # 30 min to spare
OFFICE = {"latitude": 30.5728, "longitude": 104.0668, "accuracy": 20}  # 成都
ACROSS_TOWN = {"latitude": 30.6600, "longitude": 104.1500, "accuracy": 20}  # ~12 km away

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots_dir() / f"setup-walk-{name}.png"), full_page=True)


def _fits(page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


def _sign_in(browser, live_server, username, viewport, **context_options):
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", device_scale_factor=1, **context_options
    )
    context.clock.set_system_time(WEDNESDAY_BEFORE_NINE)  # the server's clock, moved
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def _organisation():
    """HR (in a head-office group of its own), a department of two people in no group yet,
    their supervisor, and an approved terminal that counts for no group."""
    head_office = factories.AttendanceGroupFactory(code="HO", name="总部")
    hr_dept = factories.DepartmentFactory(code="HRD", name="人力资源部")
    hr = factories.EmployeeFactory(
        user=factories.UserFactory(username="hr"),
        employee_no="4001",
        name="陈人事",
        department=hr_dept,
        attendance_group=head_office,
    )
    factories.add_to_group(hr.user, "hr")
    team = factories.DepartmentFactory(code="CD", name="成都分部")
    lead = factories.EmployeeFactory(
        user=factories.UserFactory(username="lead"),
        employee_no="7000",
        name="刘组长",
        department=team,
        attendance_group=head_office,
    )
    first = factories.EmployeeFactory(
        user=factories.UserFactory(username="wang"),
        employee_no="7001",
        name="王小明",
        department=team,
        supervisor=lead,
        attendance_group=None,
    )
    second = factories.EmployeeFactory(
        user=factories.UserFactory(username="zhao"),
        employee_no="7002",
        name="赵小红",
        department=team,
        supervisor=lead,
        attendance_group=None,
    )
    Device.objects.create(serial="CQZ7232260077", name="成都前台", status=DeviceStatus.APPROVED)
    # The reason categories a fresh install has (migration 0002): a live-server test before
    # this one in the same worker flushes the database, seeded rows included.
    for code, name in [("forgot", "忘记打卡"), ("device", "设备故障"), ("other", "其他")]:
        ReasonCategory.objects.get_or_create(policy=None, code=code, defaults={"name": name})
    return first, second


def test_hr_sets_up_a_new_group_and_its_first_punches_are_judged_by_it(
    live_server, browser, time_machine
):
    from playwright.sync_api import expect

    # a loaded machine (the holiday import recomputes the year) may take more than the
    # default 5 s for a page: wait longer rather than fail
    expect.set_options(timeout=15_000)
    time_machine.move_to(WEDNESDAY_BEFORE_NINE, tick=True)
    first, second = _organisation()
    url = live_server.url
    context, page = _sign_in(
        browser, live_server, "hr", DESKTOP, geolocation=OFFICE, permissions=["geolocation"]
    )

    # 1. the settings index
    page.goto(f"{url}/settings/")
    expect(page.locator("h1")).to_have_text("系统设置")
    _fits(page)
    _shot(page, "01-index")

    # 2. a shift: 09:00–18:00, the form's defaults
    page.click("#settings-sections a[href='/settings/shifts/']")
    page.click("#new-shift")
    page.fill("#id_code", "CD9")
    page.fill("#id_name", "成都白班")
    expect(page.locator("#shift-bar svg .segment")).to_have_count(1)
    _fits(page)
    _shot(page, "02-shift-new")
    page.click("main button.primary")
    page.wait_for_url(f"{url}/settings/shifts/CD9/edit/")
    expect(page.locator(".messages")).to_contain_text("CD9")

    # 3. the group: time zone, day boundary, field punches outside the areas
    page.goto(f"{url}/settings/")
    page.click("#settings-sections a[href='/settings/groups/']")
    _shot(page, "03-groups")
    page.click("#new-group")
    page.fill("input[name=code]", "CD")
    page.fill("input[name=name]", "成都分部考勤组")
    page.select_option("select[name=time_zone]", "Asia/Shanghai")
    page.fill("input[name=day_boundary_hour]", "4")
    page.check("input[name=web_punch_enabled]")
    page.check("input[name=outside_rule][value=field]")
    _fits(page)
    _shot(page, "04-group-new")
    page.click("#group-form button.primary")
    expect(page.locator(".messages")).to_contain_text("成都分部考勤组")
    group = AttendanceGroup.objects.get(code="CD")
    assert (group.time_zone, group.day_boundary_hour) == ("Asia/Shanghai", 4)

    # 4. the weekly pattern: the new shift Monday to Friday, following the work calendar
    page.goto(f"{url}/settings/")
    page.click("#settings-sections a[href='/settings/schedules/']")
    _shot(page, "05-schedules")
    page.goto(f"{url}/settings/schedules/patterns/CD/")
    for day in range(5):
        page.select_option(f"select[name=day-{day}]", "CD9")
    page.check("input[name=use_work_calendar]")
    expect(page.locator("input[name=effective_from]")).to_have_value("2026-12-09")  # today
    page.click(".pattern-form button.primary")
    expect(page.locator("#pattern-versions")).to_contain_text("CD9")
    _fits(page)
    _shot(page, "06-pattern")

    # 5. the year's holidays, with the page's own import button
    page.goto(f"{url}/settings/")
    page.click("#settings-sections a[href='/settings/holidays/2026/']")
    page.click("text=从 chinesecalendar 导入")
    expect(page.locator(".messages")).to_be_visible()
    assert WorkCalendarDay.objects.filter(date__year=2026, kind="holiday").exists()
    expect(page.locator("#fallback-warning")).to_have_count(0)
    _fits(page)
    _shot(page, "07-holidays")

    # 6. a punch area around the office, at HR's current position, used by the new group
    page.goto(f"{url}/settings/")
    page.click("#settings-sections a[href='/settings/geofences/']")
    page.click("main a.button.primary")
    page.fill("input[name=code]", "CDOFFICE")
    page.fill("input[name=name]", "成都办公室")
    page.click("#locate")
    expect(page.locator("#f-lat")).to_have_value("30.572800")
    page.fill("#f-radius", "300")
    page.check("input[name=groups][value=CD]")
    _fits(page)
    _shot(page, "08-geofence-new")
    page.click("#fence-form button.primary")
    expect(page.locator("#fence-CDOFFICE")).to_contain_text("300 m")
    _shot(page, "09-geofences")
    fence = Geofence.objects.get(code="CDOFFICE")
    assert [g.code for g in fence.groups.all()] == ["CD"]

    # 7. the correction policy: a single-level chain (the supervisor decides)
    page.goto(f"{url}/settings/")
    page.click("#settings-sections a[href='/settings/corrections/']")
    _shot(page, "10-corrections")
    page.goto(f"{url}/settings/corrections/CD/")
    page.check("input[name=chain_preset][value=single]")
    page.click(".policy-form button.primary")
    expect(page.locator(".messages")).to_be_visible()  # saved: the page came back with it
    expect(page.locator("#policy-summary")).to_contain_text("主管")
    _fits(page)
    _shot(page, "11-correction-policy")
    assert CorrectionPolicy.objects.get(group=group).chain_preset == "single"

    # 8. the terminal, and 9. the two members, by person
    page.goto(f"{url}/settings/groups/CD/edit/")
    page.check("input[name=terminals][value=CQZ7232260077]")
    page.click("#terminals button")
    expect(page.locator(".messages")).to_contain_text("1")
    expect(page.locator("#geofences")).to_contain_text("成都办公室")
    _fits(page)
    _shot(page, "12-group-edit")
    assert Device.objects.get(serial="CQZ7232260077").attendance_group == group
    page.click("#members-link")
    for number in ("7001", "7002"):
        page.fill("#person-input", number)
        page.click("form:has(#person-input) button[type=submit]")
        expect(page.locator("#members")).to_contain_text(number)
    _fits(page)
    _shot(page, "13-members")
    assert set(Employee.objects.filter(attendance_group=group)) == {first, second}
    context.close()

    # the first employee, on a phone inside the area: accepted, judged by CD9
    context, page = _sign_in(
        browser, live_server, "wang", PHONE, geolocation=OFFICE, permissions=["geolocation"]
    )
    page.goto(f"{url}/attendance/")
    page.click("#punch-button")
    expect(page.locator("#punch-status")).to_have_class("punch-status is-ok")
    today = page.locator("#today")
    expect(today).to_contain_text("09:00")  # the new shift's start, not a default
    expect(today.locator("li").first).to_contain_text("正常")
    expect(page.locator("#punch-clock")).to_contain_text("08:3")
    # the day before joining was worked in no group: the new pattern does not judge it
    expect(page.locator("#calendar")).not_to_contain_text("旷工天数")
    assert not AttendanceDay.objects.filter(employee=first, status="absent").exists()
    _fits(page)
    _shot(page, "14-employee-punched-375")
    context.close()
    punch = Punch.objects.get(employee=first)
    assert punch.inside_geofence is True and punch.field_punch is False

    # the second, outside the area: the field-punch path asks for a photo
    context, page = _sign_in(
        browser, live_server, "zhao", PHONE, geolocation=ACROSS_TOWN, permissions=["geolocation"]
    )
    page.goto(f"{url}/attendance/")
    page.click("#punch-button")
    expect(page.locator("#punch-photo")).to_be_visible()
    expect(page.locator("#punch-status")).to_have_class("punch-status is-warn")
    _fits(page)
    _shot(page, "15-employee-outside-375")
    context.close()
    assert not Punch.objects.filter(employee=second).exists()
