"""The sync-by-mobile job page on a 375 px phone, in a real Chromium: while it runs and
once a platform failure stopped it."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from ztk.core.models import Job, JobStatus
from ztk.notifications.workapps.services import SYNC_FAILED, SYNC_JOB

from ..browser import launch_chromium, screenshots_dir

# Playwright's sync API runs an event loop in this thread: the ORM must be allowed here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    yield from launch_chromium()


def test_sync_job_page_at_phone_width(live_server, client, org, chromium):
    running = Job.objects.create(
        kind=SYNC_JOB, owner=org.hr.user, params={"platform": "dingtalk"},
        status=JobStatus.RUNNING, started_at=timezone.now(),
    )  # fmt: skip
    failed = Job.objects.create(
        kind=SYNC_JOB, owner=org.hr.user, params={"platform": "wecom"},
        status=JobStatus.FAILED, finished_at=timezone.now(),
        error={"code": SYNC_FAILED,
               "message": "平台中途停止应答：unreachable: [Errno 111] Connection refused。"
                          "已保存 1234 个用户 ID；还有 3766 个手机号未查询，请再次同步。",
               "details": {"matched": 1234, "unchanged": 56, "unknown": 10, "not_asked": 3766}},
    )  # fmt: skip
    client.force_login(org.hr.user)
    context = chromium.new_context(viewport={"width": 375, "height": 800})
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]  # fmt: skip
    )
    page = context.new_page()
    try:
        for job, name in ((running, "running"), (failed, "failed")):
            url = f"{live_server.url}/settings/work-apps/sync/{job.pk}/"
            assert page.goto(url).status == 200
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            page.screenshot(path=str(screenshots_dir() / f"workapp-sync-{name}-375.png"),
                            full_page=True)  # fmt: skip
        assert page.locator("[data-count=not_asked]").inner_text() == "3766"
        assert page.get_by_role("alert").is_visible()
    finally:
        context.close()
