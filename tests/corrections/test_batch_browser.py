"""In a real browser at 375 px (zh-hans): the employee ticks two red days on the month view,
files them as one batch with one reason, and is back on the month with both under approval.
Screenshots at 375 px and 1280 px of the month's red slots (with their up-front reasons),
the batch form and a day page that says why a slot cannot be corrected; no sideways scroll.
Saved under var/test/screenshots/ (not committed)."""

from __future__ import annotations

import os
from datetime import date

import pytest
from django.db import transaction

from tests.browser import launch_chromium, screenshots_dir
from ztk.corrections.models import CorrectionPolicy, CorrectionRequest, Status
from ztk.punches.services import PunchInput, record_punches

from .conftest import MON, TUE, at, only_checkout

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test are
# still synchronous (as in the other browser tests).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THU_BEFORE = date(2026, 11, 19)  # the deadline passed
FRI_BEFORE = date(2026, 11, 20)  # late: not correctable under the default policy


@pytest.fixture(scope="module")
def chromium():
    yield from launch_chromium()


def _context(chromium, live_server, client, user, width):
    client.force_login(user)
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "django_language", "value": "zh-hans", "url": live_server.url},
        ]
    )
    return context


def _arrange(week):
    with transaction.atomic():
        only_checkout(week.employee, THU_BEFORE, MON, TUE)
        record_punches(
            [
                PunchInput(
                    at=at(FRI_BEFORE, hh, mm),
                    source="device",
                    employee_id=week.employee.pk,
                    device_sn="S",
                )
                for hh, mm in ((9, 25), (18, 3))
            ]
        )


def test_two_red_days_ticked_on_a_phone_become_two_requests(live_server, client, week, chromium):
    _arrange(week)
    out = screenshots_dir()
    context = _context(chromium, live_server, client, week.employee.user, 375)
    page = context.new_page()
    try:
        assert page.goto(f"{live_server.url}/attendance/?month=2026-11").status == 200
        button = page.locator("#red-submit")
        assert button.is_disabled()  # nothing ticked yet (the script waits for one)
        assert page.locator("input.red-pick").count() == 2
        page.locator(".red-slots").screenshot(path=str(out / "batch-month-red-375.png"))

        page.check("input.red-pick[value='2026-11-23:in1']")
        page.check("input.red-pick[value='2026-11-24:in1']")
        assert button.is_enabled() and "(2)" in button.inner_text()
        button.click()
        page.wait_for_url("**/requests/batch/**")
        assert page.locator("div.apply-slot").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.fill("textarea[name=reason]", "门禁卡坏了，两天都没打上")
        page.screenshot(path=str(out / "batch-form-375.png"), full_page=True)
        page.click("#batch-apply button[type=submit]")
        page.wait_for_url("**/attendance/?month=2026-11")

        made = CorrectionRequest.objects.filter(employee=week.employee, status=Status.PENDING)
        assert sorted((r.date, r.slot_key) for r in made) == [(MON, "in1"), (TUE, "in1")]
        assert page.locator(".red-slot a.slot-request.is-pending").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(out / "batch-month-after-375.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_reasons_up_front_fit_the_screen(
    live_server, client, week, chromium, width, monkeypatch
):
    _arrange(week)
    out = screenshots_dir()
    context = _context(chromium, live_server, client, week.employee.user, width)
    page = context.new_page()
    try:
        pages = {
            "month-red": "/attendance/?month=2026-11",
            "day-late-why": f"/attendance/day/{FRI_BEFORE.isoformat()}/",
            "day-expired-why": f"/attendance/day/{THU_BEFORE.isoformat()}/",
            "batch-form": "/requests/batch/?slot=2026-11-23:in1&slot=2026-11-24:in1"
            "&slot=2026-11-19:in1",
        }
        for name, path in pages.items():
            assert page.goto(f"{live_server.url}{path}").status == 200
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
        assert page.locator("div.apply-slot.is-disabled").count() == 1  # the expired day
    finally:
        context.close()


def test_a_refused_batch_says_why_on_each_slot_on_a_phone(live_server, client, week, chromium):
    CorrectionPolicy.objects.update_or_create(group=week.group, defaults={"monthly_limit": 1})
    _arrange(week)
    out = screenshots_dir()
    context = _context(chromium, live_server, client, week.employee.user, 375)
    page = context.new_page()
    try:
        # Monday's and Tuesday's check-ins with one place left; Monday's check-out (punched)
        # is shown as such and cannot be chosen.
        path = "/requests/batch/?slot=2026-11-23:in1&slot=2026-11-24:in1&slot=2026-11-23:out1"
        assert page.goto(f"{live_server.url}{path}").status == 200
        assert page.locator("div.apply-slot.is-disabled").count() == 1
        page.fill("textarea[name=reason]", "门")  # too short: refused with the rest
        page.click("#batch-apply button[type=submit]")
        page.wait_for_selector("#form-errors")
        assert not CorrectionRequest.objects.exists()
        refused = page.locator("div.apply-slot.has-errors")
        assert refused.count() == 1
        assert refused.get_attribute("data-slot") == "2026-11-24:in1"  # beyond the limit
        assert page.locator("div.apply-slot").count() == 3  # all still shown
        assert page.locator(".invalid textarea[name=reason]").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(out / "batch-refused-375.png"), full_page=True)
    finally:
        context.close()
