"""The self-service correction (补卡) in a real Chromium, end to end.

张三 on a 375 px phone opens 我的考勤, taps the red day, taps 申请补卡, fixes the time
(the preview follows), adds a photo and submits; 李主管 on a desktop finds it in the
approval inbox, adjusts the time and approves (single-level chain: final); 张三 then sees
the day normal with 补卡, the unread badge and the notification.

Screenshots go to /tmp/ztk-requests-*.png for a human look.
"""

from __future__ import annotations

import copy
import io
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium, log_in, page_width
from ztk.corrections.models import ChainPreset, CorrectionPolicy, ReasonCategory
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.plans import plan_for

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (creating the organisation) are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
SH = ZoneInfo("Asia/Shanghai")
DAY_TEMPLATE = Path(django_settings.BASE_DIR) / "ztk" / "templates" / "attendance" / "day.html"
INCLUDE = '{% include "attendance/_correction_actions.html" %}'

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.fixture
def day_view_with_corrections(settings, tmp_path):
    """Until day.html includes the correction block, a test-only template fills it in
    (the override extends the real day view, so everything else is the real page)."""
    if INCLUDE in DAY_TEMPLATE.read_text(encoding="utf-8"):
        return
    override = tmp_path / "attendance"
    override.mkdir()
    (override / "day.html").write_text(
        '{% extends "attendance/day.html" %}{% block correction_actions %}'
        + INCLUDE
        + "{% endblock %}",
        encoding="utf-8",
    )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates


def _page(browser, viewport):
    # English, so the assertions read the source strings whatever the catalogue holds.
    context = browser.new_context(viewport=viewport, locale="en-US", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _photo() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (31, 111, 235)).save(buffer, format="PNG")
    return buffer.getvalue()


def _shop_with_a_missing_checkin():
    """09:00–18:00 every day, single-level approval; 张三 forgot to check in yesterday."""
    org = factories.small_org()
    for code, name, order in [("forgot", "忘记打卡", 10), ("device", "设备故障", 30)]:
        ReasonCategory.objects.get_or_create(
            policy=None, code=code, defaults={"name": name, "order": order}
        )
    CorrectionPolicy.objects.update_or_create(
        group=org.group, defaults={"chain_preset": ChainPreset.SINGLE}
    )
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(
        group=org.group,
        **{f"{d}_shift": shift for d in ("monday", "tuesday", "wednesday", "thursday")},
        **{f"{d}_shift": shift for d in ("friday", "saturday", "sunday")},
        default_workday_shift=shift,
    )
    day = timezone.now().astimezone(SH).date() - timedelta(days=1)
    while plan_for(org.employee, day).kind != "work":  # skip statutory holidays
        day -= timedelta(days=1)
    record_punches(
        [
            PunchInput(
                at=datetime.combine(day, time(18, 2), tzinfo=SH),
                source="device",
                employee_id=org.employee.pk,
                device_sn="SN1",
                pin=org.employee.employee_no,
            )
        ]
    )
    return org, day


def _open_red_day(page, base_url: str, day: date) -> None:
    from playwright.sync_api import expect

    today = timezone.now().astimezone(SH).date()
    if (day.year, day.month) != (today.year, today.month):
        page.click("a.month-step[rel=prev]")
    cell = page.locator(f'table.cal td.is-anomaly a[href$="/day/{day.isoformat()}/"]')
    expect(cell.locator(".bang")).to_have_text("!")
    cell.click()
    page.wait_for_url(f"**/attendance/day/{day.isoformat()}/")


def test_employee_applies_on_a_phone_supervisor_approves_on_a_desktop(
    live_server, browser, day_view_with_corrections
):
    from playwright.sync_api import expect

    # given
    org, day = _shop_with_a_missing_checkin()

    # when: 张三 opens his month on a phone, the red day, then 申请补卡
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "employee")
    _open_red_day(page, live_server.url, day)
    expect(page.locator("table.slots tbody tr").first.locator(".slot-badge")).to_have_text(
        "Missing punch"
    )
    page.click("a.apply-link[data-slot=in1]")

    # then: the form is pre-filled with the missing check-in at the shift time, shows the
    # limit and the last day, and previews the day as it would be
    page.wait_for_url("**/requests/new/?**")
    slot = page.locator(".apply-slot[data-slot=in1]")
    expect(slot.locator("input[name=slot]")).to_be_checked()
    expect(slot.locator("input[name=time_in1]")).to_have_value("09:00")
    expect(page.locator("[data-remaining]")).to_have_attribute("data-remaining", "3")
    last_day = (day + timedelta(days=3)).isoformat()
    expect(page.locator("[data-last-day]")).to_have_attribute("data-last-day", last_day)
    upload = page.locator("input[type=file][name=attachments]")
    expect(upload).to_have_attribute("capture", "environment")
    expect(upload).to_have_attribute("accept", "image/*,application/pdf")
    preview_in = page.locator("#preview tr[data-slot=in1]")
    expect(preview_in).to_contain_text("09:00")
    expect(preview_in.locator(".slot-badge")).to_have_text("Corrected (补卡)")
    assert page_width(page) <= PHONE["width"]

    # when: the real time, a reason and a photo of the broken terminal
    slot.locator("input[name=time_in1]").fill("08:57")
    slot.locator("input[name=time_in1]").dispatch_event("change")
    expect(preview_in).to_contain_text("08:57")  # the preview followed, through htmx
    page.select_option("select[name=category]", "device")
    page.fill("textarea[name=reason]", "考勤机死机，没能打上班卡")
    upload.set_input_files(
        files=[{"name": "terminal.png", "mimeType": "image/png", "buffer": _photo()}]
    )
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-requests-apply-375-en.png", full_page=True)
    page.click("form#apply-form button[type=submit]")

    # then: the request page, pending with the supervisor, with the photo
    page.wait_for_url("**/requests/*/")
    expect(page.locator(".messages")).to_contain_text("submitted")
    expect(page.locator("#request-status")).to_have_text("Pending approval")
    expect(page.locator("#requested-time")).to_contain_text("08:57")
    expect(page.locator(".chain li.step-current")).to_contain_text("李主管")
    expect(page.locator(".thumbs img")).to_have_count(1)
    assert page.locator(".thumbs img").evaluate("img => img.naturalWidth") == 64
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-requests-pending-375-en.png", full_page=True)
    request_url = page.url
    context.close()

    # when: 李主管 opens the approval inbox on a desktop
    context, page = _page(browser, DESKTOP)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/requests/inbox/")
    card = page.locator("#inbox-list li.req-card", has_text="张三")
    expect(card).to_have_count(1)
    expect(page.locator("#waiting-count")).to_have_text("1")
    page.screenshot(path="/tmp/ztk-requests-inbox-desktop-en.png", full_page=True)
    card.locator(".req-title a").click()
    page.wait_for_url(request_url)

    # then: the same preview the employee saw
    expect(page.locator("#preview tr[data-slot=in1]")).to_contain_text("08:57")

    # when: the terminal log says 08:55 — the supervisor adjusts the time and approves
    adjusted = page.locator("#approve-form input[name=adjusted_time]")
    expect(adjusted).to_have_value("08:57")
    adjusted.fill("08:55")
    adjusted.dispatch_event("change")
    expect(page.locator("#preview tr[data-slot=in1]")).to_contain_text("08:55")
    page.fill("#approve-form textarea[name=comment]", "核对考勤机日志，08:55 到岗")
    page.click("#approve-form button[type=submit]")

    # then: approved at once (single level), the adjustment on the routing form
    expect(page.locator("#request-status")).to_have_text("Approved")
    expect(page.locator("#requested-time")).to_contain_text("08:57")
    expect(page.locator("#requested-time")).to_contain_text("08:55")
    expect(page.locator("#timeline li[data-action=adjust_time]")).to_contain_text("08:55")
    expect(page.locator("#decide")).to_have_count(0)
    assert page_width(page) <= DESKTOP["width"]
    page.screenshot(path="/tmp/ztk-requests-approved-desktop-en.png", full_page=True)
    context.close()

    # when: 张三 looks again on his phone
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "employee")

    # then: a notification is waiting (the badge), and it says approved
    expect(page.locator("#notification-bell .badge")).to_be_visible()
    page.click("#notification-bell")
    # the kind label is in the reader's language; the title in the company's (Chinese)
    expect(page.locator("#inbox")).to_contain_text("Correction request approved")
    page.goto(f"{live_server.url}/attendance/day/{day.isoformat()}/")
    checkin = page.locator("table.slots tbody tr").first
    expect(checkin.locator(".slot-badge")).to_have_text("Corrected (补卡)")
    expect(checkin).to_contain_text("08:55")
    expect(page.locator(".day-status .badge").first).to_have_text("Normal")
    expect(page.locator("a.apply-link")).to_have_count(0)
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-requests-day-after-375-en.png", full_page=True)
    page.goto(request_url)
    expect(page.locator("#request-status")).to_have_text("Approved")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-requests-approved-375-en.png", full_page=True)
    context.close()


def test_supervisor_batch_approves_on_a_phone(live_server, browser):
    from playwright.sync_api import expect

    from ztk.corrections.services import ItemIn, correction_submit

    # given: 张三 and 李四 each forgot to check in yesterday and asked for a correction;
    # 李四's request is expedited
    org, day = _shop_with_a_missing_checkin()
    record_punches(
        [
            PunchInput(
                at=datetime.combine(day, time(18, 5), tzinfo=SH),
                source="device",
                employee_id=org.colleague.pk,
                device_sn="SN1",
                pin=org.colleague.employee_no,
            )
        ]
    )
    for person, expedited in ((org.employee, False), (org.colleague, True)):
        correction_submit(
            actor=person.user,
            employee=person,
            items=[
                ItemIn(
                    day=day,
                    slot_key="in1",
                    requested_time=datetime.combine(day, time(8, 50), tzinfo=SH),
                    category="forgot",
                    reason="早上忘记打卡了",
                    expedited=expedited,
                    justification="月底算工资" if expedited else "",
                )
            ],
        )
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "manager")

    # when: the inbox on a phone
    page.goto(f"{live_server.url}/requests/inbox/")

    # then: both wait, the expedited one marked, nothing wider than the phone
    cards = page.locator("#inbox-list li.req-card")
    expect(cards).to_have_count(2)
    expect(page.locator("#inbox-list li.is-expedited")).to_contain_text("李四")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-requests-inbox-375-en.png", full_page=True)

    # when: one request opened — the decision forms fit the phone too
    cards.first.locator(".req-title a").click()
    expect(page.locator("#approve-form")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-requests-decide-375-en.png", full_page=True)
    page.go_back()

    # when: all on the page ticked and approved at once
    page.check("#select-all")
    expect(page.locator("#batch-form .picked")).to_have_text("(2)")
    page.click("#batch-form button[type=submit]")

    # then
    expect(page.locator(".messages")).to_contain_text("2 requests approved.")
    expect(page.locator("#inbox-list li.req-card")).to_have_count(0)
    expect(page.locator("#waiting-count")).to_have_text("0")
    context.close()
