"""Sign in from the work app (issue 14 item 6): DingTalk 免登, WeCom and Feishu OAuth against
the fake platforms over real HTTP; the linked employee's account is logged in, nobody is
ever created, every refusal says what to do and is audited, a second factor still asked."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.helpers import code_for
from ztk.audit.models import AuditEvent
from ztk.notifications.workapps.models import WorkAppUser
from ztk.web.workapp_signin import PENDING

from .signin_helpers import (
    dingtalk_page_state,
    forget_failures,
    link,
    platform_redirect,
    sign_in_by_redirect,
    sign_in_dingtalk,
)
from .workapp_fakes import DING, FEISHU, WECOM, make_app

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def _fresh_counter():
    forget_failures()
    yield
    forget_failures()


def logged_in_as(client: Client):
    return client.session.get("_auth_user_id")


def refusals() -> list[str]:
    return [
        e.changes.get("code")
        for e in AuditEvent.objects.filter(action="notifications.workapp.signin_refused").order_by(
            "id"
        )
    ]


# --- the three flows -------------------------------------------------------------------------


def test_wecom_signs_the_linked_employee_in_and_the_requests_have_the_documented_shape(
    org, platforms
):
    make_app("wecom")
    link("wecom", org.employee.user, "wx-u-employee")
    platforms.signin_as["wecom"] = "wx-u-employee"
    client = Client()

    entry = client.get("/workapps/wecom/signin")
    assert entry.status_code == 302
    location = entry["Location"]
    assert location.startswith(f"{platforms.url}/connect/oauth2/authorize?")
    assert location.endswith("#wechat_redirect")
    back = platform_redirect(location)
    response = client.get(back.split("testserver", 1)[1])

    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in_as(client) == str(org.employee.user.pk)
    [authorize] = platforms.of("/connect/oauth2/authorize")
    assert authorize.query["redirect_uri"] == "http://testserver/workapps/wecom/signin/done"
    assert authorize.query["appid"] == WECOM["corp_id"]
    [token] = platforms.of("/cgi-bin/gettoken")
    assert token.query == {"corpid": WECOM["corp_id"], "corpsecret": WECOM["app_secret"]}
    [info] = platforms.of("/cgi-bin/auth/getuserinfo")
    assert info.method == "GET" and info.query["access_token"] in platforms.tokens
    assert info.query["code"].startswith("wecode")
    [login] = AuditEvent.objects.filter(action="accounts.login")
    assert login.changes["via"] == "wecom" and login.changes["second_factor"] is False
    assert login.actor_id == org.employee.user.pk


def test_feishu_exchanges_the_code_for_the_users_token_then_reads_their_user_id(org, platforms):
    make_app("feishu")
    link("feishu", org.colleague.user, "fs-colleague")
    platforms.signin_as["feishu"] = "fs-colleague"
    client = Client()

    response = sign_in_by_redirect(client, "feishu")

    assert response.status_code == 302
    assert logged_in_as(client) == str(org.colleague.user.pk)
    [authorize] = platforms.of("/open-apis/authen/v1/authorize")
    assert authorize.query["client_id"] == FEISHU["app_id"]
    [token] = platforms.of("/open-apis/authen/v2/oauth/token")
    assert token.body["client_secret"] == FEISHU["app_secret"]
    assert token.body["redirect_uri"] == "http://testserver/workapps/feishu/signin/done"
    [info] = platforms.of("/open-apis/authen/v1/user_info")
    assert info.headers["authorization"].startswith("Bearer u-")
    assert AuditEvent.objects.get(action="accounts.login").changes["via"] == "feishu"


def test_dingtalk_page_hands_the_jsapi_its_corp_id_and_the_posted_code_signs_in(org, platforms):
    make_app("dingtalk")
    link("dingtalk", org.supervisor.user, "ding-manager")
    platforms.signin_as["dingtalk"] = "ding-manager"
    client = Client(enforce_csrf_checks=True)

    page = client.get("/workapps/dingtalk/signin")
    html = page.content.decode()
    assert f'data-corp-id="{DING["corp_id"]}"' in html
    assert f'data-client-id="{DING["app_key"]}"' in html
    assert "workapp_signin.js" in html
    assert "dingtalk.open.js" not in html  # outside DingTalk's client: no foreign script
    state = dingtalk_page_state(client)
    code = platforms.issue_code("dingtalk")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/workapps/dingtalk/signin/done",
        {"state": state, "code": code, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert logged_in_as(client) == str(org.supervisor.user.pk)
    [call] = platforms.of("/topapi/v2/user/getuserinfo")
    assert call.method == "POST" and call.body == {"code": code}
    assert call.query["access_token"] in platforms.tokens
    [token_call] = platforms.of("/gettoken")
    assert token_call.query == {"appkey": DING["app_key"], "appsecret": DING["app_secret"]}


def test_inside_dingtalk_the_page_loads_dingtalks_jsapi_and_csp_allows_that_origin_only(
    org, platforms
):
    make_app("dingtalk")

    response = Client().get(
        "/workapps/dingtalk/signin", HTTP_USER_AGENT="Mozilla/5.0 (iPhone) AliApp(DingTalk/7.6.0)"
    )

    html = response.content.decode()
    assert '<script src="https://g.alicdn.com/dingding/dingtalk-jsapi/' in html
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' https://g.alicdn.com" in csp
    other = Client().get("/workapps/dingtalk/signin")
    assert "g.alicdn.com" not in other["Content-Security-Policy"]


def test_the_dingtalk_jsapi_can_be_served_from_this_site(org, platforms, settings):
    settings.DINGTALK_JSAPI_URL = "/static/vendor/dingtalk.open.js"
    make_app("dingtalk")

    response = Client().get("/workapps/dingtalk/signin", HTTP_USER_AGENT="DingTalk/7.6.0")

    assert '<script src="/static/vendor/dingtalk.open.js">' in response.content.decode()
    assert "alicdn" not in response["Content-Security-Policy"]


def test_after_sign_in_the_person_lands_on_the_local_page_they_asked_for(org, platforms):
    make_app("wecom")
    link("wecom", org.employee.user, "wx-e")
    platforms.signin_as["wecom"] = "wx-e"

    response = sign_in_by_redirect(Client(), "wecom", next_url="/leave/?month=2026-12")

    assert response["Location"] == "/leave/?month=2026-12"


# --- the second factor -----------------------------------------------------------------------


def test_an_account_with_a_second_factor_must_still_enter_its_code(org, platforms):
    make_app("wecom")
    link("wecom", org.hr.user, "wx-hr")
    platforms.signin_as["wecom"] = "wx-hr"
    device = TOTPDevice.objects.create(user=org.hr.user, name="phone", confirmed=True)
    client = Client()

    response = sign_in_by_redirect(client, "wecom", next_url="/hr/")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    assert logged_in_as(client) is None  # not before the code
    assert client.get("/hr/").status_code == 302
    done = client.post("/accounts/login/code/", {"token": code_for(device)})
    assert done.status_code == 302 and done["Location"] == "/hr/"
    assert logged_in_as(client) == str(org.hr.user.pk)
    [login] = AuditEvent.objects.filter(action="accounts.login")
    assert login.changes["via"] == "wecom" and login.changes["second_factor"] is True


def test_staff_who_must_use_2fa_but_have_none_set_up_are_asked_for_their_password_first(
    org, platforms, settings
):
    settings.OTP_REQUIRED_FOR_STAFF = True
    make_app("feishu")
    link("feishu", org.hr.user, "fs-hr")
    platforms.signin_as["feishu"] = "fs-hr"
    client = Client()

    sign_in_by_redirect(client, "feishu")
    page = client.get("/hr/", follow=True)

    # The work app is not the password: setting up the authenticator asks for it first.
    assert page.redirect_chain[-1][0].startswith("/accounts/otp/")
    assert 'name="password"' in page.content.decode()


def test_a_locked_out_account_stays_locked_for_the_work_app_too(org, platforms):
    make_app("wecom")
    link("wecom", org.employee.user, "wx-e")
    platforms.signin_as["wecom"] = "wx-e"
    locker = Client()
    for _ in range(5):
        locker.post("/accounts/login/", {"username": "employee", "password": "wrong"})
    client = Client()

    response = sign_in_by_redirect(client, "wecom")

    assert response.status_code in (403, 429)
    assert logged_in_as(client) is None


# --- refusals: nothing created, a page saying what to do, audited -----------------------------


def test_an_unlinked_person_is_told_to_ask_hr_and_nothing_is_created(org, platforms):
    make_app("wecom")
    platforms.signin_as["wecom"] = "wx-somebody-new"
    users, links = User.objects.count(), WorkAppUser.objects.count()
    client = Client()

    response = sign_in_by_redirect(client, "wecom")

    assert response.status_code == 403
    text = response.content.decode()
    assert "请 HR 把你关联起来" in text
    assert logged_in_as(client) is None
    assert (User.objects.count(), WorkAppUser.objects.count()) == (users, links)
    [event] = AuditEvent.objects.filter(action="notifications.workapp.signin_refused")
    assert event.changes["code"] == "workapp_signin_unlinked"
    assert event.changes["platform_user"] == "wx-somebody-new"
    assert event.object_id == "wecom"


def test_the_refusal_page_speaks_english_to_an_english_browser(org, platforms):
    make_app("feishu")
    platforms.signin_as["feishu"] = "fs-nobody"

    response = sign_in_by_redirect(Client(), "feishu", HTTP_ACCEPT_LANGUAGE="en")

    assert "Ask HR to link you" in response.content.decode()


def test_a_switched_off_account_is_refused_and_the_audit_names_it(org, platforms):
    make_app("dingtalk")
    link("dingtalk", org.stranger.user, "ding-stranger")
    User.objects.filter(pk=org.stranger.user.pk).update(is_active=False)
    platforms.signin_as["dingtalk"] = "ding-stranger"
    client = Client()

    response = sign_in_dingtalk(client, platforms)

    assert response.status_code == 403
    assert logged_in_as(client) is None
    [event] = AuditEvent.objects.filter(action="notifications.workapp.signin_refused")
    assert event.changes["code"] == "workapp_signin_inactive"
    assert event.actor_id == org.stranger.user.pk


def test_someone_outside_the_company_on_wecom_is_refused(org, platforms):
    make_app("wecom")
    platforms.signin_as["wecom"] = "openid:o-visitor"

    response = sign_in_by_redirect(Client(), "wecom")

    assert response.status_code == 403
    assert refusals() == ["workapp_signin_not_member"]


@pytest.mark.parametrize("platform", ["dingtalk", "wecom", "feishu"])
def test_a_platform_that_is_not_set_up_says_so_and_is_never_called(org, platforms, platform):
    client = Client()

    response = client.get(f"/workapps/{platform}/signin")

    assert response.status_code == 200
    assert "用户名和密码" in response.content.decode()
    assert platforms.calls == []
    assert refusals() == ["workapp_signin_not_configured"]


def test_a_code_the_platform_does_not_know_is_refused(org, platforms):
    make_app("dingtalk")
    client = Client()
    state = dingtalk_page_state(client)

    response = client.post(
        "/workapps/dingtalk/signin/done", {"state": state, "code": "made-up-code"}
    )

    assert response.status_code == 403
    assert refusals() == ["workapp_signin_platform_refused"]
    assert logged_in_as(client) is None


def test_a_platform_that_is_down_is_a_clear_refusal_not_an_error(
    org, platforms, down_url, settings
):
    make_app("dingtalk")
    port = down_url.split(":")[2].split("/")[0]
    settings.WORKAPPS_BASE_URLS = {
        **settings.WORKAPPS_BASE_URLS,
        "dingtalk": f"http://127.0.0.1:{port}",
    }
    client = Client()
    state = dingtalk_page_state(client)

    response = client.post("/workapps/dingtalk/signin/done", {"state": state, "code": "abc"})

    assert response.status_code == 403
    assert refusals() == ["workapp_signin_platform_refused"]


# --- state and code: bound to the session, once, short-lived -----------------------------------


def test_a_state_works_once(org, platforms):
    make_app("dingtalk")
    link("dingtalk", org.employee.user, "ding-e")
    platforms.signin_as["dingtalk"] = "ding-e"
    client = Client()
    state = dingtalk_page_state(client)
    first = client.post(
        "/workapps/dingtalk/signin/done",
        {"state": state, "code": platforms.issue_code("dingtalk")},
    )
    assert first.status_code == 302
    client.post("/accounts/logout/")

    again = client.post(
        "/workapps/dingtalk/signin/done",
        {"state": state, "code": platforms.issue_code("dingtalk")},
    )

    assert again.status_code == 400
    assert "已过期或已被使用" in again.content.decode()
    assert refusals() == []  # a forged or replayed state is logged, not audited
    assert logged_in_as(client) is None


def test_a_state_from_another_session_is_refused(org, platforms):
    make_app("wecom")
    link("wecom", org.employee.user, "wx-e")
    platforms.signin_as["wecom"] = "wx-e"
    victim_link = Client().get("/workapps/wecom/signin")["Location"]
    back = platform_redirect(victim_link)  # a code and state made for someone else's session
    attacker = Client()
    attacker.get("/workapps/wecom/signin")  # has a state of its own

    response = attacker.get(back.split("testserver", 1)[1])

    assert response.status_code == 400
    assert logged_in_as(attacker) is None
    assert platforms.of("/cgi-bin/auth/getuserinfo") == []  # the code was never tried


def test_a_state_expires_after_ten_minutes(org, platforms):
    make_app("dingtalk")
    link("dingtalk", org.employee.user, "ding-e")
    platforms.signin_as["dingtalk"] = "ding-e"
    client = Client()
    state = dingtalk_page_state(client)
    session = client.session
    session[PENDING] = {**session[PENDING], "since": int(time.time()) - 601}
    session.save()

    response = client.post(
        "/workapps/dingtalk/signin/done",
        {"state": state, "code": platforms.issue_code("dingtalk")},
    )

    assert response.status_code == 400 and logged_in_as(client) is None


def test_a_state_of_another_platform_is_refused(org, platforms):
    make_app("dingtalk")
    make_app("feishu")
    client = Client()
    state = dingtalk_page_state(client)

    response = client.get("/workapps/feishu/signin/done", {"state": state, "code": "x1"})

    assert response.status_code == 400
    assert platforms.of("/open-apis/authen/v2/oauth/token") == []


def test_a_code_is_used_once_even_if_the_platform_would_take_it_again(org, platforms):
    make_app("dingtalk")
    link("dingtalk", org.employee.user, "ding-e")
    client = Client()
    code = platforms.issue_code("dingtalk", "ding-e")
    platforms.codes["again"] = platforms.codes[code]
    first = client.post(
        "/workapps/dingtalk/signin/done", {"state": dingtalk_page_state(client), "code": code}
    )
    assert first.status_code == 302
    client.post("/accounts/logout/")
    asked = len(platforms.of("/topapi/v2/user/getuserinfo"))

    again = client.post(
        "/workapps/dingtalk/signin/done", {"state": dingtalk_page_state(client), "code": code}
    )

    assert again.status_code == 400
    assert len(platforms.of("/topapi/v2/user/getuserinfo")) == asked  # not asked again
    assert refusals() == ["workapp_signin_code_used"]


# --- rate limit ----------------------------------------------------------------------------------


def test_too_many_refusals_from_one_address_stop_further_attempts(org, platforms, settings):
    settings.WORKAPPS_SIGNIN_FAILURE_LIMIT = 3
    make_app("dingtalk")
    link("dingtalk", org.employee.user, "ding-e")
    client = Client()
    for attempt in range(3):
        state = dingtalk_page_state(client)
        client.post("/workapps/dingtalk/signin/done", {"state": state, "code": f"no{attempt}"})
    asked = len(platforms.calls)

    response = client.get("/workapps/dingtalk/signin")
    state_less = client.post(
        "/workapps/dingtalk/signin/done",
        {"state": "x", "code": platforms.issue_code("dingtalk", "ding-e")},
    )

    assert response.status_code == state_less.status_code == 429
    assert "15 分钟" in response.content.decode()
    assert len(platforms.calls) == asked  # the platform is not asked any more
    assert refusals() == ["workapp_signin_platform_refused"] * 3  # the limit: logged only


def test_forged_states_neither_fill_the_audit_log_nor_count(org, platforms, settings):
    settings.WORKAPPS_SIGNIN_FAILURE_LIMIT = 3
    make_app("dingtalk")
    client = Client()
    for _ in range(10):
        assert client.post("/workapps/dingtalk/signin/done", {"state": "forged"}).status_code == 400

    assert client.get("/workapps/dingtalk/signin").status_code == 200
    assert refusals() == []


# --- where people find it ---------------------------------------------------------------------


def test_the_log_in_page_offers_only_the_platforms_that_are_set_up(org, platforms):
    make_app("wecom")
    make_app("feishu", active=False)  # set up, messages off: signing in still works

    html = Client().get("/accounts/login/?next=/leave/").content.decode()

    assert 'id="signin-wecom" href="/workapps/wecom/signin?next=/leave/"' in html
    assert 'id="signin-feishu"' in html and 'id="signin-dingtalk"' not in html
    assert "使用企业微信登录" in html


def test_the_log_in_page_has_no_work_app_links_when_none_is_set_up(org):
    html = Client().get("/accounts/login/").content.decode()

    assert "signin-" not in html


def test_the_work_apps_page_shows_each_entry_address_with_a_copy_button(org, settings):
    settings.SITE_URL = "https://kq.example.com"
    client = Client()
    client.force_login(org.hr.user)

    html = client.get("/settings/work-apps/").content.decode()

    for platform in ("dingtalk", "wecom", "feishu"):
        assert (
            f'id="{platform}-signin-url">https://kq.example.com/workapps/{platform}/signin<' in html
        )
        assert f'data-copy="{platform}-signin-url"' in html
    assert "setup/work_apps.js" in html


def test_dingtalk_sign_in_works_during_maintenance(org, platforms, settings):
    settings.MAINTENANCE_MODE = True
    make_app("dingtalk")
    link("dingtalk", org.employee.user, "ding-e")
    platforms.signin_as["dingtalk"] = "ding-e"
    client = Client()

    response = sign_in_dingtalk(client, platforms)

    assert response.status_code == 302
    assert logged_in_as(client) == str(org.employee.user.pk)
