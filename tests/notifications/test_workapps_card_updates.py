"""Approval cards after the decision: every card already sent for a request is changed to
its outcome on each platform, the platform's documented way (the fake platforms in
workapp_fakes.py check the update requests' shapes), through the outbox (retries, the
delivery log), whichever path decided it: the web page, a card, withdrawing.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ztk.corrections.models import ChainPreset, CorrectionPolicy, Status
from ztk.corrections.services import correction_approve
from ztk.notifications.delivery import deliver_pending
from ztk.notifications.models import OutboxMessage, OutboxStatus
from ztk.notifications.workapps.models import CardVia, MatchBy, SentCard, WorkAppUser
from ztk.notifications.workapps.send import UPDATE_KIND
from ztk.overtime.services import overtime_submit

from ..corrections.conftest import MON, at, item, only_checkout, submit
from ..factories import add_to_group
from ..leave.conftest import THU, grant, leave
from ..overtime.conftest import SAT
from .test_workapps_callbacks import (
    FEISHU_KEY,
    FEISHU_TOKEN,
    TOKEN,
    lark_card_action,
    lark_post,
    wecom_card_event,
    wecom_post,
    wx_decrypt,
)
from .workapp_fakes import AES_KEY, make_app

pytestmark = pytest.mark.django_db

UPDATES = {
    "dingtalk": "/v1.0/im/interactiveCards",
    "wecom": "/cgi-bin/message/update_template_card",
}


def link(user, platform: str, pid: str) -> None:
    WorkAppUser.objects.create(
        platform=platform, user=user, platform_user_id=pid, matched_by=MatchBy.IMPORT
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def feishu_patches(platforms):
    return [
        c
        for c in platforms.calls
        if c.method == "PATCH" and c.path.startswith("/open-apis/im/v1/messages/")
    ]


def update_rows() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(payload__kind=UPDATE_KIND).order_by("id"))


@pytest.fixture
def two_hr(week, platforms, settings):
    """HR decides (flat chain); two HR people, each on DingTalk (card template), WeCom
    and Feishu; 张三's request sent to both as cards on all three."""
    settings.SITE_URL = "https://kq.example.com"
    org = week
    CorrectionPolicy.objects.create(group=org.group, chain_preset=ChainPreset.FLAT)
    add_to_group(org.head.user, "hr")
    make_app("dingtalk", card_template_id="tpl-approval.schema", callback_token=TOKEN,
             aes_key=AES_KEY)  # fmt: skip
    make_app("wecom", callback_token=TOKEN, aes_key=AES_KEY)
    make_app("feishu")
    for who, short in ((org.hr, "hr"), (org.head, "head")):
        for platform in ("dingtalk", "wecom", "feishu"):
            link(who.user, platform, f"{platform[:2]}-{short}")
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee, item())
    assert deliver_pending().sent == 6
    return org, req


def test_a_decision_on_the_web_page_updates_every_approvers_cards(two_hr, platforms):
    org, req = two_hr
    cards = {(c.platform, c.platform_user_id): c for c in SentCard.objects.all()}
    assert len(cards) == 6 and all(c.handle and c.ref == f"correction:{req.pk}"
                                   for c in cards.values())  # fmt: skip
    sent_codes = sorted(c.handle for c in cards.values() if c.via == CardVia.WECOM)
    sent_tracks = sorted(
        c.body["outTrackId"] for c in platforms.of("/v1.0/im/interactiveCards/send")
    )
    platforms.calls.clear()

    response = signed_in(org.hr.user).post(f"/requests/{req.pk}/approve/")

    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == Status.APPROVED
    assert len(update_rows()) == 6  # queued in the decision's transaction
    assert deliver_pending().sent == 6
    ding = [c for c in platforms.of(UPDATES["dingtalk"]) if c.method == "PUT"]
    assert sorted(c.body["outTrackId"] for c in ding) == sent_tracks
    for call in ding:
        status = call.body["cardData"]["cardParamMap"]["status"]
        assert "陈人事" in status and "2026-11-25 10:00" in status
        assert call.body["cardOptions"] == {"updateCardDataByKey": True}
    wecom = platforms.of(UPDATES["wecom"])
    assert sorted(c.body["response_code"] for c in wecom) == sent_codes
    assert sorted(c.body["userids"][0] for c in wecom) == ["we-head", "we-hr"]
    assert all("陈人事" in c.body["button"]["replace_name"] for c in wecom)
    patches = feishu_patches(platforms)
    assert len(patches) == 2
    for call in patches:
        card = json.loads(call.body["content"])
        text = json.dumps(card, ensure_ascii=False)
        assert "陈人事" in text and '"form"' not in text  # no buttons any more
        assert card["header"]["template"] == "grey"
    assert {c.settled_at is not None for c in SentCard.objects.all()} == {True}
    assert {r.status for r in update_rows()} == {OutboxStatus.SENT}


def test_withdrawing_updates_the_cards(two_hr, platforms):
    org, req = two_hr
    platforms.calls.clear()

    response = signed_in(org.employee.user).post(f"/requests/{req.pk}/withdraw/")

    assert response.status_code == 302
    deliver_pending()
    assert {r.status for r in update_rows()} == {OutboxStatus.SENT} and len(update_rows()) == 6
    texts = {r.payload["text"] for r in update_rows()}
    assert len(texts) == 1 and "2026-11-25 10:00" in texts.pop()
    assert {r.payload["state"] for r in update_rows()} == {"withdrawn"}
    assert len(platforms.of(UPDATES["wecom"])) == 2 and len(feishu_patches(platforms)) == 2


def test_a_failing_platform_is_retried_and_shows_in_the_delivery_log(two_hr, platforms):
    org, req = two_hr
    platforms.calls.clear()
    correction_approve(actor=org.head.user, request=req)
    # Feishu's first answer to an update: a rate limit.
    platforms.send_answers.append((200, {"code": 230020, "msg": "rate limited"}))
    feishu_rows = [r for r in update_rows() if r.channel == "feishu_app"]

    stats = deliver_pending(ids=[feishu_rows[0].pk])

    assert stats.failed == 1
    failed = OutboxMessage.objects.get(pk=feishu_rows[0].pk)
    assert failed.status == OutboxStatus.FAILED and "230020" in failed.last_error
    log = signed_in(org.hr.user).get("/notifications/deliveries/?status=failed")
    assert log.status_code == 200 and "230020" in log.content.decode()

    assert deliver_pending(now=failed.next_attempt_at).sent == 6
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.SENT and failed.attempts == 2


def test_a_stale_card_pressed_later_is_told_it_was_decided(two_hr, platforms):
    org, req = two_hr
    correction_approve(actor=org.hr.user, request=req)

    response = wecom_post(Client(), wecom_card_event("we-head", f"ztk:reject:correction:{req.pk}"))

    assert response.status_code == 200
    encrypt = response.content.decode().split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    reply, _corp = wx_decrypt(encrypt)
    assert "此申请已不在待审批状态（已通过）" in reply.decode()  # "no longer pending (approved)"
    req.refresh_from_db()
    assert req.status == Status.APPROVED


def test_a_wecom_card_pressed_keeps_its_fresh_response_code(two_hr, platforms):
    org, req = two_hr
    card = SentCard.objects.get(platform="wecom", platform_user_id="we-hr")
    event = wecom_card_event("we-hr", f"ztk:approve:correction:{req.pk}").replace(
        "<TaskId><![CDATA[ztk-1]]></TaskId>",
        f"<TaskId><![CDATA[ztk-{card.outbox_id}]]></TaskId>"
        "<ResponseCode><![CDATA[rc-fresh]]></ResponseCode>",
    )
    platforms.calls.clear()

    assert wecom_post(Client(), event).status_code == 200

    req.refresh_from_db()
    assert req.status == Status.APPROVED
    deliver_pending()
    codes = {c.body["userids"][0]: c.body["response_code"] for c in platforms.of(UPDATES["wecom"])}
    assert codes["we-hr"] == "rc-fresh" and codes["we-head"] != "rc-fresh"


def test_a_step_approved_updates_its_cards_and_the_next_step_gets_new_ones(week, platforms):
    org = week
    CorrectionPolicy.objects.create(group=org.group, chain_preset=ChainPreset.MULTI)
    make_app("wecom")
    link(org.supervisor.user, "wecom", "we-manager")
    link(org.hr.user, "wecom", "we-hr")
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee, item())
    deliver_pending()
    platforms.calls.clear()

    correction_approve(actor=org.supervisor.user, request=req)
    deliver_pending()

    [update] = platforms.of(UPDATES["wecom"])
    assert update.body["userids"] == ["we-manager"]
    assert "李主管" in update.body["button"]["replace_name"]
    [card] = [c for c in platforms.of("/cgi-bin/message/send") if c.body["touser"] == "we-hr"]
    assert card.body["msgtype"] == "template_card"
    hr_card = SentCard.objects.get(platform_user_id="we-hr")
    assert hr_card.settled_at is None  # the next step's card waits for its decision


def test_a_card_not_yet_sent_when_decided_is_not_sent(week, platforms):
    org = week
    make_app("feishu")
    link(org.supervisor.user, "feishu", "fe-manager")
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee, item())
    [row] = OutboxMessage.objects.filter(channel="feishu_app")

    correction_approve(actor=org.supervisor.user, request=req)

    row.refresh_from_db()
    assert row.status == OutboxStatus.DEAD and "decided" in row.last_error
    deliver_pending()
    assert platforms.of("/open-apis/im/v1/messages") == []


def test_dingtalk_without_a_template_sends_an_oa_notice_and_updates_its_status_bar(
    week, platforms, settings
):
    settings.SITE_URL = "https://kq.example.com"
    org = week
    make_app("dingtalk")
    link(org.supervisor.user, "dingtalk", "di-manager")
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee, item())
    deliver_pending()
    [send] = platforms.of("/topapi/message/corpconversation/asyncsend_v2")
    oa = send.body["msg"]["oa"]
    assert send.body["msg"]["msgtype"] == "oa"
    assert oa["message_url"] == f"https://kq.example.com/requests/{req.pk}/"
    assert oa["status_bar"]["status_value"]  # "waiting for approval"
    card = SentCard.objects.get()
    assert card.via == CardVia.DINGTALK_OA and card.handle.isdigit()

    correction_approve(actor=org.supervisor.user, request=req)
    deliver_pending()

    [update] = platforms.of("/topapi/message/corpconversation/status_bar/update")
    assert update.body["task_id"] == int(card.handle) and update.body["agent_id"] == 123456
    assert "李主管" in update.body["status_value"]


def _leave_request(org):
    grant(org.employee)
    return leave(org.employee, day=THU), "absence"


def _overtime_request(org):
    req = overtime_submit(actor=org.employee.user, employee=org.employee,
                          start=at(SAT, 9), end=at(SAT, 12), reason="赶项目上线")  # fmt: skip
    return req, "overtime"


@pytest.mark.parametrize("make", [_leave_request, _overtime_request], ids=["leave", "overtime"])
def test_leave_and_overtime_cards_decide_and_update(week, platforms, make):
    org = week
    make_app("feishu", callback_token=FEISHU_TOKEN, aes_key=FEISHU_KEY)
    link(org.supervisor.user, "feishu", "fe-manager")
    req, prefix = make(org)
    deliver_pending()
    [send] = platforms.of("/open-apis/im/v1/messages")
    ref = f"{prefix}:{req.pk}"
    assert ref in send.body["content"]  # an approval card with its buttons

    response = lark_post(Client(), lark_card_action("fe-manager", "reject", ref, "人手够了"))

    assert response.status_code == 200 and '"success"' in response.content.decode()
    req.refresh_from_db()
    assert req.status == "rejected"
    deliver_pending()
    [patch] = feishu_patches(platforms)
    assert patch.path == f"/open-apis/im/v1/messages/{SentCard.objects.get().handle}"
    assert "李主管" in patch.body["content"]
