"""Approval cards' callbacks: signed and encrypted here the way each platform's public
documentation says (independently of the code under test), posted to
/workapps/<platform>/callback, decided through the corrections service.

Refused with 403 and logged: a wrong signature, a replayed nonce, an expired timestamp, a
body for another corp. Refused, answered and audited: an unlinked platform user, a user
who is not the step's approver. The request is unchanged each time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import time
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztk.audit.models import AuditEvent
from ztk.corrections.models import Status
from ztk.notifications.models import OutboxMessage
from ztk.notifications.workapps.models import CallbackNonce, MatchBy, WorkAppUser

from ..corrections.conftest import MON, item, only_checkout, submit
from .workapp_fakes import AES_KEY, make_app

pytestmark = pytest.mark.django_db

TOKEN = "cbtoken42"
FEISHU_KEY = "feishu-encrypt-key"
FEISHU_TOKEN = "feishu-verification-token"


# --- the platforms' side, from their docs ----------------------------------------------


def _cbc(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def wx_encrypt(message: bytes, receiver: str, key_text: str = AES_KEY) -> str:
    key = base64.b64decode(key_text + "=")
    plain = os.urandom(16) + struct.pack(">I", len(message)) + message + receiver.encode()
    pad = 32 - len(plain) % 32
    return base64.b64encode(_cbc(key, key[:16], plain + bytes([pad]) * pad, True)).decode()


def wx_decrypt(encrypt: str, key_text: str = AES_KEY) -> tuple[bytes, bytes]:
    key = base64.b64decode(key_text + "=")
    plain = _cbc(key, key[:16], base64.b64decode(encrypt), False)
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[20 : 20 + length], plain[20 + length :]


def sha1_sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wecom_post(client, inner: str, *, ts=None, nonce=None, corp="wwcorp1", token=TOKEN):
    ts = str(int(time.time())) if ts is None else ts
    nonce = nonce or os.urandom(6).hex()
    encrypt = wx_encrypt(inner.encode(), corp)
    body = f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><AgentID>1000002</AgentID>" \
           f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"  # fmt: skip
    query = f"msg_signature={sha1_sign(token, ts, nonce, encrypt)}&timestamp={ts}&nonce={nonce}"
    return client.post(
        f"/workapps/wecom/callback?{query}", data=body, content_type="application/xml"
    )


def wecom_card_event(user: str, key: str) -> str:
    return (
        "<xml><ToUserName><![CDATA[wwcorp1]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[ztk-1]]></TaskId>"
        "<CardType><![CDATA[button_interaction]]></CardType><AgentID>1000002</AgentID></xml>"
    )


def lark_post(client, event: dict, *, ts=None, nonce=None, key=FEISHU_KEY, sign=True):
    iv = os.urandom(16)
    aes = hashlib.sha256(key.encode()).digest()
    plain = json.dumps(event).encode()
    pad = 16 - len(plain) % 16
    encrypt = base64.b64encode(iv + _cbc(aes, iv, plain + bytes([pad]) * pad, True)).decode()
    body = json.dumps({"encrypt": encrypt}).encode()
    headers = {}
    if sign:
        ts = str(int(time.time())) if ts is None else ts
        nonce = nonce or os.urandom(6).hex()
        signature = hashlib.sha256((ts + nonce + key).encode() + body).hexdigest()
        headers = {"HTTP_X_LARK_REQUEST_TIMESTAMP": ts, "HTTP_X_LARK_REQUEST_NONCE": nonce,
                   "HTTP_X_LARK_SIGNATURE": signature}  # fmt: skip
    return client.post("/workapps/feishu/callback", data=body, content_type="application/json",
                       **headers)  # fmt: skip


def lark_card_action(user: str, what: str, ref: str, reason: str = "", token=FEISHU_TOKEN):
    return {
        "schema": "2.0",
        "header": {"event_id": os.urandom(8).hex(), "token": token,
                   "event_type": "card.action.trigger", "app_id": "cli_app1"},
        "event": {"operator": {"user_id": user, "open_id": "ou_x"},
                  "action": {"tag": "button", "value": {"ztk": what, "ref": ref},
                             "form_value": {"reason": reason}}},
    }  # fmt: skip


def ding_post(client, event: dict, *, ts=None, nonce=None, receiver="dingkey1"):
    ts = str(int(time.time() * 1000)) if ts is None else ts
    nonce = nonce or os.urandom(6).hex()
    encrypt = wx_encrypt(json.dumps(event).encode(), receiver)
    query = f"signature={sha1_sign(TOKEN, ts, nonce, encrypt)}&timestamp={ts}&nonce={nonce}"
    body = json.dumps({"encrypt": encrypt})
    return client.post(
        f"/workapps/dingtalk/callback?{query}", data=body, content_type="application/json"
    )


# --- the world ---------------------------------------------------------------------------


@pytest.fixture
def pending(week):
    """张三's request waiting for his supervisor; every platform configured with callbacks;
    the supervisor and a colleague linked on each."""
    org = week
    make_app("wecom", callback_token=TOKEN, aes_key=AES_KEY)
    make_app("dingtalk", callback_token=TOKEN, aes_key=AES_KEY)
    make_app("feishu", callback_token=FEISHU_TOKEN, aes_key=FEISHU_KEY)
    for platform in ("wecom", "dingtalk", "feishu"):
        people = (
            (org.supervisor, "u-manager"),
            (org.colleague, "u-colleague"),
            (org.head, "u-head"),
        )
        for who, pid in people:
            WorkAppUser.objects.create(platform=platform, user=who.user, platform_user_id=pid,
                                       matched_by=MatchBy.IMPORT)  # fmt: skip
    only_checkout(org.employee, MON)
    (req,) = submit(org.employee.user, org.employee, item())
    assert req.status == Status.PENDING and req.current_step == 1
    return org, req


def logged(caplog, code: str) -> bool:
    return any(code in r.getMessage() for r in caplog.records if r.name == "ztk.web.workapps")


def refused(code: str) -> list[AuditEvent]:
    return [
        e for e in AuditEvent.objects.filter(action="notifications.workapp.callback_refused")
        if e.changes.get("code") == code
    ]  # fmt: skip


def step_of(req) -> tuple[str, int]:
    req.refresh_from_db()
    return req.status, req.current_step


# --- WeCom -------------------------------------------------------------------------------


def test_wecom_approve_button_approves_as_the_supervisor(pending):
    org, req = pending
    client = Client()

    response = wecom_post(client, wecom_card_event("u-manager", f"ztk:approve:correction:{req.pk}"))

    assert response.status_code == 200
    assert step_of(req) != (Status.PENDING, 1)  # the supervisor's step is done
    assert req.actions.filter(action="approve", actor=org.supervisor.user).exists()
    # The passive reply, encrypted and signed as WeCom expects, tells the approver.
    reply = ET.fromstring(response.content)
    encrypt = reply.findtext("Encrypt")
    ts, nonce = reply.findtext("TimeStamp"), reply.findtext("Nonce")
    assert reply.findtext("MsgSignature") == sha1_sign(TOKEN, ts, nonce, encrypt)
    inner, receiver = wx_decrypt(encrypt)
    assert receiver == b"wwcorp1"
    assert ET.fromstring(inner).findtext("Content") == "已批准。"
    assert ET.fromstring(inner).findtext("ToUserName") == "u-manager"


def test_wecom_wrong_signature_is_refused_and_logged(pending, caplog):
    _org, req = pending
    event = wecom_card_event("u-manager", f"ztk:approve:correction:{req.pk}")

    response = wecom_post(Client(), event, token="not-the-token")

    assert response.status_code == 403
    assert step_of(req) == (Status.PENDING, 1)
    assert logged(caplog, "workapp_bad_signature")
    assert not refused("workapp_bad_signature")  # unverified: logged, never audited


def test_wecom_replayed_nonce_is_refused(pending, caplog):
    _org, req = pending
    client = Client()
    event = wecom_card_event("u-colleague", f"ztk:approve:correction:{req.pk}")
    assert wecom_post(client, event, nonce="n-once").status_code == 200

    again = wecom_post(client, wecom_card_event("u-manager", f"ztk:approve:correction:{req.pk}"),
                       nonce="n-once")  # fmt: skip

    assert again.status_code == 403
    assert step_of(req) == (Status.PENDING, 1)
    assert logged(caplog, "workapp_replayed")
    assert not refused("workapp_replayed")  # unverified: logged, never audited
    assert CallbackNonce.objects.filter(platform="wecom", nonce="n-once").count() == 1


def test_wecom_expired_timestamp_is_refused(pending, caplog):
    _org, req = pending
    old = str(int(time.time()) - 301)
    event = wecom_card_event("u-manager", f"ztk:approve:correction:{req.pk}")

    response = wecom_post(Client(), event, ts=old)

    assert response.status_code == 403
    assert step_of(req) == (Status.PENDING, 1)
    assert logged(caplog, "workapp_expired")
    assert not refused("workapp_expired")  # unverified: logged, never audited


def test_wecom_body_for_another_corp_is_refused(pending, caplog):
    _org, req = pending
    event = wecom_card_event("u-manager", f"ztk:approve:correction:{req.pk}")

    response = wecom_post(Client(), event, corp="wwsomeoneelse")

    assert response.status_code == 403
    assert step_of(req) == (Status.PENDING, 1)
    assert logged(caplog, "workapp_bad_body")
    assert not refused("workapp_bad_body")  # unverified: logged, never audited


def test_wecom_a_non_approver_is_refused_with_a_reply(pending):
    org, req = pending

    response = wecom_post(
        Client(), wecom_card_event("u-colleague", f"ztk:approve:correction:{req.pk}")
    )

    assert response.status_code == 200  # verified: WeCom is answered, the user told why
    assert step_of(req) == (Status.PENDING, 1)
    inner, _ = wx_decrypt(ET.fromstring(response.content).findtext("Encrypt"))
    assert ET.fromstring(inner).findtext("Content") == "此申请已不存在，或您无权查看。"
    [event] = AuditEvent.objects.filter(action="notifications.workapp.callback_refused")
    assert event.actor_id == org.colleague.user_id


def test_wecom_a_viewer_who_is_not_the_steps_approver_is_refused(pending):
    org, req = pending  # the department head sees the request; the supervisor decides step 1

    response = wecom_post(Client(), wecom_card_event("u-head", f"ztk:approve:correction:{req.pk}"))

    assert step_of(req) == (Status.PENDING, 1)
    inner, _ = wx_decrypt(ET.fromstring(response.content).findtext("Encrypt"))
    assert ET.fromstring(inner).findtext("Content") == "您不是此步骤的审批人。"
    [event] = AuditEvent.objects.filter(action="notifications.workapp.callback_refused")
    assert event.actor_id == org.head.user_id and event.changes["code"] == "permission_denied"


def test_wecom_an_unlinked_user_is_refused(pending):
    _org, req = pending

    wecom_post(Client(), wecom_card_event("u-nobody", f"ztk:approve:correction:{req.pk}"))

    assert step_of(req) == (Status.PENDING, 1)
    assert len(refused("workapp_unknown_user")) == 1


def test_wecom_url_check_answers_the_echostr(pending):
    ts, nonce = str(int(time.time())), "abc"
    echostr = wx_encrypt(b"1234567890", "wwcorp1")
    signature = sha1_sign(TOKEN, ts, nonce, echostr)

    response = Client().get(
        "/workapps/wecom/callback",
        {"msg_signature": signature, "timestamp": ts, "nonce": nonce, "echostr": echostr},
    )

    assert response.status_code == 200 and response.content == b"1234567890"


# --- Feishu ------------------------------------------------------------------------------


def test_feishu_reject_with_reason_rejects(pending):
    org, req = pending

    response = lark_post(
        Client(),
        lark_card_action("u-manager", "reject", f"correction:{req.pk}", "时间不对，请重提"),
    )

    assert response.status_code == 200
    assert response.json()["toast"]["type"] == "success"
    card = response.json()["card"]  # the decided card keeps no buttons
    assert card["type"] == "raw" and "button" not in json.dumps(card)
    assert card["data"]["elements"][0]["text"]["content"] == "已驳回，并已告知申请人原因。"
    req.refresh_from_db()
    assert req.status == Status.REJECTED
    assert req.actions.get(action="reject").comment == "时间不对，请重提"


def test_feishu_reject_without_reason_is_refused_with_a_toast(pending):
    _org, req = pending

    response = lark_post(Client(), lark_card_action("u-manager", "reject", f"correction:{req.pk}"))

    assert response.json()["toast"]["type"] == "error"
    assert "card" not in response.json()  # refused: the card stays as it was
    assert step_of(req) == (Status.PENDING, 1)


def test_feishu_wrong_signature_or_token_is_refused(pending):
    _org, req = pending
    event = lark_card_action("u-manager", "approve", f"correction:{req.pk}")

    wrong_key = lark_post(Client(), event, key="another-key")
    wrong_token = lark_post(Client(), lark_card_action(
        "u-manager", "approve", f"correction:{req.pk}", token="forged"))  # fmt: skip
    unsigned = lark_post(Client(), event, sign=False)

    assert [r.status_code for r in (wrong_key, wrong_token, unsigned)] == [403, 403, 403]
    assert step_of(req) == (Status.PENDING, 1)


def test_feishu_expired_and_replayed_are_refused(pending):
    _org, req = pending
    event = lark_card_action("u-colleague", "approve", f"correction:{req.pk}")
    old = str(int(time.time()) - 3600)

    assert lark_post(Client(), event, ts=old).status_code == 403
    assert lark_post(Client(), event, nonce="same").status_code == 200
    replay = lark_card_action("u-manager", "approve", f"correction:{req.pk}")
    assert lark_post(Client(), replay, nonce="same").status_code == 403
    assert step_of(req) == (Status.PENDING, 1)


def test_feishu_url_verification_answers_the_challenge(pending):
    event = {"challenge": "ch-123", "token": FEISHU_TOKEN, "type": "url_verification"}

    response = lark_post(Client(), event, sign=False)

    assert response.json() == {"challenge": "ch-123"}


# --- DingTalk ----------------------------------------------------------------------------


def _ding_success(response) -> bool:
    data = response.json()
    assert data["msg_signature"] == sha1_sign(
        TOKEN, data["timeStamp"], data["nonce"], data["encrypt"]
    )
    message, receiver = wx_decrypt(data["encrypt"])
    return message == b"success" and receiver == b"dingkey1"


def test_dingtalk_check_url_is_answered_success(pending):
    response = ding_post(Client(), {"EventType": "check_url"})

    assert response.status_code == 200 and _ding_success(response)


def test_dingtalk_card_approve(pending):
    org, req = pending
    content = {"cardPrivateData": {"actionIds": ["approve"],
                                   "params": {"ref": f"correction:{req.pk}"}}}  # fmt: skip
    event = {"outTrackId": "ztk-1", "corpId": "dingcorp1", "userId": "u-manager",
             "content": json.dumps(content)}  # fmt: skip

    response = ding_post(Client(), event)

    assert response.status_code == 200 and _ding_success(response)
    assert req.actions.filter(action="approve", actor=org.supervisor.user).exists()
    # DingTalk's answer cannot carry the outcome: it goes to the approver as a work notice.
    notice = OutboxMessage.objects.get(channel="ding_app", payload__kind="workapp_reply")
    assert notice.target == "u-manager" and notice.payload["text"] == "已批准。"


def test_dingtalk_expired_timestamp_and_wrong_receiver_are_refused(pending):
    _org, req = pending
    content = {"cardPrivateData": {"actionIds": ["approve"],
                                   "params": {"ref": f"correction:{req.pk}"}}}  # fmt: skip
    event = {"userId": "u-manager", "content": json.dumps(content)}
    old = str(int(time.time() * 1000) - 10 * 60 * 1000)

    assert ding_post(Client(), event, ts=old).status_code == 403
    assert ding_post(Client(), event, receiver="another-app").status_code == 403
    assert step_of(req) == (Status.PENDING, 1)


def test_unconfigured_platform_refuses_every_callback(db):
    assert Client().post("/workapps/wecom/callback", data="<xml/>",
                         content_type="application/xml").status_code == 403  # fmt: skip
    assert Client().post("/workapps/nowhere/callback").status_code == 404


# --- whatever arrives, never a 500 ---------------------------------------------------------


@given(
    platform=st.sampled_from(["wecom", "dingtalk", "feishu"]),
    method=st.sampled_from(["GET", "POST"]),
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: json.dumps({"encrypt": t})),
        st.text(max_size=200).map(lambda t: f"<xml><Encrypt>{t}</Encrypt></xml>"),
    ),
    query=st.dictionaries(
        st.sampled_from(["msg_signature", "signature", "timestamp", "nonce", "echostr"]),
        st.text(max_size=40),
        max_size=5,
    ),
    lark=st.dictionaries(
        st.sampled_from(
            ["HTTP_X_LARK_REQUEST_TIMESTAMP", "HTTP_X_LARK_REQUEST_NONCE", "HTTP_X_LARK_SIGNATURE"]
        ),
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
    ),  # fmt: skip
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_callback_is_answered_without_a_server_error(
    pending, platform, method, body, query, lark
):
    client = Client(raise_request_exception=False)
    if method == "GET":
        response = client.get(f"/workapps/{platform}/callback", query)
    else:
        path = f"/workapps/{platform}/callback?{urlencode(query)}"
        response = client.post(path, data=body, content_type="application/json", **lark)
    # 400: the input guard refuses control characters in the query before the view.
    assert response.status_code in (400, 403), response.status_code  # never verified
    _org, req = pending
    assert step_of(req) == (Status.PENDING, 1)
