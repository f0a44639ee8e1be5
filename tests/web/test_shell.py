"""The page shell: language switch, error pages, the installable web-app manifest."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.views import defaults


def test_home_is_chinese_by_default_and_english_after_the_switch(client, org):
    # given
    client.force_login(org.employee.user)

    # when
    default = client.get("/").content.decode()
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()

    # then
    assert '<html lang="zh-hans">' in default
    assert "我的考勤" in default
    assert switched.status_code == 302
    assert switched.url == "/"
    assert '<html lang="en">' in english
    assert "My attendance" in english
    assert "我的考勤" not in english

    # and back
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "我的考勤" in client.get("/").content.decode()


def test_language_switch_is_offered_on_the_login_page(client, db):
    html = client.get("/accounts/login/").content.decode()

    assert 'action="/i18n/setlang/"' in html
    assert 'value="en"' in html


def test_htmx_comes_from_the_bundled_copy_and_nothing_from_a_cdn(client, org):
    client.force_login(org.employee.user)

    html = client.get("/").content.decode()

    assert '<script src="/static/django_htmx/htmx-2.min.js"' in html
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html
    assert 'src="http' not in html and 'href="http' not in html


def test_404_page(client, org):
    client.force_login(org.employee.user)

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert "找不到页面" in response.content.decode()


def test_403_page_keeps_the_navigation(client, org):
    client.force_login(org.employee.user)

    response = client.get("/audit/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "没有权限" in html
    assert 'class="mainnav"' in html


def test_500_page_renders_without_a_request_or_database():
    html = render_to_string("500.html")

    assert "500" in html
    assert "/static/ztk/app.css" in html


def test_500_view_uses_the_project_page(db):
    response = defaults.server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "出错了" in response.content.decode()


def test_csrf_failure_page_is_friendly(org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "employee", "password": "x"})

    assert response.status_code == 403
    assert "请重试" in response.content.decode()


def test_manifest_is_served_from_static_with_our_icons(client, db):
    # given
    html = client.get("/accounts/login/").content.decode()
    assert '<link rel="manifest" href="/static/ztk/manifest.webmanifest">' in html

    # when
    path = Path(finders.find("ztk/manifest.webmanifest"))
    manifest = json.loads(path.read_text(encoding="utf-8"))

    # then: what Chrome needs to offer "install"
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(f"ztk/{icon['src']}"), icon["src"]
    response = client.get("/static/ztk/manifest.webmanifest")
    assert response.status_code == 200
