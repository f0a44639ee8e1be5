"""The in-app inbox, the outbox that carries messages to email and group robots, and the
robots' configuration.

Nothing is lost while a channel is down: every message for email or a robot is first an
`OutboxMessage` row, written in the same transaction as the change it reports, and a
Huey task delivers due rows with retries (see delivery.py).
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ztk.core.webhooks import validate_receiver_url


class NotificationKind(models.TextChoices):
    """Every event the product reports, with the label the inbox shows in the reader's
    language. A kind sent anywhere must be listed here (tests/notifications/
    test_kinds.py reads every `notify` call); an unknown one is shown as a neutral
    "Notification", never as its code."""

    CORRECTION_SUBMITTED = "correction_submitted", _("Correction request to approve")
    CORRECTION_APPROVED = "correction_approved", _("Correction request approved")
    CORRECTION_REJECTED = "correction_rejected", _("Correction request rejected")
    CORRECTION_COMMENT = "correction_comment", _("New comment on a correction request")
    CORRECTION_WITHDRAWN = "correction_withdrawn", _("Correction request withdrawn")
    CORRECTION_CANCELLED = "correction_cancelled", _("Correction request cancelled")
    CORRECTION_DELEGATION = "correction_delegation", _("Approvals delegated to you")
    CORRECTION_PAPER_REGISTERED = (
        "correction_paper_registered",
        _("Paper correction form registered by HR"),
    )
    OVERTIME_SUBMITTED = "overtime_submitted", _("Overtime request to approve")
    OVERTIME_APPROVED = "overtime_approved", _("Overtime request approved")
    OVERTIME_REJECTED = "overtime_rejected", _("Overtime request rejected")
    OVERTIME_WITHDRAWN = "overtime_withdrawn", _("Overtime request withdrawn")
    OVERTIME_CANCELLED = "overtime_cancelled", _("Overtime request cancelled")
    ABSENCE_SUBMITTED = "absence_submitted", _("Leave, outing or trip request to approve")
    ABSENCE_APPROVED = "absence_approved", _("Leave, outing or trip request approved")
    ABSENCE_REJECTED = "absence_rejected", _("Leave, outing or trip request rejected")
    ABSENCE_WITHDRAWN = "absence_withdrawn", _("Leave, outing or trip request withdrawn")
    ABSENCE_CANCELLED = "absence_cancelled", _("Approved leave, outing or trip cancelled")
    APPROVAL_OVERDUE = "approval_overdue", _("Approval step overdue")
    APPROVAL_ESCALATED = "approval_escalated", _("Overdue approval escalated to you")
    PERIOD_REOPENED = "period_reopened", _("Attendance period reopened")
    MANUAL_PUNCH_ADDED = "manual_punch_added", _("HR added a punch to your attendance")
    MANUAL_PUNCH_VOIDED = "manual_punch_voided", _("HR voided one of your punches")
    MISSED_PUNCH = "missed_punch", _("Missed punch")
    PUNCH_REMINDER = "punch_reminder", _("Punch reminder")
    CUTOFF_REMINDER = "cutoff_reminder", _("Last days to apply for corrections")
    APPROVAL_DIGEST = "approval_digest", _("Approvals waiting for you")
    OVERSIGHT_WARNING = "oversight_warning", _("Early warning")
    OVERSIGHT_DIGEST = "oversight_digest", _("Weekly oversight digest")
    TEST = "test", _("Test message")


# Personal reminders a group robot posts only when they are chosen explicitly (volume).
OPT_IN_KINDS = frozenset(
    {
        NotificationKind.MISSED_PUNCH.value,
        NotificationKind.PUNCH_REMINDER.value,
        NotificationKind.CUTOFF_REMINDER.value,
        NotificationKind.APPROVAL_DIGEST.value,
        NotificationKind.OVERSIGHT_DIGEST.value,
        NotificationKind.TEST.value,
    }
)


def kind_label(kind: str) -> str:
    """The kind as the reader reads it; never the internal code."""
    try:
        return str(NotificationKind(kind).label)
    except ValueError:
        return str(_("Notification"))


class Notification(models.Model):
    """One entry of a person's inbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    # The title and body in every language of the site ({"en": {"title": …, "body": …}, …}),
    # written by `notify` from the sender's templates, so each reader reads their own
    # language whatever the sender's; `title`/`body` hold the company's language (e-mail,
    # robots, rows written before this column).
    texts = models.JSONField(_("texts by language"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_created"),
            # The unread badge counts these on every page: a small partial index.
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notif_unread",
            ),
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    def _text(self, part: str) -> str:
        own = (self.texts or {}).get(translation.get_language() or "", {})
        return str(own.get(part) or getattr(self, part))

    @property
    def shown_title(self) -> str:
        """The title in the reader's language (the active one), else as stored."""
        return self._text("title")

    @property
    def shown_body(self) -> str:
        """The body in the reader's language (the active one), else as stored."""
        return self._text("body")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBPUSH = "webpush", _("Web Push")
    DINGTALK = "dingtalk", _("DingTalk")
    WECOM = "wecom", _("WeCom")
    FEISHU = "feishu", _("Feishu")
    # A person's messages through the company's work app (notifications/workapps/).
    DINGTALK_APP = "ding_app", _("DingTalk work notice")
    WECOM_APP = "wecom_app", _("WeCom app message")
    FEISHU_APP = "feishu_app", _("Feishu app message")


class Platform(models.TextChoices):
    DINGTALK = "dingtalk", _("DingTalk")
    WECOM = "wecom", _("WeCom")
    FEISHU = "feishu", _("Feishu")


# Platforms whose custom robots can sign each request with a shared secret.
SIGNED_PLATFORMS = frozenset({Platform.DINGTALK, Platform.FEISHU})


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Given up")


class OutboxMessage(models.Model):
    """One message for one channel target; delivered, retried and finally given up here."""

    # A robot's platform or a channel to a person (``channels.register``; a work app's
    # personal messages need a code of their own, hence the room).
    channel = models.CharField(_("channel"), max_length=24, choices=Channel.choices)
    target = models.CharField(
        _("target"),
        max_length=254,
        help_text=_("An email address, or the id of a robot webhook."),
    )
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox",
    )

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="outbox_due",
            ),
            models.Index(fields=["status", "-created_at"], name="outbox_status_created"),
        ]
        default_permissions = ("view", "change")

    def __str__(self) -> str:
        return f"{self.channel} → {self.target} ({self.status})"


def validate_robot_url(value: str) -> None:
    """Robots are reached over HTTPS at a public address (``ztk.core.webhooks``)."""
    validate_receiver_url(value, not_https_message=_("Use the robot's https:// webhook address."))


class RobotWebhook(models.Model):
    """A DingTalk / WeCom / Feishu group robot that hears a department's events.

    With no department it hears the whole company; a department's robot also hears the
    events of its sub-departments.
    """

    name = models.CharField(_("name"), max_length=120)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="robot_webhooks",
        help_text=_("Leave empty for the whole company. Sub-departments are included."),
    )
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    url = models.CharField(
        _("webhook address"),
        max_length=500,
        validators=[validate_robot_url],
        help_text=_("The address the group robot shows when it is added (it contains its key)."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk (SEC…) and Feishu robots with signature verification only."),
    )
    kinds = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_(
            "Only these events. None selected means all except missed-punch reminders, "
            "which are one message per person and are sent only when selected."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["department__code", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    def clean(self) -> None:
        super().clean()
        if self.secret and self.platform not in SIGNED_PLATFORMS:
            raise ValidationError(
                {"secret": _("WeCom robots are not signed: leave the secret empty.")}
            )
        unknown = [k for k in self.kinds or [] if k not in NotificationKind.values]
        if not isinstance(self.kinds, list) or unknown:
            raise ValidationError({"kinds": _("Unknown event kind.")})

    def hears(self, kind: str) -> bool:
        if self.kinds:
            return kind in self.kinds
        return kind not in OPT_IN_KINDS


class MissedPunchAlert(models.Model):
    """Remembers which missing slot of which day was already reported (alerts are once only)."""

    employee = models.ForeignKey(
        "org.Employee", on_delete=models.CASCADE, related_name="missed_punch_alerts"
    )
    day = models.DateField()
    slot = models.CharField(max_length=16)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("missed-punch alert")
        verbose_name_plural = _("missed-punch alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "day", "slot"], name="missed_punch_alert_unique"
            )
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.employee_id} {self.day} {self.slot}"


# --- reminders (docs/reminders.md) -------------------------------------------------------


class ReminderKind(models.TextChoices):
    """The reminders a person may switch off for themselves (and a group for everyone)."""

    PUNCH_IN = "punch_in", _("Before check-in")
    PUNCH_OUT = "punch_out", _("At check-out")
    MISSED_PUNCH = "missed_punch", _("Missed punch the next day")
    CUTOFF = "cutoff", _("Last days to apply for corrections")
    DIGEST = "digest", _("Daily list of approvals waiting for me")
    OVERSIGHT_DIGEST = "oversight_digest", _("Weekly oversight digest (HR and auditors)")


class ReminderSettings(models.Model):
    """One attendance group's reminders. A group without a row has the defaults
    (``ReminderSettings(group=group)``): everything on, 10 minutes before check-in, at
    check-out, the cut-off reminder 2 days before, the approver digest at 09:00, and no
    reminders between 22:00 and 07:00 in the group's time zone."""

    group = models.OneToOneField(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        on_delete=models.CASCADE,
        related_name="reminder_settings",
    )
    punch_in = models.BooleanField(_("remind before check-in"), default=True)
    punch_in_minutes = models.PositiveSmallIntegerField(
        _("minutes before check-in"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    punch_out = models.BooleanField(_("remind at check-out"), default=True)
    missed_punch = models.BooleanField(_("missed-punch alert the next day"), default=True)
    cutoff = models.BooleanField(_("remind before the last day to apply"), default=True)
    cutoff_days = models.PositiveSmallIntegerField(
        _("days before the last day to apply"),
        default=2,
        validators=[MinValueValidator(0), MaxValueValidator(15)],
    )
    digest = models.BooleanField(_("daily digest for approvers"), default=True)
    digest_time = models.TimeField(_("digest time"), default=time(9, 0))
    quiet = models.BooleanField(_("quiet hours"), default=True)
    quiet_start = models.TimeField(_("quiet from"), default=time(22, 0))
    quiet_end = models.TimeField(_("quiet until"), default=time(7, 0))
    # Which channels to a person each message kind uses, beyond the inbox (always):
    # ``{message kind: {channel code: bool}}``; a kind or channel not named here has the
    # channel's default (``notifications.channels``, docs/reminders.md "Channels").
    channels = models.JSONField(_("channels"), default=dict, blank=True)

    class Meta:
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return str(self.group)

    def is_quiet(self, local: time) -> bool:
        """Whether `local` (the group's wall-clock time) lies in the quiet hours."""
        if not self.quiet or self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def enabled(self, kind: str) -> bool:
        return bool(getattr(self, str(kind)))


class ReminderOptOut(models.Model):
    """A person switched one kind of reminder off for themselves."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_opt_outs"
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reminder opt-out")
        verbose_name_plural = _("reminder opt-outs")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="reminder_opt_out_unique")
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class ReminderSent(models.Model):
    """Remembers each reminder sent, so that each goes once: a punch reminder per
    (person, attendance date, slot), a cut-off reminder per (person, period start), a
    digest per (person, local date)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders_sent"
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    day = models.DateField()
    key = models.CharField(max_length=16, blank=True, default="")
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A punch reminder's slot, as the engine laid it out when it was sent (issue 14 item 7,
    # docs/analytics.md "Reminder sent → punched"): whom, in which group, and the slot's
    # window — a punch in [window_start, on_time_until) is on time (the check-in's grace,
    # ``engine.SlotWindow.on_time_until``; for a check-out its whole window), one in
    # [on_time_until, window_end) late. Empty on rows sent before they were recorded and
    # on the other kinds (cut-off, digest).
    employee = models.ForeignKey(
        "org.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        "org.AttendanceGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    window_start = models.DateTimeField(null=True, blank=True)
    on_time_until = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "day", "key"], name="reminder_sent_unique"
            )
        ]
        indexes = [models.Index(fields=["kind", "day"], name="reminder_sent_kind_day")]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.day} {self.key}"


# --- channels to a person (docs/reminders.md "Channels", docs/pwa.md "Web Push") ----------


class PushSubscription(models.Model):
    """One device's (browser's) Web Push subscription: where its push service takes
    messages for it and the keys to encrypt them with (RFC 8291). Removed when the person
    switches it off on the device, or when the push service answers 404/410 (gone)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
    )
    endpoint = models.URLField(_("push service address"), max_length=1000, unique=True)
    p256dh = models.CharField(_("device public key"), max_length=200)
    auth = models.CharField(_("device authentication secret"), max_length=100)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.user_id} {self.user_agent[:40]}"


class MessageLanguage(models.Model):
    """The language a person reads messages in outside the site (e-mail, Web Push): the
    one they last signed in with. Without a row, the company's language."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="message_language",
    )
    language = models.CharField(_("language"), max_length=10)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("message language")
        verbose_name_plural = _("message languages")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.user_id} {self.language}"


# The work apps' models live in their package (docs/work-apps.md).
from .workapps.models import CallbackNonce, WorkApp, WorkAppUser  # noqa: E402, F401
