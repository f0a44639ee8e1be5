"""Reads for the accounts area: second-factor devices, current lock-outs, API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ApiKey


def totp_device_of(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


@dataclass(frozen=True)
class Lockout:
    username: str
    failures: int
    last_attempt: datetime
    unlocks_at: datetime | None  # None when lock-outs never expire (AXES_COOLOFF_TIME unset)


def failure_limit() -> int:
    limit = settings.AXES_FAILURE_LIMIT
    return limit if isinstance(limit, int) else 5


def lockouts() -> list[Lockout]:
    """Accounts currently locked by django-axes (failures within the cool-off window)."""
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.exclude(username__isnull=True)
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    rows = (
        attempts.values("username")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=failure_limit())
        .order_by("-last_attempt")
    )
    return [
        Lockout(
            username=row["username"],
            failures=row["failures"],
            last_attempt=row["last_attempt"],
            unlocks_at=None if cool_off is None else row["last_attempt"] + cool_off,
        )
        for row in rows
    ]


def api_keys() -> Any:
    """Every API key, newest first, with the account it acts as (never the secret)."""
    return ApiKey.objects.select_related("user").order_by("revoked_at", "-created_at")


def api_key(key_id: int) -> Any | None:
    return ApiKey.objects.select_related("user").filter(pk=key_id).first()
