"""Personal messages and approval cards through the work apps, over real HTTP against
the local fake platforms (workapp_fakes.py): token fetch and reuse, the send endpoints'
request shapes, an invalid token fetched again once, platform errors retried."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from ztk.notifications.delivery import deliver_pending
from ztk.notifications.models import NotificationKind, OutboxMessage, OutboxStatus
from ztk.notifications.services import notify
from ztk.notifications.workapps.models import MatchBy, WorkApp, WorkAppUser

from ..corrections.conftest import MON, item, only_checkout, submit
from .workapp_fakes import make_app

pytestmark = pytest.mark.django_db


def link(user, platform: str, pid: str) -> None:
    WorkAppUser.objects.create(
        platform=platform, user=user, platform_user_id=pid, matched_by=MatchBy.IMPORT
    )


def tell(user, *, kind=NotificationKind.CORRECTION_APPROVED, data=None) -> None:
    with transaction.atomic():
        notify(
            kind=kind,
            recipients=[user],
            title="补卡申请已通过",
            body="2026-11-26 上班卡 已补",
            url="/attendance/day/2026-11-26/",
            data=data,
            email=False,
        )


def app_rows(channel: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(channel=channel).order_by("id"))


def test_dingtalk_work_notice_fetches_a_token_once_and_sends(org, platforms, settings):
    settings.SITE_URL = "https://kq.example.com"
    make_app("dingtalk")
    link(org.employee.user, "dingtalk", "u-employee")

    tell(org.employee.user)
    tell(org.employee.user)
    assert [r.target for r in app_rows("ding_app")] == ["u-employee", "u-employee"]
    stats = deliver_pending()

    assert stats.sent == 2
    assert platforms.paths() == [
        "/gettoken",
        "/topapi/message/corpconversation/asyncsend_v2",
        "/topapi/message/corpconversation/asyncsend_v2",
    ]  # one token for both messages
    token_call, send_call, _ = platforms.calls
    assert token_call.method == "GET"
    assert token_call.query == {"appkey": "dingkey1", "appsecret": "dingsecret1"}
    assert send_call.query["access_token"] == "tok1"
    assert send_call.body["agent_id"] == 123456
    assert send_call.body["userid_list"] == "u-employee"
    card = send_call.body["msg"]
    assert card["msgtype"] == "action_card"
    assert card["action_card"]["single_url"] == "https://kq.example.com/attendance/day/2026-11-26/"
    assert "2026-11-26 上班卡 已补" in card["action_card"]["markdown"]
    assert {r.status for r in app_rows("ding_app")} == {OutboxStatus.SENT}
    assert WorkApp.objects.get(platform="dingtalk").access_token == "tok1"


def test_an_invalid_token_is_fetched_again_once(org, platforms):
    make_app("wecom")
    link(org.employee.user, "wecom", "u-employee")
    tell(org.employee.user)
    deliver_pending()
    platforms.revoke_tokens()  # the kept token is no longer valid on the platform

    tell(org.employee.user)
    stats = deliver_pending()

    assert stats.sent == 1
    assert platforms.paths()[2:] == [
        "/cgi-bin/message/send",  # refused: 42001 access_token expired
        "/cgi-bin/gettoken",
        "/cgi-bin/message/send",
    ]
    last = platforms.calls[-1]
    assert last.query["access_token"] == "tok2"
    assert last.body == {
        "touser": "u-employee",
        "agentid": 1000002,
        "msgtype": "text",
        "text": {"content": "补卡申请已通过\n2026-11-26 上班卡 已补"},
    }


def test_feishu_error_is_retried_and_a_switched_off_app_gives_up(org, platforms):
    make_app("feishu")
    link(org.employee.user, "feishu", "u-employee")
    platforms.send_answers.append((200, {"code": 230002, "msg": "bot not in chat"}))
    tell(org.employee.user)

    stats = deliver_pending()

    [message] = app_rows("feishu_app")
    assert stats.failed == 1 and message.status == OutboxStatus.FAILED
    assert message.attempts == 1 and "230002" in message.last_error
    assert "feishusecret1" not in message.last_error
    token_call, send_call = platforms.calls
    assert token_call.body == {"app_id": "cli_app1", "app_secret": "feishusecret1"}
    assert send_call.headers["authorization"] == "Bearer tok1"
    assert json.loads(send_call.body["content"]) == {
        "text": "补卡申请已通过\n2026-11-26 上班卡 已补"
    }

    WorkApp.objects.filter(platform="feishu").update(active=False)
    deliver_pending(now=message.next_attempt_at)

    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD and "switched off" in message.last_error


def test_a_feishu_invalid_token_answered_with_http_400_is_fetched_again(org, platforms):
    make_app("feishu")
    link(org.employee.user, "feishu", "u-employee")
    WorkApp.objects.filter(platform="feishu").update(
        access_token="stale", token_expires_at="2999-01-01T00:00:00Z"
    )
    tell(org.employee.user)

    assert deliver_pending().sent == 1
    assert platforms.paths() == [
        "/open-apis/im/v1/messages",
        "/open-apis/auth/v3/tenant_access_token/internal",
        "/open-apis/im/v1/messages",
    ]


def test_nothing_is_queued_without_an_app_or_a_user_id(org, platforms):
    make_app("dingtalk", active=False)
    make_app("wecom")
    link(org.employee.user, "dingtalk", "u-employee")
    link(org.colleague.user, "wecom", "u-colleague")

    tell(org.employee.user)  # DingTalk is off; no WeCom id for 张三

    assert not OutboxMessage.objects.filter(channel__in=["ding_app", "wecom_app"]).exists()


def test_an_approver_gets_approval_cards_on_each_platform(week, platforms, settings):
    settings.SITE_URL = "https://kq.example.com"
    org = week
    make_app("dingtalk", card_template_id="tpl-approval.schema")
    make_app("wecom")
    make_app("feishu")
    for platform in ("dingtalk", "wecom", "feishu"):
        link(org.supervisor.user, platform, f"{platform}-manager")
    only_checkout(org.employee, MON)

    (req,) = submit(org.employee.user, org.employee, item())
    stats = deliver_pending()

    assert stats.sent == 3
    ref = f"correction:{req.pk}"
    [ding] = platforms.of("/v1.0/im/interactiveCards/send")
    assert ding.headers["x-acs-dingtalk-access-token"] == "tok1"
    assert ding.body["receiverUserIdList"] == ["dingtalk-manager"]
    assert ding.body["cardTemplateId"] == "tpl-approval.schema"
    assert ding.body["cardData"]["cardParamMap"]["ref"] == ref
    # SendInteractiveCardRequest: the app key as robotCode, a single chat (0) to one user,
    # our outTrackId, string parameters; "status" empty until the decision.
    assert ding.body["robotCode"] == "dingkey1" and ding.body["conversationType"] == 0
    assert ding.body["outTrackId"] == f"ztk-{OutboxMessage.objects.get(channel='ding_app').pk}"
    assert ding.body["cardData"]["cardParamMap"]["status"] == ""
    [wecom] = platforms.of("/cgi-bin/message/send")
    card = wecom.body["template_card"]
    assert wecom.body["msgtype"] == "template_card" and card["card_type"] == "button_interaction"
    assert card["button_list"][0]["key"] == f"ztk:approve:{ref}"
    assert card["button_list"][1]["url"] == f"https://kq.example.com/requests/{req.pk}/"
    [feishu] = platforms.of("/open-apis/im/v1/messages")
    assert feishu.body["msg_type"] == "interactive"
    content = json.loads(feishu.body["content"])
    form = content["elements"][1]
    assert form["tag"] == "form"
    assert [e.get("value") for e in form["elements"][1:]] == [
        {"ztk": "approve", "ref": ref},
        {"ztk": "reject", "ref": ref},
    ]
    assert form["elements"][0] == {"tag": "input", "name": "reason", "placeholder": {
        "tag": "plain_text", "content": "驳回理由"}}  # fmt: skip


def test_a_kept_token_is_fetched_again_once_it_expires(org, platforms, time_machine):
    time_machine.move_to("2026-11-25T10:00:00+08:00", tick=False)
    make_app("dingtalk")
    link(org.employee.user, "dingtalk", "u-employee")
    tell(org.employee.user)
    deliver_pending()

    time_machine.move_to("2026-11-25T11:54:00+08:00", tick=False)  # 7200 s less the margin
    tell(org.employee.user)
    deliver_pending()
    time_machine.move_to("2026-11-25T11:56:00+08:00", tick=False)
    tell(org.employee.user)
    deliver_pending()

    assert platforms.paths().count("/gettoken") == 2
    sends = platforms.of("/topapi/message/corpconversation/asyncsend_v2")
    assert [c.query["access_token"] for c in sends] == ["tok1", "tok1", "tok2"]


def test_a_wecom_error_is_retried_later_without_a_new_token(org, platforms):
    make_app("wecom")
    link(org.employee.user, "wecom", "u-employee")
    platforms.send_answers.append((200, {"errcode": 45009, "errmsg": "api freq out of limit"}))
    tell(org.employee.user)

    assert deliver_pending().failed == 1
    [message] = app_rows("wecom_app")
    assert message.status == OutboxStatus.FAILED and "45009" in message.last_error
    assert platforms.paths().count("/cgi-bin/gettoken") == 1

    assert deliver_pending(now=message.next_attempt_at).sent == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 2
