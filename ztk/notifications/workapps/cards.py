"""Approval cards: the message an approver gets when a request waits for them, with
Approve, Reject (with a reason) and Open, in each platform's card format.

A card carries a reference to the request (``"correction:<id>"``) in its buttons; the
callback (callbacks.py) reads it back, and the decision goes through the request type's
own service with the same permission checks as the pages. Which notification kinds get a
card, and where their request id is in the notification's data: `ACTIONABLE`.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from ..models import Platform
from .models import CardVia

# kind → (reference prefix, key of the request id in Notification.data)
ACTIONABLE: dict[str, tuple[str, str]] = {
    "correction_submitted": ("correction", "correction_id"),
    "absence_submitted": ("absence", "absence_id"),
    "overtime_submitted": ("overtime", "overtime_id"),
}
# The request model behind each reference prefix (``app_label.model``), so the approval
# machinery names a request's cards without knowing the request types (`ref_of`).
MODELS: dict[str, str] = {
    "corrections.correctionrequest": "correction",
    "leave.absencerequest": "absence",
    "overtime.overtimerequest": "overtime",
}
APPROVE, REJECT = "approve", "reject"


def card_ref(kind: str, data: dict[str, Any] | None) -> str:
    """``"correction:12"`` when a notification of `kind` with `data` gets a card, else ""."""
    spec = ACTIONABLE.get(kind)
    if spec is None:
        return ""
    value = (data or {}).get(spec[1])
    return f"{spec[0]}:{int(value)}" if isinstance(value, int) and value > 0 else ""


def ref_of(request: Any) -> str:
    """``"absence:7"`` for a request model instance with cards, else ""."""
    prefix = MODELS.get(request._meta.label_lower)
    return f"{prefix}:{int(request.pk)}" if prefix and request.pk else ""


def parse_ref(value: Any) -> tuple[str, int] | None:
    """("correction", 12) from ``"correction:12"``; None for anything else."""
    if not isinstance(value, str) or ":" not in value or len(value) > 60:
        return None
    prefix, _sep, number = value.partition(":")
    known = {spec[0] for spec in ACTIONABLE.values()}
    if prefix not in known or not number.isdigit() or len(number) > 12:
        return None
    return prefix, int(number)


def labels(language: str) -> dict[str, str]:
    """The buttons' texts in the company's language (stored with the outbox row)."""
    with translation.override(language):
        return {
            "approve": _("Approve"),
            "reject": _("Reject"),
            "open": _("Open"),
            "reason": _("Reason for rejecting"),
            "pending": _("Waiting for approval"),
        }


def _button_key(action: str, ref: str) -> str:
    # WeCom keys: at most 1024 bytes; only letters, digits and _-@.: are safe.
    return f"ztk:{action}:{ref}"


def parse_button_key(key: Any) -> tuple[str, str] | None:
    """(action, ref) from a WeCom button key ``ztk:approve:correction:12``."""
    if not isinstance(key, str) or not key.startswith("ztk:"):
        return None
    _ztk, action, ref = key.split(":", 2) if key.count(":") >= 3 else ("", "", "")
    if action not in (APPROVE, REJECT) or parse_ref(ref) is None:
        return None
    return action, ref


def message_body(
    platform: str,
    payload: dict[str, Any],
    *,
    user_id: str,
    track_id: str,
    template_id: str = "",
    app_key: str = "",
) -> dict[str, Any]:
    """The platform's message body for an outbox payload (text, or card when it has a ref)."""
    title, body, text = payload.get("title", ""), payload.get("body", ""), payload.get("text", "")
    url, ref, names = payload.get("url", ""), payload.get("ref", ""), payload.get("labels") or {}
    if platform == Platform.DINGTALK:
        if ref and template_id:
            return {"card_v1": {
                "cardTemplateId": template_id,
                "outTrackId": track_id,
                "robotCode": app_key,
                "conversationType": 0,
                "receiverUserIdList": [user_id],
                "callbackRouteKey": "ztk",
                "cardData": {"cardParamMap": {
                    "title": title, "body": body, "url": url, "ref": ref,
                    "approve": names.get("approve", ""), "reject": names.get("reject", ""),
                    "open": names.get("open", ""), "reason": names.get("reason", ""),
                    # "" while it waits; the decided state later (`settled_body`): the
                    # template shows it and hides the buttons when it is set.
                    "status": "",
                }},
            }}  # fmt: skip
        if ref and url.startswith("http"):
            # 工作通知 OA message: its status bar is what the platform lets us change later
            # (``status_bar/update`` with the send's task_id), so it says when it is decided.
            return {"msgtype": "oa", "oa": {
                "message_url": url, "pc_message_url": url,
                "head": {"bgcolor": "FF3296FA", "text": title[:10]},
                "body": {"title": title, "content": body},
                "status_bar": {"status_value": names.get("pending", ""), "status_bg": PENDING_BG},
            }}  # fmt: skip
        if url.startswith("http"):
            # 工作通知 action_card: the text and one button that opens the page (login needed).
            return {"msgtype": "action_card", "action_card": {
                "title": title, "markdown": f"**{title}**\n\n{body}",
                "single_title": names.get("open") or "Open", "single_url": url,
            }}  # fmt: skip
        return {"msgtype": "text", "text": {"content": text}}
    if platform == Platform.WECOM:
        if ref:
            card: dict[str, Any] = {
                "card_type": "button_interaction",
                "main_title": {"title": title[:36], "desc": ""},
                "sub_title_text": body[:300],
                "task_id": track_id,
                "button_list": [
                    {"text": names.get("approve", "Approve"), "style": 1,
                     "key": _button_key(APPROVE, ref)},
                ],
            }  # fmt: skip
            if url.startswith("http"):
                card["card_action"] = {"type": 1, "url": url}
                # A reason cannot be typed on a WeCom button card: Reject opens the page.
                card["button_list"].append(
                    {"text": names.get("reject", "Reject"), "style": 2, "type": 1, "url": url}
                )
            return {"msgtype": "template_card", "template_card": card}
        return {"msgtype": "text", "text": {"content": text[:2000]}}
    if ref:
        return {"msg_type": "interactive", "content": json.dumps(
            _feishu_card(title, body, url, ref, names), ensure_ascii=False)}  # fmt: skip
    return {"msg_type": "text", "content": json.dumps({"text": text}, ensure_ascii=False)}


# DingTalk status bar colours: ARGB hex, as in the status_bar/update documentation.
PENDING_BG = "0xFFF65E5E"
SETTLED_BG = "0xFF78C06E"


def via_of(platform: str, message: dict[str, Any]) -> str:
    """How a sent message is updated later ("" for a message without buttons)."""
    if platform == Platform.DINGTALK:
        if message.get("card_v1"):
            return CardVia.DINGTALK_CARD
        return CardVia.DINGTALK_OA if message.get("msgtype") == "oa" else ""
    if platform == Platform.WECOM:
        return CardVia.WECOM if message.get("msgtype") == "template_card" else ""
    return CardVia.FEISHU if message.get("msg_type") == "interactive" else ""


def handle_of(via: str, message: dict[str, Any], answer: dict[str, Any]) -> str:
    """What updating the card needs, from the send and the platform's answer to it."""
    if via == CardVia.DINGTALK_CARD:
        return str(message["card_v1"]["outTrackId"])
    if via == CardVia.DINGTALK_OA:
        return str(answer.get("task_id") or "")
    if via == CardVia.WECOM:
        return str(answer.get("response_code") or "")
    return str((answer.get("data") or {}).get("message_id") or "")


def settled_body(via: str, payload: dict[str, Any], text: str, short: str) -> dict[str, Any]:
    """The update that shows a card decided: `text` ("Approved by 李四 at 12-05 10:02"),
    `short` for a platform that only relabels the button (WeCom); `payload` is the sent
    card's outbox payload (title and body for a platform that replaces the whole card)."""
    if via == CardVia.DINGTALK_CARD:
        return {"cardData": {"cardParamMap": {"status": text}},
                "cardOptions": {"updateCardDataByKey": True}}  # fmt: skip
    if via == CardVia.DINGTALK_OA:
        return {"status_value": text[:30], "status_bg": SETTLED_BG}
    if via == CardVia.WECOM:
        return {"button": {"replace_name": short}}
    title, body, url = payload.get("title", ""), payload.get("body", ""), payload.get("url", "")
    names = payload.get("labels") or {}
    elements: list[dict[str, Any]] = [
        {"tag": "div", "text": {"tag": "plain_text", "content": body}},
        {"tag": "div", "text": {"tag": "lark_md", "content": f"**{text}**"}},
    ]
    if url.startswith("http"):
        elements.append({"tag": "action", "actions": [
            {"tag": "button", "type": "default", "url": url,
             "text": {"tag": "plain_text", "content": names.get("open", "Open")}},
        ]})  # fmt: skip
    card = {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": "grey"},
        "elements": elements,
    }
    return {"content": json.dumps(card, ensure_ascii=False)}


def _feishu_card(title: str, body: str, url: str, ref: str, names: dict[str, str]) -> dict:
    """A Feishu card: the text, a reason box, Approve / Reject (form submit) and Open."""
    buttons: list[dict[str, Any]] = [
        {"tag": "button", "name": APPROVE, "type": "primary", "action_type": "form_submit",
         "text": {"tag": "plain_text", "content": names.get("approve", "Approve")},
         "value": {"ztk": APPROVE, "ref": ref}},
        {"tag": "button", "name": REJECT, "type": "danger", "action_type": "form_submit",
         "text": {"tag": "plain_text", "content": names.get("reject", "Reject")},
         "value": {"ztk": REJECT, "ref": ref}},
    ]  # fmt: skip
    elements: list[dict[str, Any]] = [
        {"tag": "div", "text": {"tag": "plain_text", "content": body}},
        {"tag": "form", "name": "decision", "elements": [
            {"tag": "input", "name": "reason",
             "placeholder": {"tag": "plain_text", "content": names.get("reason", "")}},
            *buttons,
        ]},
    ]  # fmt: skip
    if url.startswith("http"):
        elements.append({"tag": "action", "actions": [
            {"tag": "button", "type": "default", "url": url,
             "text": {"tag": "plain_text", "content": names.get("open", "Open")}},
        ]})  # fmt: skip
    return {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
        "elements": elements,
    }
