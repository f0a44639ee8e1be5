from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError

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
    raw = new_raw_key()
    key = ApiKey.objects.create(user=user, name=name[:80], prefix=raw[:12], key_hash=hash_key(raw))
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
