"""Oversight findings in a real Chromium at 375 and 1280 px: the auditor opens the list and
a buddy-punch finding with its evidence, acknowledges it with a note. Nothing wider than
the window. Screenshots: var/test/screenshots/oversight-*.png (tests/browser.py).
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from ztk.oversight.models import Finding
from ztk.punches.services import PunchInput, record_punches

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SH = ZoneInfo("Asia/Shanghai")
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _findings():
    """A buddy pair (张三 and 李四, three mornings, 3 s apart), a frequent corrector and a
    rubber-stamp approver, stored as a run would store them."""
    org = factories.small_org()
    now = timezone.now()
    today = now.astimezone(SH).date()
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    punches = []
    for day in days:
        for employee, second in ((org.employee, 10), (org.colleague, 13)):
            punches.append(
                PunchInput(
                    at=datetime.combine(day, time(8, 41, second), tzinfo=SH),
                    source="device",
                    employee_id=employee.pk,
                    device_sn="ZK-LOBBY",
                    pin=employee.employee_no,
                )
            )
    ids = record_punches(punches).punch_ids
    start = today.replace(day=1)
    common = {"period_start": start, "period_end": today, "first_found_at": now}
    pair = Finding.objects.create(
        rule="buddy_punch",
        key=f"buddy_punch:e{org.employee.pk}-e{org.colleague.pk}:{start}",
        severity="medium",
        employee=org.employee,
        other_employee=org.colleague,
        params={
            "days": 3,
            "days_present": 3,
            "share": 1.0,
            "dates": [d.isoformat() for d in days],
            "places": ["device:ZK-LOBBY"],
            "window_seconds": 10,
        },
        evidence=[
            {"kind": "punch", "id": pk, "at": None, "note": "device:ZK-LOBBY", "tag": ""}
            for pk in ids
        ],
        last_found_at=now,
        **common,
    )
    Finding.objects.create(
        rule="frequent_corrector",
        key=f"frequent_corrector:e{org.stranger.pk}:{start}",
        severity="high",
        employee=org.stranger,
        params={
            "count": 6,
            "group_percentile_value": 1,
            "percentile": 95,
            "streak": [3, 3, 3],
            "monthly_limit": 3,
        },  # fmt: skip
        last_found_at=now,
        **common,
    )
    Finding.objects.create(
        rule="rubber_stamp",
        key=f"rubber_stamp:u{org.supervisor.user.pk}:{start}",
        severity="high",
        user=org.supervisor.user,
        params={
            "triggers": ["fast", "bulk"],
            "decisions": 16,
            "approval_rate": 1.0,
            "median_seconds": 1.5,
            "bulk_decisions": 15,
            "no_proof_approvals": 0,
        },  # fmt: skip
        last_found_at=now,
        **common,
    )
    return org, pair


def _page(browser, viewport, lang="zh-CN"):
    context = browser.new_context(viewport=viewport, locale=lang)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_auditor_reviews_and_acknowledges_a_finding(live_server, browser, viewport):
    from playwright.sync_api import expect

    # given
    org, pair = _findings()
    shots = screenshots_dir()
    size = viewport["width"]
    context, page = _page(browser, viewport)
    log_in(page, live_server.url, "auditor")

    # when: the list, from the audit log's link
    page.goto(f"{live_server.url}/audit/")
    page.click("text=审计发现")
    expect(page.locator("#finding-list li.finding")).to_have_count(3)
    page.screenshot(path=str(shots / f"oversight-list-{size}.png"), full_page=True)
    assert page_width(page) <= size

    # the buddy pair, with its six punches as evidence
    page.click(f"#finding-{pair.pk} a")
    expect(page.locator("#evidence li")).to_have_count(6)
    expect(page.locator("#finding-summary")).to_contain_text("10")
    page.screenshot(path=str(shots / f"oversight-finding-{size}.png"), full_page=True)
    assert page_width(page) <= size

    # acknowledged with a note
    page.fill("#note", "已约谈两人，确认为代打卡")
    page.click("button:has-text('确认')")

    # then
    expect(page.locator("#finding-state")).to_contain_text("已确认")
    expect(page.locator("#finding-note")).to_have_text("已约谈两人，确认为代打卡")
    page.screenshot(path=str(shots / f"oversight-handled-{size}.png"), full_page=True)
    assert page_width(page) <= size
    pair.refresh_from_db()
    assert (pair.state, pair.handled_by) == ("acknowledged", org.auditor.user)
    context.close()


def test_hr_sees_evidence_links_and_the_thresholds_on_a_phone(live_server, browser):
    from playwright.sync_api import expect

    # given
    org, pair = _findings()
    shots = screenshots_dir()
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "hr")

    # when: from the HR hub to the pair; each punch links to the employee's day
    page.goto(f"{live_server.url}/hr/")
    page.click("text=审计发现")
    page.click(f"#finding-{pair.pk} a")
    links = page.locator("#evidence li a")
    expect(links).to_have_count(6)
    assert links.first.get_attribute("href").startswith("/attendance/people/1002/")
    assert page_width(page) <= PHONE["width"]

    # the thresholds form
    page.goto(f"{live_server.url}/hr/oversight/findings/thresholds/")
    page.fill("#id_buddy_min_days", "4")
    page.click("button:has-text('保存')")

    # then
    expect(page.locator(".messages")).to_contain_text("阈值已保存")
    page.screenshot(path=str(shots / "oversight-thresholds-375.png"), full_page=True)
    assert page_width(page) <= PHONE["width"]
    context.close()


def _warnings(org):
    """A warning about 张三 close to the limit (sent to his head 王部长) and a silent
    terminal, stored as a run would store them."""
    from ztk.devices.models import Device, DeviceStatus
    from ztk.oversight.models import EarlyWarning

    now = timezone.now()
    today = now.astimezone(SH).date()
    start = today.replace(day=1)
    close = EarlyWarning.objects.create(
        kind="close_to_limit",
        key=f"close_to_limit:e{org.employee.pk}:{start}",
        severity="medium",
        employee=org.employee,
        head=org.head,
        period_start=start,
        period_end=today,
        params={"used": 2, "limit": 3, "left": 1},
        raised_at=now,
    )
    device = Device.objects.create(
        serial="ZKWARE0001",
        name="仓库考勤机",
        status=DeviceStatus.APPROVED,
        attendance_group=org.group,
        last_seen=now - timedelta(hours=3),
    )
    EarlyWarning.objects.create(
        kind="silent_terminal",
        key=f"silent_terminal:t{device.pk}:{today}",
        severity="medium",
        device=device,
        period_start=today,
        period_end=today,
        params={"serial": device.serial, "last_seen": (now - timedelta(hours=3)).isoformat()},
        evidence=[{"kind": "device", "id": device.pk, "at": None, "note": "", "tag": ""}],
        raised_at=now,
    )
    return close


def test_the_head_sees_his_warning_and_the_auditor_resolves_it_on_a_phone(live_server, browser):
    from playwright.sync_api import expect

    # given
    org, _pair = _findings()
    close = _warnings(org)
    shots = screenshots_dir()

    # the head reaches the warnings sent to him from the menu: only his
    context, page = _page(browser, PHONE)
    page.set_default_timeout(30_000)
    log_in(page, live_server.url, "head")
    page.locator("nav.mainnav a[href='/hr/oversight/warnings/']").click()
    expect(page.locator("#warning-list li.finding")).to_have_count(1)
    expect(page.locator(f"#warning-{close.pk}")).to_be_visible()
    page.screenshot(path=str(shots / "oversight-warnings-head-375.png"), full_page=True)
    assert page_width(page) <= PHONE["width"]
    context.close()

    # when: the auditor opens every warning from the audit log's link
    context, page = _page(browser, PHONE)
    page.set_default_timeout(30_000)
    log_in(page, live_server.url, "auditor")
    page.goto(f"{live_server.url}/audit/")
    page.click("text=预警")
    expect(page.locator("#warning-list li.finding")).to_have_count(2)
    page.screenshot(path=str(shots / "oversight-warnings-375.png"), full_page=True)
    assert page_width(page) <= PHONE["width"]
    page.click(f"#warning-{close.pk} a")
    expect(page.locator("#warning-summary")).to_contain_text("2")
    page.fill("#note", "已提醒张三按时打卡")
    page.click("button:has-text('解决')")

    # then
    expect(page.locator("#warning-state")).to_contain_text("已解决")
    expect(page.locator("#warning-note")).to_have_text("已提醒张三按时打卡")
    page.screenshot(path=str(shots / "oversight-warning-resolved-375.png"), full_page=True)
    assert page_width(page) <= PHONE["width"]
    close.refresh_from_db()
    assert (close.state, close.handled_by) == ("resolved", org.auditor.user)
    context.close()
