"""Channels to a person (docs/reminders.md "Channels").

Every message is in the person's inbox. Beyond it, each *message kind* (a punch reminder,
an approval to decide, a decision, …) reaches the person over the channels their
attendance group chose for it (``ReminderSettings.channels``): e-mail and Web Push here,
the work apps' personal messages when their app registers them. A channel is one
`PersonChannel` in the registry below — what it is called, whether it is on by default,
where a person can be reached (`targets`), the payload of one outbox row (`payload`) and
how a run sends rows (`sender`). ``services.notify`` asks `person_outbox` for the rows;
``delivery.deliver_pending`` asks `sender_for` to send them, through the outbox core
(retries, back-off, the delivery log).

Group robots are not person channels: they post one message per event to a group chat
(``RobotWebhook``) and keep their own choice of events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ztk.org.models import Employee

from .models import (
    MessageLanguage,
    Notification,
    NotificationKind,
    OutboxMessage,
    Platform,
)


class MessageKind(models.TextChoices):
    """The kinds of message a group chooses channels for (several notification kinds
    share one: an approval step to decide is "approval requested" whether it was just
    submitted, delegated, escalated or overdue)."""

    PUNCH_REMINDER = "punch_reminder", _("Punch reminder")
    MISSED_PUNCH = "missed_punch", _("Missed-punch alert")
    CUTOFF_REMINDER = "cutoff_reminder", _("Correction cut-off reminder")
    APPROVAL_DIGEST = "approval_digest", _("Approver digest")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    DECISION_MADE = "decision_made", _("Decision made")
    OTHER = "other", _("Other messages")


_MESSAGE_KIND_OF: dict[str, str] = {
    NotificationKind.PUNCH_REMINDER: MessageKind.PUNCH_REMINDER,
    NotificationKind.MISSED_PUNCH: MessageKind.MISSED_PUNCH,
    NotificationKind.CUTOFF_REMINDER: MessageKind.CUTOFF_REMINDER,
    NotificationKind.APPROVAL_DIGEST: MessageKind.APPROVAL_DIGEST,
    NotificationKind.CORRECTION_SUBMITTED: MessageKind.APPROVAL_REQUESTED,
    NotificationKind.CORRECTION_DELEGATION: MessageKind.APPROVAL_REQUESTED,
    NotificationKind.ABSENCE_SUBMITTED: MessageKind.APPROVAL_REQUESTED,
    NotificationKind.OVERTIME_SUBMITTED: MessageKind.APPROVAL_REQUESTED,
    NotificationKind.APPROVAL_OVERDUE: MessageKind.APPROVAL_REQUESTED,
    NotificationKind.APPROVAL_ESCALATED: MessageKind.APPROVAL_REQUESTED,
    NotificationKind.CORRECTION_APPROVED: MessageKind.DECISION_MADE,
    NotificationKind.CORRECTION_REJECTED: MessageKind.DECISION_MADE,
}


def message_kind(kind: str) -> str:
    """The message kind a notification kind belongs to (``other`` for the rest)."""
    return str(_MESSAGE_KIND_OF.get(kind, MessageKind.OTHER))


@dataclass(frozen=True)
class Target:
    """Where a channel reaches a person (an address, a subscription id, a work-app user
    id) and the language to write to it in ("" = the person's)."""

    value: str
    language: str = ""


@dataclass(frozen=True)
class Outgoing:
    """One message for one target, in the target's language (the payload's input)."""

    kind: str
    notification: Notification
    title: str
    body: str
    url: str  # the notification's link, a path ("" when none)
    approve_url: str  # the one-tap approve page's path, for approval requests ("" else)
    language: str


class ChannelSender(Protocol):
    def send(self, row: OutboxMessage) -> None:
        """Deliver one row; raise ``core.webhooks.DeliveryError`` on failure."""

    def close(self) -> None:
        """The run is over (close connections)."""


def _by_channel_and_target(row: OutboxMessage) -> Any:
    return (row.channel, row.target)


@dataclass(frozen=True)
class PersonChannel:
    code: str  # OutboxMessage.channel
    label: Any
    default: bool  # used by a message kind unless the group switched it off
    targets: Callable[[list[Any]], Mapping[int, list[Target]]]  # users → user id → targets
    payload: Callable[[Outgoing], dict[str, Any]]
    sender: Callable[[], ChannelSender]
    # Rows with the same key share a failing receiver (the run defers the others).
    target_key: Callable[[OutboxMessage], Any] = _by_channel_and_target
    help: Any = ""


_CHANNELS: dict[str, PersonChannel] = {}


def register(channel: PersonChannel) -> None:
    """Add (or replace) a channel to a person; apps call this in AppConfig.ready. Its code
    names its outbox rows, so it may not be a group robot's platform code (robot rows are
    ``dingtalk``/``wecom``/``feishu``): a work app's personal messages need their own."""
    if channel.code in Platform.values:
        raise ValueError(f"{channel.code!r} is a group robot's channel code")
    _CHANNELS[channel.code] = channel


def person_channels() -> list[PersonChannel]:
    return list(_CHANNELS.values())


def channel_of(code: str) -> PersonChannel | None:
    return _CHANNELS.get(code)


# --- the per-group choice -------------------------------------------------------------------


def uses(choices: Mapping[str, Any] | None, kind: str, channel: PersonChannel) -> bool:
    """Whether `channel` carries message kind `kind` under a group's `choices`."""
    chosen = (choices or {}).get(kind)
    if isinstance(chosen, dict) and isinstance(chosen.get(channel.code), bool):
        return bool(chosen[channel.code])
    return channel.default


def channel_matrix(choices: Mapping[str, Any] | None) -> dict[str, dict[str, bool]]:
    """Every message kind × every registered channel, on or off (defaults filled in)."""
    return {
        kind: {c.code: uses(choices, kind, c) for c in person_channels()}
        for kind in MessageKind.values
    }


def clean_matrix(value: Any) -> dict[str, dict[str, bool]] | None:
    """A submitted matrix with only known kinds and channels and booleans, or None when
    it is not a ``{kind: {channel: bool}}`` mapping or names something unknown."""
    if not isinstance(value, dict):
        return None
    codes = {c.code for c in person_channels()}
    out: dict[str, dict[str, bool]] = {}
    for kind, row in value.items():
        if kind not in MessageKind.values or not isinstance(row, dict):
            return None
        for code, on in row.items():
            if code not in codes or not isinstance(on, bool):
                return None
        out[kind] = {code: row[code] for code in sorted(row)}
    return out


# --- building the rows ----------------------------------------------------------------------


def person_languages(user_ids: Iterable[int], fallback: str) -> dict[int, str]:
    """Each person's language for messages outside the site (`fallback` without one)."""
    ids = list(user_ids)
    known = dict(MessageLanguage.objects.filter(user_id__in=ids).values_list("user_id", "language"))
    languages = {code for code, _name in settings.LANGUAGES}
    return {pk: known[pk] if known.get(pk) in languages else fallback for pk in ids}


def _group_choices(user_ids: list[int]) -> dict[int, Mapping[str, Any]]:
    """Each person's group's channel choices (one query; {} for people without a group
    or whose group has no saved settings)."""
    rows = Employee.objects.filter(
        user_id__in=user_ids, attendance_group__reminder_settings__isnull=False
    ).values_list("user_id", "attendance_group__reminder_settings__channels")
    found = dict(rows)
    return {pk: found.get(pk) or {} for pk in user_ids}


def person_outbox(
    *,
    kind: str,
    notifications: list[Notification],
    users: list[Any],
    texts: Mapping[str, Mapping[str, str]],
    url: str,
    approve_url: str,
    now: datetime,
    fallback_language: str,
    skip: Iterable[str] = (),
) -> list[OutboxMessage]:
    """The outbox rows (unsaved) that carry `notifications` to their recipients over the
    channels their groups chose for `kind`: a fixed number of queries for any number of
    recipients (one for the groups' choices, one for languages, one per channel for targets)."""
    channels = [c for c in person_channels() if c.code not in set(skip)]
    if not channels or not notifications:
        return []
    wanted = message_kind(kind)
    user_ids = [u.pk for u in users]
    choices = _group_choices(user_ids)
    languages = person_languages(user_ids, fallback_language)
    rows: list[OutboxMessage] = []
    for channel in channels:
        users_on = [u for u in users if uses(choices.get(u.pk), wanted, channel)]
        if not users_on:
            continue
        targets = channel.targets(users_on)
        for notification in notifications:
            for target in targets.get(notification.recipient_id, []):
                language = target.language or languages.get(
                    notification.recipient_id, fallback_language
                )
                text = texts.get(language) or texts.get(fallback_language) or {}
                with translation.override(language):
                    payload = channel.payload(
                        Outgoing(
                            kind=kind,
                            notification=notification,
                            title=str(text.get("title", notification.title)),
                            body=str(text.get("body", notification.body)),
                            url=url,
                            approve_url=approve_url,
                            language=language,
                        )
                    )
                rows.append(
                    OutboxMessage(
                        channel=channel.code,
                        target=target.value,
                        payload=payload,
                        notification=notification,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    return rows
