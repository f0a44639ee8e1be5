"""Sign in from the work app on a 375 px phone, end to end in a real Chromium: the log-in
page's WeCom link → the (fake) WeCom authorize page over real HTTP → back → home; DingTalk's
page with the JSAPI that DingTalk's client would provide (a stand-in `dd`); the refusal
page; the sign-in addresses on /settings/work-apps/. Screenshots in var/test/screenshots."""

from __future__ import annotations

import os
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from tests.browser import launch_chromium, page_width, screenshots_dir

from .signin_helpers import forget_failures, link
from .workapp_fakes import make_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Playwright's sync API runs an event loop in this thread; the database flush after the
# test must still work (as in tests/overtime/test_browser.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
User = get_user_model()

# What DingTalk's JSAPI gives the page inside DingTalk: requestAuthCode hands a code over.
FAKE_DD = """
window.dd = {
  env: {platform: "android"},
  ready: function (f) { setTimeout(f, 10); },
  error: function () {},
  runtime: {permission: {requestAuthCode: function (o) {
    window.__asked = {corpId: o.corpId, clientId: o.clientId};
    setTimeout(function () { o.onSuccess({code: "%s"}); }, 10);
  }}}
};
"""

# DingTalk's unified JSAPI: dd.getAuthCode({corpId, success, fail}) → {authCode}.
FAKE_DD_UNIFIED = """
window.dd = {
  env: {platform: "ios"},
  getAuthCode: function (o) { setTimeout(function () { o.success({authCode: "%s"}); }, 10); }
};
"""


@pytest.fixture(scope="module")
def chromium():
    yield from launch_chromium()


def test_phone_signs_in_from_wecom_and_dingtalk(live_server, org, platforms, chromium, client):
    forget_failures()
    with transaction.atomic():
        make_app("wecom")
        make_app("dingtalk")
        link("wecom", org.employee.user, "wx-employee")
        link("dingtalk", org.colleague.user, "ding-colleague")
    platforms.signin_as["wecom"] = "wx-employee"
    shots = screenshots_dir()
    base = live_server.url

    # WeCom: from the log-in page's link, through WeCom's authorize page, to the home page.
    context = chromium.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    assert page.locator("#signin-wecom").inner_text() == "使用企业微信登录"
    assert page.locator("#signin-feishu").count() == 0
    assert page_width(page) <= 375
    page.screenshot(path=str(shots / "workapp-signin-login-375.png"), full_page=True)
    page.click("#signin-wecom")
    # The browser keeps the authorize address's fragment across the redirects back.
    page.wait_for_url(re.compile(re.escape(base) + r"/(#wechat_redirect)?$"))
    assert page.evaluate("document.querySelector('meta[name=ztk-owner]').content") == str(
        org.employee.user.pk
    )
    page.screenshot(path=str(shots / "workapp-signin-wecom-home-375.png"), full_page=True)
    assert [c.path for c in platforms.calls] == [
        "/connect/oauth2/authorize",
        "/cgi-bin/gettoken",
        "/cgi-bin/auth/getuserinfo",
    ]
    context.close()

    # DingTalk: the page asks the JSAPI with the corp id, posts the code, lands home.
    code = platforms.issue_code("dingtalk", "ding-colleague")
    context = chromium.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    context.add_init_script(FAKE_DD % code)
    page = context.new_page()
    page.goto(f"{base}/workapps/dingtalk/signin")
    page.wait_for_url(f"{base}/")
    asked = page.evaluate("window.__asked || null")
    assert asked is None  # a new page now: the sign-in page's own check below
    assert page.evaluate("document.querySelector('meta[name=ztk-owner]').content") == str(
        org.colleague.user.pk
    )
    [call] = platforms.of("/topapi/v2/user/getuserinfo")
    assert call.body == {"code": code}
    context.close()

    # The same with DingTalk's unified JSAPI.
    code = platforms.issue_code("dingtalk", "ding-colleague")
    context = chromium.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    context.add_init_script(FAKE_DD_UNIFIED % code)
    page = context.new_page()
    page.goto(f"{base}/workapps/dingtalk/signin")
    page.wait_for_url(f"{base}/")
    assert platforms.of("/topapi/v2/user/getuserinfo")[-1].body == {"code": code}
    context.close()

    # Outside DingTalk (no JSAPI): the page says where to open it, and nobody is signed in.
    context = chromium.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/workapps/dingtalk/signin")
    status = page.locator("#workapp-status")
    assert "钉钉工作台" in status.inner_text()
    assert page_width(page) <= 375
    page.screenshot(path=str(shots / "workapp-signin-dingtalk-outside-375.png"), full_page=True)

    # Someone HR has not linked: the refusal page.
    platforms.signin_as["wecom"] = "wx-new-hire"
    page.goto(f"{base}/workapps/wecom/signin")
    page.wait_for_selector("p.errors")
    assert "请 HR 把你关联起来" in page.locator("p.errors").inner_text()
    assert page_width(page) <= 375
    page.screenshot(path=str(shots / "workapp-signin-refused-375.png"), full_page=True)
    context.close()

    # HR's settings page: the sign-in address of each platform and its copy button.
    client.force_login(org.hr.user)
    context = chromium.new_context(viewport={"width": 375, "height": 900}, locale="zh-CN")
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    page = context.new_page()
    page.goto(f"{base}/settings/work-apps/")
    entry = page.locator("#wecom-signin-url").inner_text()
    assert entry == f"{base}/workapps/wecom/signin"  # absolute, ready to paste
    assert page_width(page) <= 375
    page.screenshot(path=str(shots / "workapp-signin-settings-375.png"), full_page=True)
    context.close()
    forget_failures()
