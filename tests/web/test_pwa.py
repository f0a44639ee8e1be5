"""The installable app's server side: the service worker, the offline page, sign-out."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests import factories
from ztk.web.pwa import SHELL_STATIC

pytestmark = pytest.mark.django_db


def test_the_worker_is_served_from_the_root_with_the_shell_it_caches():
    response = Client().get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]  # browsers check for a new release
    body = response.content.decode()
    for url in ("/offline/", "/static/ztk/app.css", "/static/attendance/punch.js"):
        assert f'"{url}"' in body
    # only my attendance pages are kept, never the API, files or HR pages
    assert "/api/" not in body and "/hr/" not in body


def test_every_file_the_worker_caches_at_install_exists():
    # one missing file fails the whole install: the app would never work offline
    for path in SHELL_STATIC:
        assert finders.find(path), path


def test_the_offline_page_names_no_one_even_when_fetched_signed_in():
    org = factories.small_org()
    client = Client()
    client.force_login(org.employee.user)

    page = client.get("/offline/").content.decode()

    assert "You are offline" in page or "离线" in page
    assert org.employee.user.username not in page
    assert org.employee.name not in page
    assert "csrf" not in page.lower()


def test_pages_name_their_owner_for_the_worker():
    org = factories.small_org()
    client = Client()
    client.force_login(org.employee.user)

    page = client.get("/").content.decode()

    assert f'<meta name="ztk-owner" content="{org.employee.user.pk}">' in page
    assert "/static/ztk/pwa.js" in page
    login_page = Client().get(reverse("accounts:login")).content.decode()
    assert '<meta name="ztk-owner" content="">' in login_page


def test_signing_out_clears_what_the_app_kept_on_the_device():
    org = factories.small_org()
    client = Client()
    client.force_login(org.employee.user)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
