from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_PREFIX = "ztk_"


def hash_key(raw: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough and keeps lookups O(1).
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKey(models.Model):
    """A bearer key for another system; only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="api_keys",
    )
    name = models.CharField(_("name"), max_length=80, blank=True)
    prefix = models.CharField(
        _("prefix"), max_length=12, help_text=_("First characters, to tell keys apart.")
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    expires_on = models.DateField(
        _("expires"),
        null=True,
        blank=True,
        help_text=_("Works through this day (the company's time zone); empty: never expires."),
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user})"

    @property
    def expired(self) -> bool:
        return self.expires_on is not None and timezone.localdate() > self.expires_on

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.expired
