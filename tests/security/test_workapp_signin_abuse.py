"""Sign in from the work app, attacked: control characters and huge values in the code and
state, open redirects through `next`, odd answers from the platform, a platform address
inside the network. Nothing logs anyone in, nothing is created, no 500."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.notifications.signin_helpers import (
    dingtalk_page_state,
    forget_failures,
    link,
    sign_in_by_redirect,
)
from tests.notifications.workapp_fakes import make_app, platforms  # noqa: F401
from ztk.notifications.workapps.models import WorkAppUser

pytestmark = pytest.mark.django_db
User = get_user_model()
DONE = "/workapps/dingtalk/signin/done"


@pytest.fixture(autouse=True)
def _fresh_counter():
    forget_failures()
    yield
    forget_failures()


@pytest.fixture
def ding(org, platforms):  # noqa: F811 - the fake platforms fixture
    make_app("dingtalk")
    link("dingtalk", org.employee.user, "ding-e")
    platforms.signin_as["dingtalk"] = "ding-e"
    return platforms


def _nobody_in(client: Client) -> None:
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "code",
    ["a\x00b", "\x00", "a\x1fb", "a\u202eb"],
    ids=["nul", "only-nul", "control", "bidi-override"],
)
def test_control_characters_in_the_code_are_refused_before_the_platform(ding, code):
    client = Client()
    state = dingtalk_page_state(client)

    response = client.post(DONE, {"state": state, "code": code})

    assert response.status_code == 400
    assert ding.of("/topapi/v2/user/getuserinfo") == []
    _nobody_in(client)


def test_a_nul_in_the_query_of_the_way_back_is_refused(org, platforms):  # noqa: F811
    make_app("wecom")
    client = Client()
    client.get("/workapps/wecom/signin")

    response = client.get("/workapps/wecom/signin/done", {"code": "abc", "state": "s\x00"})

    assert response.status_code == 400
    assert platforms.of("/cgi-bin/auth/getuserinfo") == []
    _nobody_in(client)


@pytest.mark.parametrize(
    "code",
    ["x" * 300, "x" * 100_000, "a?b=c&access_token=x", "code with spaces", "代码", "a\"'<>"],
    ids=["long", "huge", "query", "spaces", "cjk", "quotes"],
)
def test_huge_or_odd_codes_are_refused_without_asking_the_platform(ding, code):
    client = Client()
    state = dingtalk_page_state(client)

    response = client.post(DONE, {"state": state, "code": code})

    assert response.status_code == 400
    assert "没有发来可用的登录授权码" in response.content.decode()
    assert ding.of("/topapi/v2/user/getuserinfo") == []
    _nobody_in(client)


@pytest.mark.parametrize("state", ["", "x" * 100_000, "None", "{}"])
def test_a_missing_huge_or_guessed_state_is_refused(ding, state):
    client = Client()
    dingtalk_page_state(client)

    response = client.post(DONE, {"state": state, "code": ding.issue_code("dingtalk")})

    assert response.status_code == 400
    assert ding.of("/topapi/v2/user/getuserinfo") == []
    _nobody_in(client)


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        " //evil.example",
        "evil.example",
        "web:hr",
    ],
)
def test_next_never_leaves_the_site(org, platforms, next_url):  # noqa: F811
    make_app("wecom")
    link("wecom", org.employee.user, "wx-e")
    platforms.signin_as["wecom"] = "wx-e"

    response = sign_in_by_redirect(Client(), "wecom", next_url=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    "answer",
    ["a\x00b", "../../admin", "x" * 101, "", "名字"],
    ids=["nul", "path", "long", "empty", "cjk"],
)
def test_an_odd_user_id_from_the_platform_is_refused_not_looked_up(org, platforms, answer):  # noqa: F811
    make_app("wecom")
    platforms.signin_as["wecom"] = answer or "openid:"  # "" → an answer without a user id
    client = Client()

    response = sign_in_by_redirect(client, "wecom")

    assert response.status_code == 403
    _nobody_in(client)
    assert not WorkAppUser.objects.exists()


def test_feishu_without_the_permission_to_read_user_ids_is_a_clear_refusal(org, platforms):  # noqa: F811
    make_app("feishu")
    platforms.signin_as["feishu"] = ""  # the app may not read user_id: Feishu leaves it out
    client = Client()

    response = sign_in_by_redirect(client, "feishu")

    assert response.status_code == 403
    assert "没有确认你的身份" in response.content.decode()
    _nobody_in(client)


def test_a_platform_address_inside_the_network_is_never_contacted(org, platforms, settings):  # noqa: F811
    make_app("dingtalk")
    link("dingtalk", org.employee.user, "ding-e")
    settings.WEBHOOK_ALLOW_PRIVATE = False  # the fake platform is on 127.0.0.1
    client = Client()
    state = dingtalk_page_state(client)

    response = client.post(
        DONE, {"state": state, "code": platforms.issue_code("dingtalk", "ding-e")}
    )

    assert response.status_code == 403
    assert platforms.calls == []
    _nobody_in(client)


def test_a_signed_in_session_does_not_lend_its_state_to_a_posted_form_without_csrf(ding):
    client = Client(enforce_csrf_checks=True)
    state = dingtalk_page_state(client)

    response = client.post(DONE, {"state": state, "code": ding.issue_code("dingtalk")})

    assert response.status_code == 403  # Django's CSRF check: the form came from elsewhere
    assert ding.of("/topapi/v2/user/getuserinfo") == []
    _nobody_in(client)
