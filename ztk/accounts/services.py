"""Writes on accounts: API keys, log-in records, passwords, second factor, unlocks."""

from __future__ import annotations

from typing import Any

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


def _may_manage_keys(actor: Any, owner: Any) -> bool:
    return actor is None or actor.pk == owner.pk or actor.has_perm("org.manage_organisation")


@transaction.atomic
def api_key_create(*, actor: Any, user: Any, name: str = "") -> tuple[ApiKey, str]:
    """Returns the key object and the raw key, which is shown once and never stored."""
    if not _may_manage_keys(actor, user):
        raise PermissionDeniedError()
    if not user.is_active:
        raise DomainError("user_inactive", _("The user is not active."))
    name = clean_text(name, field="name")[:80]
    raw = new_raw_key()
    key = ApiKey.objects.create(user=user, name=name, prefix=raw[:12], key_hash=hash_key(raw))
    record(
        "accounts.api_key.create",
        obj=key,
        actor=actor,
        after={"user": user.get_username(), "name": key.name, "prefix": key.prefix},
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
            after={"prefix": key.prefix, "revoked_at": key.revoked_at},
        )
    return key


def api_key_authenticate(raw: str) -> Any | None:
    """The user behind an active key, or None. Touches last_used at most once a minute."""
    if not raw or not raw.startswith("ztk_"):
        return None
    key = ApiKey.objects.select_related("user").filter(key_hash=hash_key(raw)).first()
    if key is None or key.revoked_at is not None or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user


# --- log-in, password and second factor ----------------------------------------------------


@transaction.atomic
def login_record(*, user: Any, second_factor: bool) -> None:
    """Every successful log-in is an audit event, so HR can answer "who was in, and when"."""
    record("accounts.login", obj=user, actor=user, extra={"second_factor": second_factor})


@transaction.atomic
def logout_record(*, user: Any) -> None:
    record("accounts.logout", obj=user, actor=user)


@transaction.atomic
def password_change(*, user: Any, new_password: str) -> None:
    """The caller has checked the old password and the validators (Django's form does both)."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record("accounts.password.change", obj=user, actor=user)


def otp_device_prepare(*, user: Any) -> TOTPDevice:
    """The unconfirmed device shown on the set-up page; kept so a reload shows the same code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device


@transaction.atomic
def otp_device_confirm(*, user: Any, device: TOTPDevice) -> TOTPDevice:
    """Turns the second factor on; from now on the log-in asks this user for a code."""
    if device.user_id != user.pk:
        raise PermissionDeniedError()
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Any other half-set-up device is stale: one authenticator per account keeps it simple.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        record("accounts.otp.enable", obj=user, actor=user, extra={"device": device.pk})
    return device


# --- lock-outs -----------------------------------------------------------------------------


@transaction.atomic
def account_unlock(*, actor: Any, username: str) -> int:
    """Clears django-axes' failures for one account; returns how many attempt rows went.

    Done by HR or a system admin when someone locked themselves out and cannot wait for the
    cool-off; audited because it re-opens an account to password guessing.
    """
    if not (actor is not None and actor.has_perm("accounts.unlock_account")):
        raise PermissionDeniedError()
    username = (username or "").strip()
    if not username:
        raise DomainError("username_required", _("Which account should be unlocked?"))
    cleared = axes_reset(username=username)
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    record(
        "accounts.unlock",
        object_type="auth.user",
        object_id=user.pk if user is not None else username,
        actor=actor,
        extra={"username": username, "attempts_cleared": cleared},
    )
    return cleared
