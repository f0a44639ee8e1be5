"""The work apps as outbox channels: which rows a notification gets, and sending one.

`outbox_rows` is called by ``notifications.services.notify`` in the caller's transaction:
one row per recipient with a user id on a platform whose app is switched on (one query,
whatever the number of recipients). `send_row` is called by the outbox run
(``notifications.delivery``) for rows of the ``ding_app`` / ``wecom_app`` / ``feishu_app``
channels; retries, dead rows and the delivery log are the outbox core's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ztk.core.webhooks import DeliveryError

from ..models import Notification, OutboxMessage
from . import api
from .cards import card_ref, labels, message_body
from .config import CHANNEL_OF, PLATFORM_OF
from .models import WorkApp, WorkAppUser

CHANNELS = frozenset(CHANNEL_OF.values())


def outbox_rows(
    notifications: list[Notification],
    *,
    kind: str,
    title: str,
    body: str,
    text: str,
    url: str,
    data: dict[str, Any] | None,
    language: str,
    now: datetime,
) -> list[OutboxMessage]:
    """Unsaved outbox rows: each notification's recipient, on each app that is on."""
    if not notifications:
        return []
    by_user = {n.recipient_id: n for n in notifications}
    # One query: the recipients' ids on the platforms whose app is switched on (an app
    # is switched on only once configured: ``services.work_app_save``).
    ids = list(
        WorkAppUser.objects.filter(
            platform__in=WorkApp.objects.filter(active=True).values("platform"),
            user_id__in=list(by_user),
        ).values_list("platform", "user_id", "platform_user_id")
    )
    if not ids:
        return []
    ref = card_ref(kind, data)
    payload: dict[str, Any] = {"kind": kind, "title": title, "body": body, "text": text}
    if url:
        payload["url"] = url  # absolute when SITE_URL is set (``services.site_url``)
    if ref:
        payload.update(ref=ref, labels=labels(language))
    return [
        OutboxMessage(
            channel=CHANNEL_OF[platform],
            target=platform_user_id,
            payload=payload,
            notification=by_user[user_id],
            created_at=now,
            next_attempt_at=now,
        )
        for platform, user_id, platform_user_id in ids
    ]


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
    message = message_body(
        platform,
        row.payload or {},
        user_id=row.target,
        track_id=f"ztk-{row.pk}",
        template_id=app.card_template_id,
        app_key=app.app_key,
    )
    api.send(app, row.target, message)
    return None
