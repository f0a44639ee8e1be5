"""The work apps' configuration, who is who on each platform, and callback nonces.

Secrets (app secret, callback token, AES key, encrypt key) and the cached access token
are stored here and never shown back by any page; the audit log records only whether a
secret changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Platform

# The settings a platform needs, in the order the page shows them; secrets are write-only.
FIELDS: dict[str, tuple[str, ...]] = {
    Platform.DINGTALK: ("corp_id", "agent_id", "app_key", "app_secret", "callback_token",
                        "aes_key", "card_template_id"),
    Platform.WECOM: ("corp_id", "agent_id", "app_secret", "callback_token", "aes_key"),
    Platform.FEISHU: ("app_id", "app_secret", "callback_token", "aes_key"),
}  # fmt: skip
SECRET_FIELDS = frozenset({"app_secret", "callback_token", "aes_key"})
# What must be set before messages go out (callbacks need the token and key too).
REQUIRED: dict[str, tuple[str, ...]] = {
    Platform.DINGTALK: ("corp_id", "agent_id", "app_key", "app_secret"),
    Platform.WECOM: ("corp_id", "agent_id", "app_secret"),
    Platform.FEISHU: ("app_id", "app_secret"),
}


class WorkApp(models.Model):
    """The company's own app on one platform (an 企业内部应用 / 自建应用)."""

    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices, unique=True)
    active = models.BooleanField(_("send messages"), default=False)
    corp_id = models.CharField(_("corp id"), max_length=100, blank=True)
    agent_id = models.CharField(_("agent id"), max_length=40, blank=True)
    app_key = models.CharField(_("app key"), max_length=100, blank=True)
    app_id = models.CharField(_("app id"), max_length=100, blank=True)
    app_secret = models.CharField(_("app secret"), max_length=200, blank=True)
    # WeCom / DingTalk: the callback Token; Feishu: the Verification Token.
    callback_token = models.CharField(_("callback token"), max_length=200, blank=True)
    # WeCom / DingTalk: the EncodingAESKey (43 characters); Feishu: the Encrypt Key.
    aes_key = models.CharField(_("callback AES key"), max_length=200, blank=True)
    card_template_id = models.CharField(_("card template id"), max_length=200, blank=True)
    access_token = models.CharField(max_length=600, blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("work app")
        verbose_name_plural = _("work apps")
        ordering = ["platform"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return str(self.get_platform_display())

    @property
    def configured(self) -> bool:
        return all(getattr(self, name) for name in REQUIRED[self.platform])

    @property
    def ready(self) -> bool:
        """Messages go out through this app."""
        return self.active and self.configured


class MatchBy(models.TextChoices):
    EMPLOYEE_NO = "employee_no", _("Employee number")
    MOBILE = "mobile", _("Mobile")
    IMPORT = "import", _("Imported")


class WorkAppUser(models.Model):
    """A person's user id on one platform (DingTalk userid, WeCom UserID, Feishu user_id)."""

    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="work_app_ids",
    )
    platform_user_id = models.CharField(_("user id on the platform"), max_length=100)
    matched_by = models.CharField(_("matched by"), max_length=12, choices=MatchBy.choices)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("work app user id")
        verbose_name_plural = _("work app user ids")
        constraints = [
            models.UniqueConstraint(fields=["platform", "user"], name="workapp_user_once"),
            models.UniqueConstraint(
                fields=["platform", "platform_user_id"], name="workapp_platform_id_once"
            ),
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_user_id} → {self.user_id}"


class CallbackNonce(models.Model):
    """A callback's nonce, seen once: the same nonce again is a replay and is refused."""

    platform = models.CharField(max_length=10, choices=Platform.choices)
    nonce = models.CharField(max_length=100)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("callback nonce")
        verbose_name_plural = _("callback nonces")
        constraints = [
            models.UniqueConstraint(fields=["platform", "nonce"], name="workapp_nonce_once")
        ]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.platform}:{self.nonce}"


class CardVia(models.TextChoices):
    """How a sent approval card is updated later (each platform's documented mechanism)."""

    DINGTALK_CARD = "ding_card", "DingTalk interactive card (outTrackId)"
    DINGTALK_OA = "ding_oa", "DingTalk work notice status bar (task_id)"
    WECOM = "wecom", "WeCom template card (response_code)"
    FEISHU = "feishu", "Feishu interactive message (message_id)"


class SentCard(models.Model):
    """An approval card one approver got, with what the platform answered to its send:
    what updating it later needs (docs/work-apps.md "Cards after the decision")."""

    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    ref = models.CharField(_("request"), max_length=60, db_index=True)  # "correction:12"
    platform_user_id = models.CharField(_("user id on the platform"), max_length=100)
    via = models.CharField(max_length=10, choices=CardVia.choices)
    # Feishu message_id, WeCom response_code (the latest one), DingTalk outTrackId / task_id.
    handle = models.CharField(max_length=300)
    outbox = models.OneToOneField(
        "notifications.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_card",
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    # What the card says once the request left the approver's hands ("" while it waits).
    settled = models.CharField(_("settled as"), max_length=200, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sent approval card")
        verbose_name_plural = _("sent approval cards")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.platform}:{self.ref} → {self.platform_user_id}"
