"""Writes on accounts: API keys, log-in records, passwords, second factor, unlocks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text

from .models import ApiKey, hash_key, new_raw_key

User = get_user_model()
MAX_KEY_DAYS = 5 * 366  # an integrator's key is renewed at least every five years


def _may_manage_keys(actor: Any, owner: Any) -> bool:
    return actor is None or actor.pk == owner.pk or actor.has_perm("org.manage_organisation")


@transaction.atomic
def api_key_create(
    *, actor: Any, user: Any, name: str = "", expires_on: date | None = None
) -> tuple[ApiKey, str]:
    """Returns the key object and the raw key, which is shown once and never stored.

    ``expires_on``: the last day the key works (the company's time zone); None: no expiry.
    """
    if not _may_manage_keys(actor, user):
        raise PermissionDeniedError()
    if not user.is_active:
        raise DomainError("user_inactive", _("The user is not active."))
    name = clean_text(name, field="name")[:80]
    if expires_on is not None:
        today = timezone.localdate()
        last = today + timedelta(days=MAX_KEY_DAYS)
        if expires_on < today:
            raise DomainError(
                "expiry_in_past",
                _("The expiry date %(day)s is in the past; choose today or a later day.")
                % {"day": expires_on.isoformat()},
                details={"field": "expires_on"},
            )
        if expires_on > last:
            raise DomainError(
                "expiry_too_far",
                _("A key may live at most %(days)s days: choose %(last)s or earlier.")
                % {
                    "days": MAX_KEY_DAYS,
                    "last": (today + timedelta(days=MAX_KEY_DAYS)).isoformat(),
                },
                details={"field": "expires_on"},
            )
    raw = new_raw_key()
    key = ApiKey.objects.create(
        user=user, name=name, prefix=raw[:12], key_hash=hash_key(raw), expires_on=expires_on
    )
    record(
        "accounts.api_key.create",
        obj=key,
        actor=actor,
        after={
            "user": user.get_username(),
            "name": key.name,
            "prefix": key.prefix,
            "expires_on": expires_on.isoformat() if expires_on else None,
        },
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, actor: Any, key: ApiKey) -> ApiKey:
    if not _may_manage_keys(actor, key.user):
        raise PermissionDeniedError()
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        record(
            "accounts.api_key.revoke",
            obj=key,
            actor=actor,
            before={"prefix": key.prefix, "revoked_at": None},
            after={"prefix": key.prefix, "revoked_at": key.revoked_at},
        )
    return key


def api_key_authenticate(raw: str) -> Any | None:
    """The user behind an active key, or None. Touches last_used at most once a minute."""
    if not raw or not raw.startswith("ztk_"):
        return None
    key = ApiKey.objects.select_related("user").filter(key_hash=hash_key(raw)).first()
    if key is None or not key.active or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user


# --- log-in, password and second factor ----------------------------------------------------


@transaction.atomic
def login_record(*, user: Any, second_factor: bool, via: str = "password") -> None:
    """Every successful log-in is an audit event, so HR can answer "who was in, and when";
    `via`: the password, or the work app (dingtalk, wecom, feishu) that vouched for them."""
    record(
        "accounts.login", obj=user, actor=user, extra={"second_factor": second_factor, "via": via}
    )


@transaction.atomic
def logout_record(*, user: Any) -> None:
    record("accounts.logout", obj=user, actor=user)


@transaction.atomic
def password_change(*, user: Any, new_password: str) -> None:
    """The caller has checked the old password and the validators (Django's form does both).

    Audited as `accounts.password.change` by ztk.accounts.receivers, like every other way of
    setting a password (admin, `ztk changepassword`).
    """
    user.set_password(new_password)
    user.save(update_fields=["password"])


def otp_device_prepare(*, user: Any) -> TOTPDevice:
    """The unconfirmed device shown on the set-up page; kept so a reload shows the same code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device


@transaction.atomic
def otp_device_confirm(*, user: Any, device: TOTPDevice) -> TOTPDevice:
    """Turns the second factor on; from now on the log-in asks this user for a code.

    Audited as `accounts.otp.enable` by ztk.accounts.receivers (as a device added or removed
    in the admin is).
    """
    if device.user_id != user.pk:
        raise PermissionDeniedError()
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Any other half-set-up device is stale: one authenticator per account keeps it simple.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return device


# --- lock-outs -----------------------------------------------------------------------------


def _may_unlock(actor: Any) -> bool:
    # None: the system, i.e. a command run on the server (`ztk axes_reset_username`).
    return actor is None or actor.has_perm("accounts.unlock_account")


@transaction.atomic
def account_unlock(*, actor: Any, username: str) -> int:
    """Clears django-axes' failures for one account; returns how many attempt rows went.

    Done by HR or a system admin when someone locked themselves out and cannot wait for the
    cool-off; audited because it re-opens an account to password guessing.
    """
    if not _may_unlock(actor):
        raise PermissionDeniedError()
    username = (username or "").strip()
    if not username:
        raise DomainError("username_required", _("Which account should be unlocked?"))
    return attempts_reset(actor=actor, username=username)


@transaction.atomic
def attempts_reset(*, actor: Any, username: str | None = None, ip: str | None = None) -> int:
    """Clears failures by account and/or address (everything when neither is given).

    One `accounts.unlock` event per account whose failures went (and one for the named
    account even when it had none), so every re-opened account is in the log.
    """
    if not _may_unlock(actor):
        raise PermissionDeniedError()
    attempts = AccessAttempt.objects.all()
    if username is not None:
        attempts = attempts.filter(username=username)
    if ip is not None:
        attempts = attempts.filter(ip_address=ip)
    per_account: dict[str, int] = {}
    for name in attempts.exclude(username__isnull=True).values_list("username", flat=True):
        per_account[name] = per_account.get(name, 0) + 1
    if username is not None:
        per_account.setdefault(username, 0)
    cleared = axes_reset(ip=ip, username=username)
    users = dict(
        User.objects.filter(**{f"{User.USERNAME_FIELD}__in": list(per_account)}).values_list(
            User.USERNAME_FIELD, "pk"
        )
    )
    for name in sorted(per_account):
        extra: dict[str, Any] = {"username": name, "attempts_cleared": per_account[name]}
        if ip is not None:
            extra["ip_address"] = ip
        record(
            "accounts.unlock",
            object_type=User._meta.label_lower,
            object_id=users.get(name, name),
            actor=actor,
            extra=extra,
        )
    return cleared
