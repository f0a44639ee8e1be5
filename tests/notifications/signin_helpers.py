"""Walking a work-app sign-in against the fake platforms (tests/notifications/workapp_fakes).

The browser's hops to the platform's authorize page are real HTTP requests to the fake
server, which answers with its redirect back (a code and the state); the hops on this site
go through the Django test client.
"""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

from django.core.cache import cache
from django.test import Client

from ztk.notifications.workapps.models import MatchBy, WorkAppUser
from ztk.notifications.workapps.signin import failure_limit

from .workapp_fakes import Platforms


def link(platform: str, user, platform_user_id: str) -> WorkAppUser:
    return WorkAppUser.objects.create(
        platform=platform, user=user, platform_user_id=platform_user_id, matched_by=MatchBy.MOBILE
    )


def forget_failures() -> None:
    """The refusal counter of 127.0.0.1 lives in the (per-process) cache: start at zero."""
    cache.delete("ztk:workapps:signin-failures:127.0.0.1")
    assert failure_limit()[0] > 0


def platform_redirect(url: str) -> str:
    """GET the platform's authorize page (the fake) and return where it sends the browser."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    connection.request("GET", f"{parts.path}?{parts.query}")
    response = connection.getresponse()
    location = response.getheader("Location") or ""
    connection.close()
    assert response.status == 302, (response.status, url)
    return location


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def sign_in_by_redirect(client: Client, platform: str, *, next_url: str | None = None, **extra):
    """Entry → platform → back; the response of the done step."""
    entry = f"/workapps/{platform}/signin"
    response = client.get(entry, {"next": next_url} if next_url is not None else {}, **extra)
    assert response.status_code == 302, response.status_code
    back = platform_redirect(response["Location"])
    return client.get(local(back), **extra)


def dingtalk_page_state(client: Client, **extra) -> str:
    response = client.get("/workapps/dingtalk/signin", **extra)
    assert response.status_code == 200
    match = re.search(r'name="state" value="([^"]+)"', response.content.decode())
    assert match
    return match.group(1)


def sign_in_dingtalk(client: Client, platforms: Platforms, **extra):
    state = dingtalk_page_state(client, **extra)
    code = platforms.issue_code("dingtalk")
    return client.post("/workapps/dingtalk/signin/done", {"state": state, "code": code}, **extra)
