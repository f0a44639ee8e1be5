"""The work apps as channels to a person (``notifications.channels``): where a person is
reached on each platform, what one outbox row holds, and sending one.

Each platform's personal messages are one `PersonChannel` (``ding_app`` / ``wecom_app`` /
``feishu_app``), so an attendance group chooses them per message kind like e-mail and Web
Push (`ReminderSettings.channels`), and ``notify`` builds their rows with the others: a
recipient gets one when they have a user id on a platform whose app is switched on (one
query per platform, whatever the number of recipients). Retries, dead rows and the delivery
log are the outbox core's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.core.webhooks import DeliveryError

from ..channels import Outgoing, PersonChannel, Target, register
from ..models import Channel, OutboxMessage, Platform
from . import api
from .cards import card_ref, handle_of, labels, message_body, settled_body, via_of
from .config import CHANNEL_OF, PLATFORM_OF
from .models import SentCard, WorkApp, WorkAppUser

CHANNELS = frozenset(CHANNEL_OF.values())
UPDATE_KIND = "workapp_card_update"  # an outbox row that updates a sent card


def _targets(platform: str):
    def targets(users: list[Any]) -> Mapping[int, list[Target]]:
        """The people's user ids on `platform`, when its app is switched on (an app is
        switched on only once configured: ``services.work_app_save``)."""
        rows = WorkAppUser.objects.filter(
            platform=platform,
            platform__in=WorkApp.objects.filter(active=True).values("platform"),
            user_id__in=[u.pk for u in users],
        ).values_list("user_id", "platform_user_id")
        found: dict[int, list[Target]] = {}
        for user_id, platform_user_id in rows:
            found.setdefault(user_id, []).append(Target(platform_user_id))
        return found

    return targets


def _payload(message: Outgoing) -> dict[str, Any]:
    """Title, body, the plain text and, for a request to decide, the card's reference and
    its button labels in the person's language."""
    from ..services import message_text, site_url  # cycle: services → channels → us

    payload: dict[str, Any] = {
        "kind": message.kind,
        "title": message.title,
        "body": message.body,
        "text": message_text(title=message.title, body=message.body, url=message.url),
    }
    if message.url:
        payload["url"] = site_url(message.url)  # absolute when SITE_URL is set
    ref = card_ref(message.kind, message.notification.data)
    if ref:
        payload.update(ref=ref, labels=labels(message.language))
    return payload


class _Sender:
    """One outbox run's sender: each platform's app read once."""

    def __init__(self) -> None:
        self.apps: dict[str, WorkApp | None] = {}

    def send(self, row: OutboxMessage) -> None:
        send_row(row, self.apps)

    def close(self) -> None:
        pass


def target_key(row: OutboxMessage) -> tuple[str, str]:
    """All rows of one platform share its app: a failing app defers its other rows."""
    return (row.channel, "")


def send_row(row: OutboxMessage, apps: dict[str, WorkApp | None]) -> dict[str, Any] | None:
    platform = PLATFORM_OF[row.channel]
    if platform not in apps:
        apps[platform] = WorkApp.objects.filter(platform=platform).first()
    app = apps[platform]
    if app is None or not app.configured:
        raise DeliveryError(f"the {platform} app is not configured", permanent=True)
    if not app.active:
        raise DeliveryError(f"the {platform} app is switched off", permanent=True)
    payload = row.payload or {}
    if payload.get("kind") == UPDATE_KIND:
        _update(app, row, payload)
        return None
    message = message_body(
        platform,
        payload,
        user_id=row.target,
        track_id=f"ztk-{row.pk}",
        template_id=app.card_template_id,
        app_key=app.app_key,
    )
    answer = api.send(app, row.target, message)
    via = via_of(platform, message) if payload.get("ref") else ""
    if via:
        # Remembered so the card can show the decision later (services.cards_settled).
        SentCard.objects.update_or_create(
            outbox=row,
            defaults={"platform": platform, "ref": payload["ref"], "via": via,
                      "platform_user_id": row.target, "handle": handle_of(via, message, answer),
                      "sent_at": timezone.now()},
        )  # fmt: skip
    return None


def _update(app: WorkApp, row: OutboxMessage, payload: dict[str, Any]) -> None:
    """One card update queued by ``services.cards_settled``."""
    card_id = payload.get("card")
    card = (
        SentCard.objects.filter(pk=card_id).select_related("outbox").first()
        if isinstance(card_id, int)
        else None
    )
    if card is None or not card.handle:
        raise DeliveryError("the sent card is unknown", permanent=True, target_down=False)
    sent = (card.outbox.payload if card.outbox is not None else None) or {}
    update = settled_body(card.via, sent, payload.get("text", ""), payload.get("short", ""))
    api.update_card(app, card.via, card.handle, card.platform_user_id, update)


_LABELS: dict[str, Any] = {
    Platform.DINGTALK: Channel.DINGTALK_APP.label,
    Platform.WECOM: Channel.WECOM_APP.label,
    Platform.FEISHU: Channel.FEISHU_APP.label,
}
for _platform, _code in CHANNEL_OF.items():
    register(
        PersonChannel(
            code=_code,
            label=_LABELS[_platform],
            default=True,
            targets=_targets(_platform),
            payload=_payload,
            sender=_Sender,
            target_key=target_key,
            help=_("Only for people with a user id on the company's app, when it is switched on."),
        )
    )
