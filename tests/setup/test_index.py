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
