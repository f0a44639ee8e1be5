"""deliver_pending(): email, the three robot formats and signatures, retries, dead rows.

Signatures are recomputed here from the platforms' documented recipes, not with the
code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from ztk.notifications import delivery
from ztk.notifications.delivery import MAX_ATTEMPTS, deliver_pending
from ztk.notifications.models import Channel, NotificationKind, OutboxMessage, OutboxStatus
from ztk.notifications.services import notify

from .conftest import FEISHU_OK, OK, make_robot

pytestmark = pytest.mark.django_db

DING_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
FEISHU_SECRET = "fs-secret-42"


def event(user=None, *, title="补卡申请已通过", body="2026-11-26 上班卡 已补", email=True):
    with transaction.atomic():
        notify(
            kind=NotificationKind.CORRECTION_APPROVED,
            recipients=[user] if user else [],
            title=title,
            body=body,
            url="/attendance/day/2026-11-26/",
            email=email,
        )
    return list(OutboxMessage.objects.order_by("id"))


def row(pk) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=pk)


# --- email ------------------------------------------------------------------------------


def test_email_through_django_mail(org, mailoutbox, settings):
    settings.SITE_URL = "https://kq.example.com"
    org.employee.email = "zhang@example.com"
    org.employee.save()
    [message] = event(org.employee.user)

    stats = deliver_pending()

    assert stats.as_dict() == {"sent": 1, "failed": 0, "dead": 0, "deferred": 0}
    [mail] = mailoutbox
    assert mail.to == ["zhang@example.com"]
    assert mail.subject == "补卡申请已通过"
    assert mail.body.splitlines() == [
        "补卡申请已通过",
        "2026-11-26 上班卡 已补",
        "https://kq.example.com/attendance/day/2026-11-26/",
    ]
    message = row(message.pk)
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")
    assert message.sent_at is not None


def test_a_sent_row_is_never_sent_again(org, mailoutbox):
    org.employee.email = "zhang@example.com"
    org.employee.save()
    event(org.employee.user)
    deliver_pending()
    deliver_pending(now=timezone.now() + timedelta(hours=1))
    assert len(mailoutbox) == 1


def test_mail_server_down_retries_later(org, mailoutbox, monkeypatch):
    org.employee.email = "zhang@example.com"
    org.employee.save()
    org.colleague.email = "li@example.com"
    org.colleague.save()
    with transaction.atomic():
        notify(kind="x", recipients=[org.employee.user, org.colleague.user], title="t", body="b")

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    now = timezone.now()
    stats = deliver_pending(now=now)

    # the first failure marks the mail server down: the second row waits without a try
    assert (stats.failed, stats.deferred) == (1, 1)
    first, second = OutboxMessage.objects.order_by("id")
    assert (first.status, first.attempts) == (OutboxStatus.FAILED, 1)
    assert "Connection refused" in first.last_error
    assert (second.status, second.attempts) == (OutboxStatus.PENDING, 0)
    assert first.next_attempt_at == second.next_attempt_at == now + timedelta(minutes=1)

    monkeypatch.undo()
    stats = deliver_pending(now=now + timedelta(minutes=1))
    assert stats.sent == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["li@example.com", "zhang@example.com"]


# --- robots -----------------------------------------------------------------------------


def test_dingtalk_signed_url(org, robot_server):
    make_robot(robot_server.url(), platform="dingtalk", secret=DING_SECRET)
    [message] = event()

    before = int(time.time() * 1000)
    assert deliver_pending().sent == 1
    after = int(time.time() * 1000)

    [got] = robot_server.received
    assert got.path == "/robot/send"
    assert got.query["access_token"] == ["tok123"]
    timestamp = got.query["timestamp"][0]
    assert before <= int(timestamp) <= after  # milliseconds
    # DingTalk: base64(HMAC-SHA256(key=secret, msg=timestamp + "\n" + secret)), URL-encoded
    expected = base64.b64encode(
        hmac.new(
            DING_SECRET.encode("utf-8"),
            f"{timestamp}\n{DING_SECRET}".encode(),
            digestmod=hashlib.sha256,
        ).digest()
    ).decode()
    assert got.query["sign"] == [expected]  # parse_qs undid the URL encoding
    assert got.body == {
        "msgtype": "text",
        "text": {"content": "补卡申请已通过\n2026-11-26 上班卡 已补"},
    }
    assert got.headers["Content-Type"].startswith("application/json")
    assert row(message.pk).status == OutboxStatus.SENT


def test_dingtalk_unsigned_has_no_signature(org, robot_server):
    make_robot(robot_server.url(), platform="dingtalk")
    event()
    deliver_pending()
    [got] = robot_server.received
    assert set(got.query) == {"access_token"}


def test_feishu_signed_body(org, robot_server):
    robot_server.default = FEISHU_OK
    make_robot(
        robot_server.url("/open-apis/bot/v2/hook/abcd"), platform="feishu", secret=FEISHU_SECRET
    )
    [message] = event()

    before = int(time.time())
    assert deliver_pending().sent == 1
    after = int(time.time())

    [got] = robot_server.received
    assert got.path == "/open-apis/bot/v2/hook/abcd"
    timestamp = got.body["timestamp"]
    assert isinstance(timestamp, str) and before <= int(timestamp) <= after  # seconds
    # Feishu: base64(HMAC-SHA256(key=timestamp + "\n" + secret, msg=empty))
    expected = base64.b64encode(
        hmac.new(f"{timestamp}\n{FEISHU_SECRET}".encode(), digestmod=hashlib.sha256).digest()
    ).decode()
    assert got.body["sign"] == expected
    assert got.body["msg_type"] == "text"
    assert got.body["content"] == {"text": "补卡申请已通过\n2026-11-26 上班卡 已补"}
    assert row(message.pk).status == OutboxStatus.SENT


def test_feishu_older_status_code_answer_counts_as_success(org, robot_server):
    robot_server.default = (200, {"Extra": None, "StatusCode": 0, "StatusMessage": "success"})
    make_robot(robot_server.url("/open-apis/bot/v2/hook/abcd"), platform="feishu")
    event()
    assert deliver_pending().sent == 1
    assert "sign" not in robot_server.received[0].body


def test_feishu_error_code_is_a_failure(org, robot_server):
    robot_server.default = (200, {"code": 19021, "msg": "sign match fail", "data": {}})
    make_robot(robot_server.url("/open-apis/bot/v2/hook/abcd"), platform="feishu", secret="x")
    [message] = event()
    assert deliver_pending().failed == 1
    message = row(message.pk)
    assert message.status == OutboxStatus.FAILED
    assert "19021" in message.last_error and "sign match fail" in message.last_error


def test_wecom_text_with_the_key_in_the_url(org, robot_server):
    make_robot(robot_server.url("/cgi-bin/webhook/send?key=wk-1"), platform="wecom")
    [message] = event()

    assert deliver_pending().sent == 1

    [got] = robot_server.received
    assert got.path == "/cgi-bin/webhook/send"
    assert got.query == {"key": ["wk-1"]}
    assert got.body == {
        "msgtype": "text",
        "text": {"content": "补卡申请已通过\n2026-11-26 上班卡 已补"},
    }
    assert row(message.pk).status == OutboxStatus.SENT


def test_wecom_content_is_clipped_to_2048_bytes(org, robot_server):
    make_robot(robot_server.url("/cgi-bin/webhook/send?key=wk-1"), platform="wecom")
    event(body="考勤" * 2000)
    deliver_pending()
    content = robot_server.received[0].body["text"]["content"]
    assert len(content.encode()) <= 2048
    assert content.endswith("…")


def test_error_body_is_a_failure(org, robot_server):
    robot_server.default = (200, {"errcode": 310000, "errmsg": "keywords not in content"})
    make_robot(robot_server.url())
    [message] = event()

    assert deliver_pending().failed == 1

    message = row(message.pk)
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert "310000" in message.last_error


def test_not_json_is_a_failure(org, robot_server):
    robot_server.default = (200, b"<html>gateway</html>")
    make_robot(robot_server.url())
    [message] = event()
    deliver_pending()
    assert row(message.pk).status == OutboxStatus.FAILED
    assert "not a JSON answer" in row(message.pk).last_error


def test_retry_after_a_500_then_success(org, robot_server):
    robot_server.answer((500, {"error": "busy"}))  # then the default: ok
    make_robot(robot_server.url())
    [message] = event()
    now = timezone.now()

    assert deliver_pending(now=now).failed == 1
    message = row(message.pk)
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert message.last_error.startswith("HTTP 500")
    assert message.next_attempt_at == now + timedelta(minutes=1)

    # not due yet: nothing happens
    assert deliver_pending(now=now + timedelta(seconds=30)).as_dict()["sent"] == 0
    assert len(robot_server.received) == 1

    assert deliver_pending(now=now + timedelta(minutes=1)).sent == 1
    message = row(message.pk)
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 2, "")
    assert len(robot_server.received) == 2
    assert robot_server.received[0].body == robot_server.received[1].body


def test_dead_after_max_attempts_with_exponential_backoff(org, down_url):
    make_robot(down_url)
    [message] = event()
    now = timezone.now()
    waits = []

    for _attempt in range(MAX_ATTEMPTS):
        deliver_pending(now=now)
        message = row(message.pk)
        if message.status == OutboxStatus.DEAD:
            break
        waits.append(message.next_attempt_at - now)
        assert deliver_pending(now=message.next_attempt_at - timedelta(seconds=1)).failed == 0
        now = message.next_attempt_at

    assert waits == [timedelta(minutes=2**i) for i in range(MAX_ATTEMPTS - 1)]  # 1, 2, 4 … 64
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, MAX_ATTEMPTS)
    assert message.last_error.startswith("unreachable")
    assert "gone" not in message.last_error  # never the address: it holds the robot's key
    # a dead row stays dead
    assert deliver_pending(now=now + timedelta(days=1)).as_dict() == {
        "sent": 0,
        "failed": 0,
        "dead": 0,
        "deferred": 0,
    }


def test_a_failing_channel_never_blocks_the_others(org, robot_server, down_url, mailoutbox):
    org.employee.email = "zhang@example.com"
    org.employee.save()
    down = make_robot(down_url, platform="wecom")
    up = make_robot(robot_server.url(), platform="dingtalk")
    event(org.employee.user)
    event(org.employee.user)

    stats = deliver_pending()

    # one try at the robot that is down, its second message waits for the same retry time
    assert stats.as_dict() == {"sent": 4, "failed": 1, "dead": 0, "deferred": 1}
    assert len(mailoutbox) == 2
    assert len(robot_server.received) == 2
    waiting = OutboxMessage.objects.filter(target=str(down.pk)).order_by("id")
    assert [(m.status, m.attempts) for m in waiting] == [
        (OutboxStatus.FAILED, 1),
        (OutboxStatus.PENDING, 0),
    ]
    assert waiting[0].next_attempt_at == waiting[1].next_attempt_at
    assert set(
        OutboxMessage.objects.filter(target__in=[str(up.pk), "zhang@example.com"]).values_list(
            "status", flat=True
        )
    ) == {OutboxStatus.SENT}


def test_a_removed_or_switched_off_robot_gives_up_at_once(org, robot_server):
    robot = make_robot(robot_server.url())
    [first] = event()
    robot.active = False
    robot.save()
    deliver_pending()
    assert (row(first.pk).status, row(first.pk).last_error) == (
        OutboxStatus.DEAD,
        "the group robot is switched off",
    )

    robot.active = True
    robot.save()
    [*_, second] = event()
    robot.delete()
    deliver_pending()
    assert row(second.pk).status == OutboxStatus.DEAD
    assert robot_server.received == []


def test_a_row_claimed_by_another_worker_is_left_alone(org, robot_server):
    make_robot(robot_server.url())
    [message] = event()
    now = timezone.now()
    claimed = delivery._claim(message.pk, now)  # another worker is sending it

    assert claimed is not None
    assert deliver_pending(now=now).sent == 0
    assert robot_server.received == []
    # a worker that died leaves it due again once the lease is over
    assert deliver_pending(now=now + delivery.CLAIM_LEASE).sent == 1


def test_only_the_given_ids(org, robot_server):
    make_robot(robot_server.url())
    [first] = event()
    [_, second] = event()
    assert deliver_pending(ids=[second.pk]).sent == 1
    assert row(first.pk).status == OutboxStatus.PENDING


def test_the_periodic_task_retries_due_rows(org, robot_server):
    from ztk.notifications.tasks import deliver_due

    robot_server.answer((500, b"oops"))
    make_robot(robot_server.url())
    [message] = event()
    deliver_pending()
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    deliver_due.call_local()

    assert row(message.pk).status == OutboxStatus.SENT


def test_ok_answer_constants_match_the_platforms():
    # the fixtures' success bodies are the platforms' documented ones
    delivery.check_robot_response("dingtalk", b'{"errcode":0,"errmsg":"ok"}')
    delivery.check_robot_response("wecom", b'{"errcode":0,"errmsg":"ok"}')
    delivery.check_robot_response("feishu", b'{"code":0,"msg":"success","data":{}}')
    assert OK[1]["errcode"] == 0 and FEISHU_OK[1]["code"] == 0
    with pytest.raises(delivery.DeliveryError):
        delivery.check_robot_response("dingtalk", b'{"errcode":130101,"errmsg":"send too fast"}')
    with pytest.raises(delivery.DeliveryError):
        delivery.check_robot_response("feishu", b'{"errcode":0}')  # not Feishu's field


def test_channel_choices_cover_the_platforms():
    assert set(Channel.values) == {"email", "dingtalk", "wecom", "feishu"} | {
        "ding_app", "wecom_app", "feishu_app"  # a person's messages through the work apps
    }  # fmt: skip
