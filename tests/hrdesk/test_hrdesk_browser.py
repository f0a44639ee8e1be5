"""The HR desk in a real Chromium on a phone (375 px): register a paper form with its scan,
then import historical corrections (check, then import). Nothing wider than the phone.

Screenshots go to /tmp/ztk-hrdesk-*.png for a human look.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import log_in, page_width
from ztk.corrections.models import PaperForm, ReasonCategory
from ztk.punches.models import Punch
from ztk.punches.services import PunchInput, record_punches
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern
from ztk.scheduling.plans import plan_for

from .test_manual_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    _page,
    browser,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SH = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20

pytestmark = pytest.mark.browser


def _shop():
    """09:00–18:00 every day; 张三 punched in on the latest past working day only."""
    org = factories.small_org()
    ReasonCategory.objects.get_or_create(policy=None, code="other", defaults={"name": "其他"})
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
                at=datetime.combine(day, time(8, 55), tzinfo=SH),
                source="device",
                employee_id=org.employee.pk,
                device_sn="SN1",
                pin=org.employee.employee_no,
            )
        ]
    )
    return org, day


def test_hr_registers_a_paper_form_on_a_phone(live_server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    # given
    org, day = _shop()
    scan = tmp_path / "漏签申报表.png"
    scan.write_bytes(PNG)
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "hr")

    # when: the form is filled in; the slot list follows the employee and the day (htmx)
    page.goto(f"{live_server.url}/hr/desk/paper/new/")
    page.fill("input[name=form_no]", "LQ-2026-0042")
    page.fill("input[name=employee]", "1002")
    page.fill("input[name=day]", day.isoformat())
    page.locator("input[name=day]").dispatch_event("change")
    expect(page.locator("select[name=slot] option")).to_have_count(2)
    page.wait_for_load_state("networkidle")
    page.select_option("select[name=slot]", "out1")
    page.fill("input[name=time]", "18:05")
    page.fill("textarea[name=reason]", "考勤机故障，下班未能打卡")
    page.fill("input[name=signer]", "1000")
    page.fill("input[name=signed_on]", timezone.now().astimezone(SH).date().isoformat())
    page.set_input_files("input[name=scan]", str(scan))
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-hrdesk-paper-new-375-en.png", full_page=True)
    page.click("form.hrdesk-form button[type=submit]")

    # then: the form's page, with the scan
    expect(page.locator(".messages")).to_contain_text("Paper form LQ-2026-0042 is registered")
    expect(page.locator("h1")).to_have_text("Paper form LQ-2026-0042")
    expect(page.locator(".hrdesk-scan img")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-hrdesk-paper-detail-375-en.png", full_page=True)
    assert PaperForm.objects.get().request.status == "approved"

    # and the archive finds it by the signer
    page.goto(f"{live_server.url}/hr/desk/paper/?signer=王")
    expect(page.locator("table.hrdesk-table tbody tr")).to_have_count(1)
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-hrdesk-paper-list-375-en.png", full_page=True)
    context.close()


def test_hr_checks_then_imports_a_file_on_a_phone(live_server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    # given
    org, day = _shop()
    path = tmp_path / "历史补卡.csv"
    path.write_text(
        "工号,日期,卡点,时间,原因,外部编号\r\n"
        f"1002,{day.isoformat()},下班,18:05,考勤机故障，主管确认,OA-1\r\n"
        f"1003,{day.isoformat()},上班,08:58,忘记打卡（纸质记录）,\r\n"
        f"1003,{day.isoformat()},下班,18:30,设备断电,\r\n",
        encoding="utf-8-sig",
    )
    context, page = _page(browser, PHONE)
    log_in(page, live_server.url, "hr")

    # when
    page.goto(f"{live_server.url}/hr/desk/import/")
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-hrdesk-import-375-en.png", full_page=True)
    page.set_input_files("input[name=file]", str(path))
    page.click("main form button[type=submit]")

    # then: every row is listed as OK; nothing is written yet
    expect(page.locator("tr.row-ok")).to_have_count(3)
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path="/tmp/ztk-hrdesk-import-preview-375-en.png", full_page=True)
    assert not Punch.objects.filter(source="history").exists()

    # when
    page.click("text=Import 3 rows")

    # then
    expect(page.locator("main")).to_contain_text("Imported 3 punches")
    assert Punch.objects.filter(source="history").count() == 3
    context.close()


def test_the_import_page_shows_the_progress_of_its_background_job(
    live_server,
    browser,  # noqa: F811
):
    """A large file is checked in the worker: the page shows a progress bar, polls it, and
    shows the rows once the job is done — on a phone and on a desktop."""
    from playwright.sync_api import expect

    from ztk.core import jobs, uploads
    from ztk.hrdesk import bulk_import

    org, day = _shop()
    data = (
        "工号,日期,卡点,时间,原因\r\n"
        f"1002,{day.isoformat()},下班,18:05,考勤机故障，主管确认\r\n"
        f"1003,{day.isoformat()},上班,08:58,忘记打卡（纸质记录）\r\n"
    ).encode()
    params = {"sha256": uploads.stash(org.hr.user.pk, data), "filename": "历史补卡.csv"}
    job = jobs.job_create(owner=org.hr.user, kind=bulk_import.JOB_PREVIEW, params=params)
    jobs.report(job.pk, bulk_import.CHECKING, 7_250, 20_000)  # as the worker reports it
    url = f"{live_server.url}/hr/desk/import/jobs/{job.pk}/"

    for name, viewport in (("375", PHONE), ("desktop", DESKTOP)):
        context, page = _page(browser, viewport)
        log_in(page, live_server.url, "hr")
        page.goto(url)
        expect(page.locator("progress")).to_have_attribute("value", "36")
        expect(page.locator("#job-phase")).to_contain_text("Checking rows… 7250 of 20000 rows")
        assert page_width(page) <= viewport["width"]
        page.screenshot(path=f"/tmp/ztk-hrdesk-import-progress-{name}-en.png", full_page=True)
        if name == "desktop":
            # when the worker finishes, the next poll reloads the page with the rows
            jobs.job_run(job.pk, bulk_import.run_job)
            expect(page.locator("tr.row-ok")).to_have_count(2)
            page.screenshot(path="/tmp/ztk-hrdesk-import-done-desktop-en.png", full_page=True)
        context.close()
