"""The terminal page's health facts and command history at 375 px and 1280 px, in Chromium,
in the default language (Simplified Chinese); screenshots for a human look."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser import launch_chromium, screenshots_dir
from ztk.devices.models import CommandStatus, DeviceCommand

from .conftest import make_device

# Playwright's sync API runs an event loop in this thread; the ORM calls are still sync.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    yield from launch_chromium()


def test_history_and_health_fit_phone_and_desktop(live_server, client, org, chromium):
    now = timezone.now()
    device = make_device(
        group=org.group,
        name="前台",
        last_seen=now - timedelta(hours=3),
        last_upload=now - timedelta(hours=3),
        clock_drift=421,
        clock_checked_at=now - timedelta(hours=3),
    )
    rows = [
        (
            "INFO",
            CommandStatus.DONE,
            1,
            0,
            {"cmd": "INFO", "DeviceName": "iFace702", "UserCount": "6"},
        ),
        ("DATA QUERY USERINFO", CommandStatus.FAILED, 1, -1004, {"cmd": "DATA"}),
        ("REBOOT", CommandStatus.EXPIRED, 3, None, {}),
        ("SET OPTIONS DateTime", CommandStatus.SENT, 2, None, {}),
        ("CHECK", CommandStatus.QUEUED, 0, None, {}),
    ]
    for command, status, attempts, code, result in rows:
        DeviceCommand.objects.create(
            device=device,
            command=command,
            status=status,
            attempts=attempts,
            return_code=code,
            result=result,
            sent_at=now - timedelta(minutes=10) if attempts else None,
            done_at=now - timedelta(minutes=9) if code is not None else None,
            created_by=org.hr.user if command != "SET OPTIONS DateTime" else None,
        )
    client.force_login(org.hr.user)
    session = client.cookies["sessionid"].value
    for width in (375, 1280):
        context = chromium.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}/hr/devices/{device.serial}/")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        history = page.inner_text("#command-history")
        assert "未回复，已过期" in history and "已回复：失败" in history and "自动" in history
        assert "421" in page.inner_text("#clock-drift")
        page.screenshot(path=str(screenshots_dir() / f"device-health-{width}.png"), full_page=True)
        context.close()
