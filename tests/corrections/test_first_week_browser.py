"""Screenshots (375 px and 1280 px, zh-hans) of the first-week fixes of issue 12: the day
page with a slot under approval, a rejected request's page and the inbox; no sideways
scroll on a phone. Saved under var/test/screenshots/ (not committed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.db import transaction

from ztk.corrections.services import correction_comment, correction_reject
from ztk.notifications.services import notify

from .conftest import MON, TUE, only_checkout, submit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine"),
]


def test_first_week_pages_at_phone_and_desktop_width(live_server, client, week, monkeypatch):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with transaction.atomic():
        only_checkout(week.employee, MON, TUE)
        (pending,) = submit(week.employee.user, week.employee)
        (rejected,) = submit(week.employee.user, week.employee, _item(TUE))
        correction_comment(actor=week.supervisor.user, request=rejected, comment="请补充证明")
        correction_reject(actor=week.supervisor.user, request=rejected, reason="没有打卡记录证明")
        notify(
            kind="manual_punch_added",
            recipients=[week.employee.user],
            title="人事补录了打卡",
            body="2026-11-23 08:58",
            url="/attendance/",
        )
    client.force_login(week.employee.user)
    session = client.cookies["sessionid"].value
    out = Path(os.environ.get("ZTK_VAR_DIR", "var/test")) / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    pages = {
        "day-pending": f"/attendance/day/{MON.isoformat()}/",
        "month-pending": "/attendance/?month=2026-11",
        "request-rejected": f"/requests/{rejected.pk}/",
        "inbox": "/notifications/",
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for width in (375, 1280):
                context = browser.new_context(
                    viewport={"width": width, "height": 900}, locale="zh-CN"
                )
                context.add_cookies(
                    [{"name": "sessionid", "value": session, "url": live_server.url}]
                )
                context.add_cookies(
                    [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
                )
                page = context.new_page()
                for name, path in pages.items():
                    assert page.goto(f"{live_server.url}{path}").status == 200
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
                context.close()
        finally:
            browser.close()


def _item(day):
    from .conftest import item

    return item(day)
