"""/settings/: the index links every settings page that exists, and each link opens."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def _links(client) -> list[str]:
    page = client.get("/settings/")
    assert page.status_code == 200
    section = page.content.decode().split('id="settings-sections"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([^"]+)"', section)


def test_hr_finds_every_settings_page_on_the_index_and_each_opens(client, org):
    client.force_login(org.hr.user)
    links = _links(client)
    assert {"/settings/api-keys/", "/settings/corrections/", "/settings/delegations/"} <= set(links)
    for link in links:
        if link.startswith("/settings/"):
            assert client.get(link).status_code == 200, link


def test_the_auditor_is_offered_only_pages_they_may_read(client, org):
    client.force_login(org.auditor.user)
    links = _links(client)
    assert "/settings/corrections/" in links and "/settings/delegations/" not in links
    for link in links:
        if link.startswith("/settings/"):
            assert client.get(link).status_code == 200, link


def test_the_admin_card_says_what_the_admin_is_still_for(client, org):
    """Shifts, patterns, rosters and the calendar have their own pages now: the card for
    the administration pages no longer sends HR there for them."""
    org.sysadmin.is_superuser = org.sysadmin.is_staff = True
    org.sysadmin.save()
    client.force_login(org.sysadmin)

    html = client.get("/settings/").content.decode()

    card = html.split('id="admin-card"', 1)[1].split("</li>", 1)[0]
    assert "管理后台（仅超级管理员）" in card and "请假" in card
    assert "排班表" not in card and "仍在管理后台中编辑" not in html
