"""Writes of the notifications app. `notify` is the one door other apps use.

`notify` runs inside the caller's transaction: the inbox rows and outbox rows commit with
the change they report, and delivery is enqueued only after the commit, so a rolled-back
change never notifies anyone. Sending notifications is not itself audited (the change
that caused it is); configuration changes of the robots are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record, snapshot
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.parse import parse_ids
from ztk.core.webhooks import retry_rows, send_after_commit
from ztk.org.models import Company, Department, Employee

from . import rules
from .models import (
    Channel,
    Notification,
    NotificationKind,
    OutboxMessage,
    OutboxStatus,
    RobotWebhook,
)
from .workapps import send as workapps_send

log = logging.getLogger(__name__)
User = get_user_model()

# Stable error codes (tests and API clients import these).
ROBOT_NOT_FOUND = "robot_not_found"
ROBOT_INVALID = "robot_invalid"


# --- notify -----------------------------------------------------------------------------


def site_url(path: str) -> str:
    """An absolute link for email and robots when SITE_URL is set; else the path (or "")."""
    if not path:
        return ""
    if urlsplit(path).scheme:
        return path
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{base}{path}" if base else path


def message_text(*, title: str, body: str, url: str = "") -> str:
    """The plain text a robot posts (and an email's body)."""
    link = site_url(url)
    parts = [title.strip(), body.strip()]
    if link and urlsplit(link).scheme:
        parts.append(link)
    return "\n".join(p for p in parts if p)


def _email_addresses(users: list[Any]) -> dict[int, str]:
    """Each user's address: the employee record's email first, else the account's."""
    by_user = dict(
        Employee.objects.filter(user_id__in=[u.pk for u in users])
        .exclude(email="")
        .values_list("user_id", "email")
    )
    return {u.pk: by_user.get(u.pk) or (u.email or "") for u in users}


def robots_for(*, department: Department | None, kind: str) -> list[RobotWebhook]:
    """Active robots that hear `kind` for `department`: its own, its ancestors', company-wide."""
    departments = [] if department is None else [department, *department.ancestors()]
    robots = RobotWebhook.objects.filter(
        Q(department__isnull=True) | Q(department_id__in=[d.pk for d in departments]),
        active=True,
    ).order_by("id")
    return [r for r in robots if r.hears(kind)]


def notify(
    *,
    kind: str,
    recipients: Iterable[Any],
    title: Any,
    body: Any,
    url: str = "",
    data: dict | None = None,
    department: Department | None = None,
    email: bool = True,
    params: Mapping[str, Any] | None = None,
    suffix: str = "",
) -> list[Notification]:
    """Put a message in each recipient's inbox and queue its email and robot messages.

    `title` and `body` are templates (lazy translations, ``%(name)s`` placeholders filled
    from `params`, whose values may be lazy too) or plain text; `suffix` (free text, e.g.
    a comment) is appended to the body as typed. The texts are rendered in every language
    of the site and stored (``Notification.texts``), so each reader reads their own
    language, whoever sent it; the stored title and body, e-mail and robots use the
    company's language.

    Must run inside the caller's `transaction.atomic()`. Inactive accounts and repeated
    recipients are skipped. Email goes to every recipient with an address (when `email`);
    each active robot of `department` (or an ancestor, or company-wide) that hears `kind`
    gets one message for the event. Delivery is enqueued after the commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notify must be called inside transaction.atomic()")
    users: list[Any] = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        users.append(user)
    texts = render_texts(title, body, params, suffix)
    company = texts.get(company_language()) or next(iter(texts.values()))
    title, body = company["title"], company["body"]
    now = timezone.now()
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind=kind,
                title=title,
                body=body,
                url=url,
                data=data or {},
                texts=texts,
                created_at=now,
            )
            for user in users
        ]
    )
    text = message_text(title=title, body=body, url=url)
    outbox: list[OutboxMessage] = []
    if email and notifications:
        addresses = _email_addresses(users)
        for notification in notifications:
            address = addresses.get(notification.recipient_id, "")
            if not address:
                continue
            outbox.append(
                OutboxMessage(
                    channel=Channel.EMAIL,
                    target=address,
                    payload={"subject": title, "body": text},
                    notification=notification,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    for robot in robots_for(department=department, kind=kind):
        outbox.append(
            OutboxMessage(
                channel=robot.platform,
                target=str(robot.pk),
                payload={"kind": kind, "text": text},
                notification=notifications[0] if len(notifications) == 1 else None,
                created_at=now,
                next_attempt_at=now,
            )
        )
    outbox += workapps_send.outbox_rows(
        notifications,
        kind=kind,
        title=title,
        body=body,
        text=text,
        url=site_url(url),
        data=data,
        language=company_language(),
        now=now,
    )
    if outbox:
        created = OutboxMessage.objects.bulk_create(outbox)
        _deliver_after_commit([m.pk for m in created])
    return notifications


def company_language() -> str:
    """The language messages for several readers (e-mail, robots) are written in: the
    company's locale, else the site default (zh-hans)."""
    locale = Company.objects.order_by("pk").values_list("locale", flat=True).first()
    return locale or settings.LANGUAGE_CODE


def render_texts(
    title: Any, body: Any, params: Mapping[str, Any] | None = None, suffix: str = ""
) -> dict[str, dict[str, str]]:
    """``{language: {"title", "body"}}`` for every language of the site: the templates
    and their lazy params rendered in each."""
    out: dict[str, dict[str, str]] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            values = {k: str(v) for k, v in (params or {}).items()}
            shown_title = str(title) % values if params else str(title)
            shown_body = str(body) % values if params else str(body)
        out[code] = {"title": shown_title[:200], "body": shown_body + suffix}
    return out


def _deliver_after_commit(ids: list[int]) -> None:
    from .tasks import deliver_outbox  # cycle: tasks → missed_punch_alert → services

    send_after_commit(deliver_outbox, ids)


# --- inbox ------------------------------------------------------------------------------


def notification_mark_read(
    *,
    user: Any,
    ids: Iterable[int | str] | None = None,
    all: bool = False,  # noqa: A002 - the brief's name: mark all of the user's unread
    now: datetime | None = None,
) -> int:
    """Mark the user's own notifications read (others' ids are ignored); returns how many."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if not all:
        wanted = parse_ids(ids or [])
        if not wanted:
            return 0
        qs = qs.filter(pk__in=wanted)
    return qs.update(read_at=now or timezone.now())


# --- robots (HR page and admin) ------------------------------------------------------------


def redact_url(url: str) -> str:
    """A webhook address without its key, for the audit log and pages (keys are secrets)."""
    parts = urlsplit(url)
    query = "&".join(f"{quote(k)}=…" for k, _v in parse_qsl(parts.query, keep_blank_values=True))
    segments = parts.path.split("/")
    path = "/".join(f"…{s[-4:]}" if len(s) >= 16 else s for s in segments)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def robot_snapshot(robot: RobotWebhook) -> dict[str, Any]:
    """`snapshot` with the address redacted and the secret reduced to whether it is set."""
    data = snapshot(robot)
    data["url"] = redact_url(robot.url)
    data["secret"] = "set" if robot.secret else ""
    return data


ROBOT_FIELDS = ("name", "department", "platform", "url", "secret", "kinds", "active")


def _require_manager(actor: Any) -> None:
    if not rules.can_manage_robots(actor):
        raise PermissionDeniedError()


def _full_clean(robot: RobotWebhook) -> None:
    try:
        robot.full_clean()
    except ValidationError as exc:
        raise DomainError(
            ROBOT_INVALID,
            _("The robot settings are not valid."),
            details=exc.message_dict if hasattr(exc, "error_dict") else exc.messages,
        ) from None


@transaction.atomic
def robot_webhook_save(
    *, actor: Any, robot: RobotWebhook | None = None, keep_secret: bool = False, **fields: Any
) -> RobotWebhook:
    """Create a robot (robot=None) or change one; `keep_secret` keeps the stored secret."""
    _require_manager(actor)
    unknown = set(fields) - set(ROBOT_FIELDS)
    if unknown:
        raise TypeError(f"unknown robot fields: {sorted(unknown)}")
    creating = robot is None
    if robot is None:
        robot = RobotWebhook()
        before = None
    else:
        robot = RobotWebhook.objects.select_for_update().get(pk=robot.pk)
        before = robot_snapshot(robot)
    secret = robot.secret
    for name, value in fields.items():
        setattr(robot, name, value)
    if keep_secret and not creating:
        robot.secret = secret
    _full_clean(robot)
    robot.save()
    record(
        f"notifications.robotwebhook.{'create' if creating else 'update'}",
        obj=robot,
        actor=actor,
        before=before,
        after=robot_snapshot(robot),
        extra={"secret_changed": robot.secret != secret} if not creating else None,
    )
    return robot


@transaction.atomic
def robot_webhook_delete(*, actor: Any, robot_id: int) -> None:
    _require_manager(actor)
    robot = RobotWebhook.objects.filter(pk=robot_id).first()
    if robot is None:
        raise NotFoundError(_("No such group robot."), code=ROBOT_NOT_FOUND)
    before = robot_snapshot(robot)
    robot.delete()
    record(
        "notifications.robotwebhook.delete",
        object_type=RobotWebhook._meta.label_lower,
        object_id=robot_id,
        actor=actor,
        before=before,
    )


@transaction.atomic
def robot_webhook_test(*, actor: Any, robot_id: int) -> OutboxMessage:
    """Queue a test message to one robot (delivered like any other, after the commit)."""
    _require_manager(actor)
    robot = RobotWebhook.objects.filter(pk=robot_id).first()
    if robot is None:
        raise NotFoundError(_("No such group robot."), code=ROBOT_NOT_FOUND)
    text = str(
        _("ZTK Attendance: test message for the group robot “%(name)s”.") % {"name": robot.name}
    )
    message = OutboxMessage.objects.create(
        channel=robot.platform,
        target=str(robot.pk),
        payload={"kind": NotificationKind.TEST.value, "text": text},
    )
    record("notifications.robotwebhook.test", obj=robot, actor=actor)
    _deliver_after_commit([message.pk])
    return message


@transaction.atomic
def outbox_retry(*, actor: Any, ids: Iterable[int | str]) -> int:
    """Give failed or given-up messages a fresh set of attempts, due now."""
    _require_manager(actor)
    pks = retry_rows(
        OutboxMessage,
        sorted(set(parse_ids(ids))),
        audit=lambda row: record(
            "notifications.outbox.retry",
            obj=row,
            actor=actor,
            before={"status": row.status, "attempts": row.attempts},
            after={"status": OutboxStatus.PENDING, "attempts": 0},
        ),
    )
    if pks:
        _deliver_after_commit(pks)
    return len(pks)
