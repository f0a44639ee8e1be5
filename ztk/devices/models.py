"""Terminals (ZKTeco push and pull), the commands we queue for them, held punches and logs.

A punch from a terminal never disappears: it becomes a `Punch` (through
`punches.services.record_punches`), or a `HeldPunch` waiting for a decision (pending
terminal, unknown PIN), or a `DeviceLog` line saying why it was refused.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Serial numbers seen in the field are letters and digits (e.g. "CGXH201260001"); a little
# slack for '-' and '_' but nothing that could smuggle a line break into an answer.
SERIAL_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
serial_validator = RegexValidator(SERIAL_PATTERN, _("Use 1–64 letters, digits, '_' or '-'."))

# How a held local time is stored: sortable text, because it has no zone until released.
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def validate_time_zone(value: str) -> None:
    if not value:
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(value)s” is not a time zone name such as Asia/Shanghai."),
            params={"value": value},
        ) from None


class DeviceStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    DISABLED = "disabled", _("Disabled")


class Device(models.Model):
    """One terminal, known by its serial number; it counts punches only once approved."""

    serial = models.CharField(
        _("serial number"), max_length=64, unique=True, validators=[serial_validator]
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.PENDING
    )
    attendance_group = models.ForeignKey(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="devices",
        help_text=_("The terminal's clock is read in this group's time zone."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Only when it differs from the attendance group's, e.g. Asia/Urumqi."),
    )
    ip = models.CharField(_("IP address"), max_length=64, blank=True)
    # The address group (IPv4 address or IPv6 /64) of the first contact: what the limits
    # on pending terminals per source count (see docs/architecture.md, "Terminals").
    registered_from = models.CharField(_("first seen from"), max_length=64, blank=True)
    allowed_networks = models.JSONField(
        _("allowed source addresses"),
        default=list,
        blank=True,
        help_text=_("CIDR networks this terminal may connect from; empty: any address."),
    )
    firmware = models.CharField(_("firmware"), max_length=120, blank=True)
    push_version = models.CharField(_("push protocol version"), max_length=20, blank=True)
    options = models.JSONField(_("reported options"), default=dict, blank=True)
    user_count = models.IntegerField(_("users"), null=True, blank=True)
    fp_count = models.IntegerField(_("fingerprints"), null=True, blank=True)
    log_count = models.IntegerField(_("punch records"), null=True, blank=True)
    # Opaque stamps handed back at the handshake so the terminal resumes where it left.
    attlog_stamp = models.CharField(_("ATTLOG stamp"), max_length=64, blank=True)
    operlog_stamp = models.CharField(_("OPERLOG stamp"), max_length=64, blank=True)
    attphoto_stamp = models.CharField(_("ATTPHOTO stamp"), max_length=64, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_upload = models.DateTimeField(_("last upload"), null=True, blank=True)
    # Terminal clock minus server clock, in seconds, when a reading was possible.
    clock_drift = models.IntegerField(_("clock drift (seconds)"), null=True, blank=True)
    clock_checked_at = models.DateTimeField(_("clock checked at"), null=True, blank=True)
    # Pull over TCP/UDP 4370 (pyzk), for terminals that cannot push.
    pull_enabled = models.BooleanField(_("pull over the network"), default=False)
    pull_host = models.CharField(_("pull address"), max_length=255, blank=True)
    pull_port = models.PositiveIntegerField(_("pull port"), default=4370)
    pull_password = models.PositiveIntegerField(_("communication password"), default=0)
    pull_udp = models.BooleanField(_("pull over UDP"), default=False)
    pull_watermark = models.DateTimeField(
        _("last pulled record"),
        null=True,
        blank=True,
        help_text=_("Records before this time are skipped on the next pull."),
    )
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        ordering = ["serial"]
        indexes = [models.Index(fields=["status", "registered_from"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})" if self.name else self.serial

    @property
    def time_zone_name(self) -> str:
        if self.time_zone:
            return self.time_zone
        group = self.attendance_group if self.attendance_group_id else None
        if group is not None and group.time_zone:
            return group.time_zone
        return settings.TIME_ZONE

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone_name)

    def utc_offset_hours(self, at: datetime) -> float:
        offset = at.astimezone(self.zone).utcoffset()
        return offset.total_seconds() / 3600 if offset is not None else 0.0

    @property
    def group_networks(self) -> list[str]:
        """The attendance group's allow-list (empty when the group has none)."""
        group = self.attendance_group if self.attendance_group_id else None
        if group is None:
            return []
        try:
            return list(group.terminal_allow_list.networks)
        except GroupAllowList.DoesNotExist:
            return []

    def stamps(self) -> dict[str, str]:
        return {
            "ATTLOG": self.attlog_stamp,
            "OPERLOG": self.operlog_stamp,
            "ATTPHOTO": self.attphoto_stamp,
        }


class CommandStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent, waiting for the answer")
    DONE = "done", _("Answered: OK")
    FAILED = "failed", _("Answered: failed")
    EXPIRED = "expired", _("Expired unanswered")


# A command in one of these states is finished: an answer or the expiry was recorded.
FINISHED_COMMAND_STATES = (CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.EXPIRED)


class DeviceCommand(models.Model):
    """A command for a terminal: handed out on its next getrequest, answered via devicecmd.

    The row is the whole state (nothing is kept in memory), so a restart loses nothing:
    queued → sent (attempts + 1) → answered OK / failed; a command sent but unanswered
    for the timeout is handed out again on the next poll, up to the attempt limit, then
    expires (docs/terminals.md, "Command lifecycle").
    """

    device = models.ForeignKey(
        Device, verbose_name=_("terminal"), on_delete=models.CASCADE, related_name="commands"
    )
    command = models.CharField(_("command"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=8, choices=CommandStatus.choices, default=CommandStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    return_code = models.IntegerField(_("return code"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    done_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("queued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Commands queued by the people/template sync: what they are about ("user:<employee>",
    # "tmpl:<employee>:<kind>:<index>"), so a newer one replaces a still-queued older one.
    sync_key = models.CharField(_("sync subject"), max_length=64, blank=True)
    # A template command names its template; the template bytes are decrypted and added
    # only when the command is handed out, so no template is ever stored in clear here.
    template = models.ForeignKey(
        "BiometricTemplate",
        verbose_name=_("biometric template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("terminal command")
        verbose_name_plural = _("terminal commands")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["device", "status"]),
            models.Index(fields=["device", "sync_key", "status"]),
        ]

    def __str__(self) -> str:
        return f"C:{self.pk}:{self.command}"

    @property
    def answer_text(self) -> str:
        """What the terminal answered besides the return code, as `key=value` text."""
        result = self.result or {}
        return " ".join(
            f"{k}={v}" if v != "" else str(k) for k, v in result.items() if k != "cmd" and (v or k)
        )


class HoldReason(models.TextChoices):
    PENDING_DEVICE = "pending_device", _("Terminal not approved yet")
    UNKNOWN_PIN = "unknown_pin", _("No employee has this PIN")


class HeldPunch(models.Model):
    """A terminal punch that cannot count yet; released by approval or by HR's assignment."""

    device = models.ForeignKey(
        Device, verbose_name=_("terminal"), on_delete=models.PROTECT, related_name="held_punches"
    )
    device_sn = models.CharField(_("terminal serial number"), max_length=64)
    pin = models.CharField(_("terminal PIN"), max_length=24)
    local_time = models.CharField(
        _("terminal local time"), max_length=19, help_text=_("YYYY-MM-DD HH:MM:SS, no zone")
    )
    at = models.DateTimeField(_("time (in the terminal's zone when received)"))
    punch_state = models.SmallIntegerField(_("punch state"), null=True, blank=True)
    verify_mode = models.SmallIntegerField(_("verify mode"), null=True, blank=True)
    work_code = models.CharField(_("work code"), max_length=24, blank=True)
    raw = models.CharField(_("raw line"), max_length=1024, blank=True)
    channel = models.CharField(_("channel"), max_length=8, default="push")
    reason = models.CharField(_("reason"), max_length=16, choices=HoldReason.choices)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("outcome"), max_length=300, blank=True)
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("assigned employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    punch = models.ForeignKey(
        "punches.Punch",
        verbose_name=_("resulting punch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("held punch")
        verbose_name_plural = _("held punches")
        ordering = ["device_sn", "pin", "local_time"]
        constraints = [
            # A terminal re-sending a batch must not hold the same punch twice.
            models.UniqueConstraint(
                fields=["device_sn", "pin", "local_time"], name="devices_heldpunch_once"
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "reason"])]

    def __str__(self) -> str:
        return f"{self.device_sn} PIN {self.pin} {self.local_time}"

    @property
    def local_datetime(self) -> datetime:
        return datetime.strptime(self.local_time, LOCAL_TIME_FORMAT)


class LogKind(models.TextChoices):
    REJECTED_LINE = "rejected_line", _("Line refused")
    REFUSED = "refused", _("Upload refused")
    OPERLOG = "operlog", _("Operation log")
    USER = "user", _("User record on the terminal")
    PHOTO = "photo", _("Punch photo")
    COMMAND = "command", _("Command result")
    INFO = "info", _("Information")
    ERROR = "error", _("Problem")


class DeviceLog(models.Model):
    """What a terminal sent that we did not turn into punches, and why."""

    device = models.ForeignKey(
        Device,
        verbose_name=_("terminal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="logs",
    )
    device_sn = models.CharField(_("terminal serial number"), max_length=64, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=LogKind.choices)
    table = models.CharField(_("table"), max_length=16, blank=True)
    code = models.CharField(_("code"), max_length=40, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    line_no = models.PositiveIntegerField(_("line number"), null=True, blank=True)
    raw = models.TextField(_("raw data"), blank=True)

    class Meta:
        verbose_name = _("terminal log entry")
        verbose_name_plural = _("terminal log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["device", "kind"])]

    def __str__(self) -> str:
        return f"{self.device_sn} {self.kind} {self.code}"


class GroupAllowList(models.Model):
    """The source addresses every terminal of an attendance group must connect from."""

    group = models.OneToOneField(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        on_delete=models.CASCADE,
        related_name="terminal_allow_list",
    )
    networks = models.JSONField(_("allowed source addresses"), default=list, blank=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("terminal address allow-list")
        verbose_name_plural = _("terminal address allow-lists")

    def __str__(self) -> str:
        return f"{self.group}: {', '.join(self.networks) or '-'}"


class DevicePhoto(models.Model):
    """A punch photo a terminal uploaded: a checked image under a random name, never public.

    The file lives in the private photo storage (`ztk.devices.photos`); only the
    permission-checked view reads it. `pin` and `local_time` come from the photo's name
    (`YYYYMMDDHHMMSS-PIN.jpg`) and link it to its punch.
    """

    device = models.ForeignKey(
        Device, verbose_name=_("terminal"), on_delete=models.PROTECT, related_name="photos"
    )
    file = models.CharField(_("stored file"), max_length=200, unique=True)
    size = models.PositiveIntegerField(_("bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content_type = models.CharField(_("content type"), max_length=32)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    name = models.CharField(_("name sent by the terminal"), max_length=120, blank=True)
    pin = models.CharField(_("terminal PIN"), max_length=24, blank=True)
    local_time = models.CharField(_("terminal local time"), max_length=19, blank=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    punch = models.ForeignKey(
        "punches.Punch",
        verbose_name=_("punch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("punch photo")
        verbose_name_plural = _("punch photos")
        ordering = ["-received_at", "-id"]
        constraints = [
            # A terminal re-sending a photo must not store it twice.
            models.UniqueConstraint(fields=["device", "sha256"], name="devices_photo_once")
        ]
        indexes = [models.Index(fields=["device", "pin", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.device_id} {self.name or self.file}"


class TerminalPin(models.Model):
    """A lasting PIN ↔ employee mapping on one terminal or on every terminal of a group.

    PINs need not equal employee numbers: when a mapping exists for a punch's PIN (the
    terminal's own first, then its attendance group's), the punch counts for the mapped
    employee; without one the PIN is read as the employee number.
    """

    pin = models.CharField(_("terminal PIN"), max_length=24)
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="terminal_pins",
    )
    device = models.ForeignKey(
        Device,
        verbose_name=_("terminal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pins",
    )
    group = models.ForeignKey(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="terminal_pins",
    )
    card = models.CharField(
        _("card number"),
        max_length=24,
        blank=True,
        help_text=_("Sent to the terminals with the PIN; empty: no card."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("terminal PIN")
        verbose_name_plural = _("terminal PINs")
        ordering = ["pin"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(device__isnull=False, group__isnull=True)
                    | models.Q(device__isnull=True, group__isnull=False)
                ),
                name="devices_terminalpin_one_scope",
            ),
            models.UniqueConstraint(
                fields=["device", "pin"],
                condition=models.Q(device__isnull=False),
                name="devices_terminalpin_device_pin",
            ),
            models.UniqueConstraint(
                fields=["group", "pin"],
                condition=models.Q(group__isnull=False),
                name="devices_terminalpin_group_pin",
            ),
        ]

    def __str__(self) -> str:
        return f"PIN {self.pin} → {self.employee_id}"


class TemplateKind(models.TextChoices):
    FINGER = "finger", _("Fingerprint")
    FACE = "face", _("Face")
    PALM = "palm", _("Palm")


class BiometricTemplate(models.Model):
    """One biometric template of an employee (a finger, the face, a palm), encrypted.

    Sensitive personal information (PIPL): `ciphertext` is AES-GCM under a key kept outside
    the database (`ztk.devices.biokey`); nothing shows or exports the bytes. It exists so
    that enrolling once on one terminal works on every terminal of the employee's group;
    it is purged when the employee leaves or withdraws consent (docs/terminals.md).
    """

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="biometric_templates",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=TemplateKind.choices)
    index = models.PositiveSmallIntegerField(
        _("number"), default=0, help_text=_("Finger number 0–9; 0 for a face.")
    )
    format = models.CharField(_("format"), max_length=24, blank=True)
    version = models.CharField(_("algorithm version"), max_length=24, blank=True)
    size = models.PositiveIntegerField(_("bytes"))
    valid = models.SmallIntegerField(_("valid flag"), default=1)
    source_device = models.ForeignKey(
        Device,
        verbose_name=_("enrolled on"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ciphertext = models.BinaryField(_("encrypted template"), editable=False)
    digest = models.CharField(_("keyed digest"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("stored at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("biometric template")
        verbose_name_plural = _("biometric templates")
        ordering = ["employee_id", "kind", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "kind", "index"], name="devices_template_once"
            )
        ]

    def __str__(self) -> str:  # never the bytes
        return f"{self.employee_id} {self.kind} {self.index}"

    @property
    def crypto_context(self) -> str:
        return f"{self.employee_id}:{self.kind}:{self.index}"


class TerminalUser(models.Model):
    """What we last told a terminal about an employee: the PIN, name and card sent with
    `DATA UPDATE USERINFO`, and the templates sent (kind:index → keyed digest). The sync
    compares the wanted state with this row, so running it twice queues nothing new."""

    device = models.ForeignKey(
        Device, verbose_name=_("terminal"), on_delete=models.CASCADE, related_name="users"
    )
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="terminal_users",
    )
    pin = models.CharField(_("terminal PIN"), max_length=24)
    name = models.CharField(_("name"), max_length=60, blank=True)
    card = models.CharField(_("card number"), max_length=24, blank=True)
    templates = models.JSONField(_("templates sent"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("user on a terminal")
        verbose_name_plural = _("users on terminals")
        ordering = ["device_id", "pin"]
        constraints = [
            models.UniqueConstraint(fields=["device", "employee"], name="devices_terminaluser_once")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} PIN {self.pin}"


class BiometricOptOut(models.Model):
    """An employee withdrew consent to biometric processing: templates were purged and
    uploads of new ones are refused until HR records consent again."""

    employee = models.OneToOneField(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="biometric_opt_out",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), auto_now_add=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("biometric consent withdrawal")
        verbose_name_plural = _("biometric consent withdrawals")

    def __str__(self) -> str:
        return f"{self.employee_id}"
