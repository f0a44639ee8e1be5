"""The inbox and the group-robot page on a 375 px phone, in a real Chromium."""

from __future__ import annotations

import shutil

import pytest
from django.db import transaction

from ztk.notifications.models import Notification, OutboxMessage, OutboxStatus
from ztk.notifications.services import notify

from .conftest import make_robot

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine"),
]


def test_phone_width_inbox_and_robots(live_server, client, org, monkeypatch, settings):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.HUEY = settings.HUEY | {"immediate": True}
    with transaction.atomic():
        for i in range(3):
            notify(
                kind="missed_punch",
                recipients=[org.hr.user],
                title=f"缺卡提醒 2026年11月2{i}日",
                body="Missing punch: check-out 18:00. You can apply for a correction until "
                "2026年11月29日. " + "很长的说明文字" * 20,
                url="/notifications/robots/",
            )
    make_robot(
        "https://open.feishu.cn/open-apis/bot/v2/hook/0123456789abcdef0123456789abcdef",
        platform="feishu",
        name="全公司飞书群",
    )
    OutboxMessage.objects.create(
        channel="email",
        target="someone.with.a.long.address@example.com",
        status=OutboxStatus.DEAD,
        attempts=8,
        last_error="mail server: [Errno 111] Connection refused " * 5,
    )
    client.force_login(org.hr.user)
    session = client.cookies["sessionid"].value

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en")
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            assert page.goto(f"{live_server.url}/notifications/").status == 200
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            assert page.locator(".inbox-item.unread").count() == 3

            # mark one read, then all
            page.locator(".inbox-item.unread").first.locator("button").click()
            page.wait_for_load_state()
            assert page.locator(".inbox-item.unread").count() == 2
            page.get_by_role("button", name="Mark all as read").click()
            page.wait_for_load_state()
            assert page.locator(".inbox-item.unread").count() == 0
            assert not Notification.objects.filter(read_at=None).exists()

            assert page.goto(f"{live_server.url}/notifications/robots/").status == 200
            assert page.locator(".outbox-item").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            assert page.goto(f"{live_server.url}/notifications/robots/new/").status == 200
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
        finally:
            browser.close()
