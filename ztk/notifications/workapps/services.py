"""Writes of the work apps: their settings (secrets write-only, audited), user id mappings
(matched, imported, synced by mobile) and the audit of refused callbacks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.core.webhooks import DeliveryError, send_after_commit
from ztk.org.models import Employee

from .. import rules
from ..models import OutboxMessage, Platform
from ..tasks import deliver_outbox
from . import api
from .config import CHANNEL_OF
from .models import FIELDS, SECRET_FIELDS, CallbackNonce, MatchBy, WorkApp, WorkAppUser

# Stable error codes.
UNKNOWN_PLATFORM = "workapp_unknown_platform"
INVALID = "workapp_invalid"
NOT_READY = "workapp_not_ready"
SYNC_FAILED = "workapp_sync_failed"

MAX_IMPORT_ROWS = 20000
_SAFE = re.compile(r"^[0-9A-Za-z_\-@.:+=/]{1,100}$")
_DIGITS = re.compile(r"^\d{1,12}$")


def _require_manager(actor: Any) -> None:
    if not rules.can_manage_robots(actor):
        raise PermissionDeniedError()


def _platform(value: Any) -> str:
    if value not in Platform.values:
        raise DomainError(UNKNOWN_PLATFORM, _("Unknown platform."))
    return str(value)


def app_for(platform: str) -> WorkApp:
    """The platform's row (unsaved and empty when never configured)."""
    return WorkApp.objects.filter(platform=platform).first() or WorkApp(platform=platform)


def app_snapshot(app: WorkApp) -> dict[str, Any]:
    """For the audit log: plain settings as they are, secrets only as "set" or ""."""
    out: dict[str, Any] = {"platform": app.platform, "active": app.active}
    for name in FIELDS[app.platform]:
        value = getattr(app, name)
        out[name] = ("set" if value else "") if name in SECRET_FIELDS else value
    return out


@transaction.atomic
def work_app_save(*, actor: Any, platform: str, active: bool, values: dict[str, Any]) -> WorkApp:
    """Save a platform's settings. A secret left empty keeps the stored one; `values`
    names only this platform's fields (`models.FIELDS`)."""
    _require_manager(actor)
    platform = _platform(platform)
    unknown = set(values) - set(FIELDS[platform])
    if unknown:
        raise TypeError(f"unknown work app fields: {sorted(unknown)}")
    app = WorkApp.objects.select_for_update().filter(platform=platform).first()
    creating = app is None
    app = app or WorkApp(platform=platform)
    before = None if creating else app_snapshot(app)
    changed_secrets = []
    credentials_changed = False
    for name, raw in values.items():
        max_length = WorkApp._meta.get_field(name).max_length  # type: ignore[union-attr]
        value = clean_text(raw, field=name, max_length=max_length)
        if name in SECRET_FIELDS:
            if not value:
                continue  # write-only: empty keeps what is stored
            if value != getattr(app, name):
                changed_secrets.append(name)
        elif name == "agent_id" and value and not _DIGITS.match(value):
            raise DomainError(INVALID, _("The agent id is a number."), details={"field": name})
        if name in ("corp_id", "app_key", "app_id", "app_secret") and value != getattr(app, name):
            credentials_changed = True
        setattr(app, name, value)
    if platform in (Platform.WECOM, Platform.DINGTALK) and app.aes_key and len(app.aes_key) != 43:
        raise DomainError(
            INVALID, _("The EncodingAESKey has 43 characters."), details={"field": "aes_key"}
        )
    app.active = bool(active)
    if app.active and not app.configured:
        raise DomainError(NOT_READY, _("Fill in the app's ids and secret before switching it on."))
    if credentials_changed:
        app.access_token, app.token_expires_at = "", None
    app.updated_at = timezone.now()
    app.save()
    record(
        f"notifications.workapp.{'create' if creating else 'update'}",
        obj=app,
        actor=actor,
        before=before,
        after=app_snapshot(app),
        extra={"secrets_changed": sorted(changed_secrets)},
    )
    return app


# --- user ids -----------------------------------------------------------------------------


@dataclass
class MappingResult:
    matched: int = 0
    unchanged: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


def _mobile(value: Any) -> str:
    digits = re.sub(r"[\s\-()]", "", str(value or "")).removeprefix("+86")
    return digits if re.fullmatch(r"\+?\d{5,20}", digits) else ""


def _set_ids(
    platform: str, pairs: Sequence[tuple[Any, str]], matched_by: str, result: MappingResult
) -> list[dict[str, Any]]:
    """Store (user, platform user id) pairs; a platform id held by someone else moves."""
    changes = []
    now = timezone.now()
    for user, platform_user_id in pairs:
        current = WorkAppUser.objects.filter(platform=platform, user=user).first()
        if current is not None and current.platform_user_id == platform_user_id:
            result.unchanged += 1
            continue
        WorkAppUser.objects.filter(platform=platform, platform_user_id=platform_user_id).exclude(
            user=user
        ).delete()
        WorkAppUser.objects.update_or_create(
            platform=platform,
            user=user,
            defaults={"platform_user_id": platform_user_id, "matched_by": matched_by,
                      "updated_at": now},
        )  # fmt: skip
        result.matched += 1
        changes.append({"user": user.pk, "id": platform_user_id,
                        "before": current.platform_user_id if current else None})  # fmt: skip
    return changes


@transaction.atomic
def work_app_users_import(
    *, actor: Any, platform: str, rows: Iterable[tuple[int, list[Any]]]
) -> MappingResult:
    """Import user ids: each row is (employee number or mobile, platform user id); a header
    row is skipped. Unknown people and unsafe ids are reported, not stored."""
    _require_manager(actor)
    platform = _platform(platform)
    result = MappingResult()
    rows = list(rows)
    if len(rows) > MAX_IMPORT_ROWS:
        raise DomainError(INVALID, _("At most %(max)d rows.") % {"max": MAX_IMPORT_ROWS})
    employees = {e.employee_no: e for e in Employee.objects.select_related("user")}
    by_mobile = {_mobile(e.phone): e for e in employees.values() if _mobile(e.phone)}
    pairs: list[tuple[Any, str]] = []
    seen_ids: set[str] = set()
    for number, cells in rows:
        who = str(cells[0] if cells else "").strip()
        pid = str(cells[1] if len(cells) > 1 else "").strip()
        if number == rows[0][0] and who.lower() in {
            "employee_no",
            "mobile",
            "工号",
            "手机",
            "手机号",
        }:
            continue
        employee = employees.get(who) or by_mobile.get(_mobile(who))
        if employee is None or not employee.user.is_active:
            result.problems.append({"line": number, "problem": str(_("no such employee"))})
            continue
        if not _SAFE.match(pid) or pid in seen_ids:
            result.problems.append({"line": number, "problem": str(_("not a valid user id"))})
            continue
        seen_ids.add(pid)
        pairs.append((employee.user, pid))
    changes = _set_ids(platform, pairs, MatchBy.IMPORT, result)
    record(
        "notifications.workapp.users_import",
        object_type=WorkApp._meta.label_lower,
        object_id=platform,
        actor=actor,
        extra={"matched": result.matched, "unchanged": result.unchanged,
               "problems": len(result.problems), "changes": changes[:200]},
    )  # fmt: skip
    return result


def work_app_users_sync(*, actor: Any, platform: str) -> MappingResult:
    """Ask the platform for the user id of every active employee with a mobile number and
    store the ones it knows. The HTTP calls run outside any transaction."""
    _require_manager(actor)
    platform = _platform(platform)
    app = WorkApp.objects.filter(platform=platform).first()
    if app is None or not app.configured:
        raise DomainError(NOT_READY, _("Fill in the app's ids and secret first."))
    employees = list(
        Employee.objects.filter(active=True, user__is_active=True).exclude(phone="")
        .select_related("user")
    )  # fmt: skip
    by_mobile = {_mobile(e.phone): e for e in employees if _mobile(e.phone)}
    try:
        found = api.user_ids_by_mobile(app, sorted(by_mobile))
    except DeliveryError as exc:
        raise DomainError(
            SYNC_FAILED, _("The platform did not answer: %(error)s") % {"error": str(exc)[:200]}
        ) from None
    result = MappingResult()
    with transaction.atomic():
        pairs = [
            (by_mobile[m].user, pid)
            for m, pid in found.items()
            if m in by_mobile and _SAFE.match(pid)
        ]
        changes = _set_ids(platform, pairs, MatchBy.MOBILE, result)
        missing = len(by_mobile) - len(found)
        if missing > 0:
            result.problems.append({"line": 0, "problem": str(
                _("%(n)d mobiles are not known to the platform") % {"n": missing})})  # fmt: skip
        record(
            "notifications.workapp.users_sync",
            object_type=WorkApp._meta.label_lower,
            object_id=platform,
            actor=actor,
            extra={"asked": len(by_mobile), "matched": result.matched,
                   "unchanged": result.unchanged, "changes": changes[:200]},
        )  # fmt: skip
    return result


@transaction.atomic
def work_app_users_match_employee_no(*, actor: Any, platform: str) -> MappingResult:
    """Companies whose platform user ids are their employee numbers: map everyone so."""
    _require_manager(actor)
    platform = _platform(platform)
    result = MappingResult()
    pairs = [
        (e.user, e.employee_no)
        for e in Employee.objects.filter(active=True, user__is_active=True).select_related("user")
    ]
    changes = _set_ids(platform, pairs, MatchBy.EMPLOYEE_NO, result)
    record(
        "notifications.workapp.users_match",
        object_type=WorkApp._meta.label_lower,
        object_id=platform,
        actor=actor,
        extra={"matched": result.matched, "unchanged": result.unchanged, "changes": changes[:200]},
    )
    return result


# --- callbacks ----------------------------------------------------------------------------


def user_for(platform: str, platform_user_id: str) -> Any | None:
    """The active account behind a platform user id, or None."""
    row = (
        WorkAppUser.objects.select_related("user")
        .filter(platform=platform, platform_user_id=platform_user_id)
        .first()
    )
    return row.user if row is not None and row.user.is_active else None


@transaction.atomic
def callback_record(
    *, platform: str, outcome: str, code: str = "", actor: Any = None, **extra: Any
) -> None:
    """Audit a callback that was refused (bad signature, replay, not an approver …) or
    that decided a request (the decision itself is audited by the request's service)."""
    record(
        f"notifications.workapp.callback_{outcome}",
        object_type=WorkApp._meta.label_lower,
        object_id=platform,
        actor=actor,
        extra={"code": code or None, **{k: v for k, v in extra.items() if v not in (None, "")}},
    )


@transaction.atomic
def tell_platform_user(*, platform: str, platform_user_id: str, text: str) -> OutboxMessage:
    """A short text to one platform user through the outbox: what happened to the card
    they pressed, where the platform's callback answer cannot say it (DingTalk)."""
    message = OutboxMessage.objects.create(
        channel=CHANNEL_OF[platform],
        target=platform_user_id,
        payload={"kind": "workapp_reply", "title": "", "body": text, "text": text},
    )
    send_after_commit(deliver_outbox, [message.pk])
    return message


# --- sign-in from the work app ---------------------------------------------------------------


def signin_code_claim(*, platform: str, code: str) -> bool:
    """True the first time this authorization code is seen, False after (a replay).

    Codes are kept as a hash beside the callbacks' nonces (`CallbackNonce`, forgotten with
    them), so a code works once even when the platform would take it again."""
    digest = "signin:" + hashlib.sha256(f"{platform}:{code}".encode()).hexdigest()[:64]
    try:
        with transaction.atomic():
            CallbackNonce.objects.create(platform=platform, nonce=digest, seen_at=timezone.now())
    except IntegrityError:
        return False
    return True


@transaction.atomic
def signin_refused_record(
    *, platform: str, code: str, platform_user_id: str = "", user: Any = None, detail: str = ""
) -> None:
    """Audit a refused work-app sign-in: why, which platform user id (when known) and whose
    account it was meant for. A success is audited as `accounts.login` with ``via``."""
    extra = {"code": code, "platform_user": platform_user_id[:100] or None,
             "detail": detail[:300] or None}  # fmt: skip
    record(
        "notifications.workapp.signin_refused",
        object_type=WorkApp._meta.label_lower,
        object_id=platform,
        actor=user,
        extra={k: v for k, v in extra.items() if v is not None},
    )
