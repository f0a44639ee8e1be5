"""The correction policy and delegation pages in a real Chromium, at 1280 and 375 px: HR
switches a group to a custom two-step chain with a named approver (picked by name) and sees
the summary change; a supervisor sets up a delegation on a phone. Screenshots go to
var/test/screenshots/ for a human look (not committed)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from ztk.approvals.models import Delegation
from ztk.corrections.models import ReasonCategory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _page(browser, viewport, locale="en-US"):
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _org():
    org = factories.small_org()
    for code, name, order in [("forgot", "忘记打卡", 10), ("device", "设备故障", 30)]:
        ReasonCategory.objects.get_or_create(
            policy=None, code=code, defaults={"name": name, "order": order}
        )
    return org


@pytest.mark.django_db(transaction=True)
def test_hr_sets_a_custom_chain_on_a_desktop(live_server, browser):
    org = _org()
    context, page = _page(browser, DESKTOP)
    log_in(page, live_server.url, "hr")
    page.goto(f"{live_server.url}/settings/corrections/")
    page.screenshot(path=str(screenshots_dir() / "policy-index-1280.png"), full_page=True)
    page.click(f"a[href='/settings/corrections/{org.group.code}/']")
    page.fill("input[name=monthly_limit]", "4")
    page.check("input[name=chain_preset][value=custom]")
    page.select_option("select[name=step-0-kind]", "supervisor")
    page.select_option("select[name=step-1-kind]", "user")
    page.fill("input[name=step-1-user]", "王部长")
    page.click("main button[type=submit].primary")
    page.wait_for_selector(".messages")
    summary = page.inner_text("#policy-summary")
    assert "At most 4 corrections per month." in summary
    assert "王部长 (within 2 working days)" in summary
    assert page_width(page) <= DESKTOP["width"]
    page.screenshot(path=str(screenshots_dir() / "policy-edit-1280.png"), full_page=True)
    context.close()
    context, page = _page(browser, PHONE, locale="zh-CN")
    log_in(page, live_server.url, "hr")
    page.goto(f"{live_server.url}/settings/corrections/{org.group.code}/")
    assert "每月最多补卡 4 次" in page.inner_text("#policy-summary")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(screenshots_dir() / "policy-edit-375-zh.png"), full_page=True)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_supervisor_delegates_on_a_phone(live_server, browser):
    org = _org()
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "manager")
    page.click("summary[aria-label='Account menu']")
    page.click("text=Delegation while away")
    end = timezone.localdate() + timedelta(days=3)
    page.fill("input[name=delegate]", "1000")
    page.fill("input[name=end]", end.isoformat())
    page.fill("input[name=reason]", "出差")
    page.click("main button[type=submit].primary")
    page.wait_for_selector(".deleg-list li[id^=delegation-]")
    row = Delegation.objects.get()
    assert row.approver == org.supervisor.user and row.delegate == org.head.user
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(screenshots_dir() / "delegations-375.png"), full_page=True)
    context.close()
    context, page = _page(browser, DESKTOP, locale="zh-CN")
    log_in(page, live_server.url, "hr")
    page.goto(f"{live_server.url}/settings/delegations/")
    assert "王部长" in page.inner_text(".deleg-list")
    page.screenshot(path=str(screenshots_dir() / "delegations-1280-zh.png"), full_page=True)
    context.close()
