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
