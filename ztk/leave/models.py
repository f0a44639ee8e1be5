"""Leave (请假), outings (外出) and business trips (出差): types, balances, requests.

- ``LeaveType``: HR's catalogue (annual, sick, 调休 …): paid or not, the unit it is taken
  in, proof and notice rules, whether a balance is kept and may go negative, and the
  accrual rules the periodic task applies.
- ``BalanceAccount`` + ``LedgerEntry``: one account row per employee and balance-tracked
  type (the row a deduction locks, ``SELECT … FOR UPDATE``) and one ledger row per
  movement (opening, grant, accrual, carry-over, expiry, deduction, restoration, overtime
  credit, adjustment) with the source it came from. The account's ``balance`` is always
  the sum of its ledger (``services.ledger_credit`` writes both in one transaction).
- ``AbsencePolicy``: per attendance group, the approval chain and whether outings and
  trips exempt the covered slots or expect field punches.
- ``AbsenceRequest``: one request (leave, outing, trip), or the cancellation (销假/撤销)
  of an approved one — a request of its own, on the same approval machinery.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ztk.approvals.models import RequestStatus, RoutedRequest, TrailEntry
from ztk.core import uploads

# --------------------------------------------------------------------------- types


class Unit(models.TextChoices):
    DAY = "day", _("Whole days")
    HALF_DAY = "half_day", _("Half days")
    HOUR = "hour", _("Hours")


class LeaveType(models.Model):
    """A kind of leave HR offers. Amounts of a day or half-day type are days; of an hour
    type, hours (the balance and every ledger row use the same unit)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=60)
    paid = models.BooleanField(_("paid"), default=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.DAY)
    attachment_required = models.BooleanField(_("proof required"), default=False)
    min_notice_days = models.PositiveSmallIntegerField(
        _("minimum notice (days)"),
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_("0: may be requested on the day, or after the fact."),
    )
    balance_tracked = models.BooleanField(_("keeps a balance"), default=False)
    allow_negative = models.BooleanField(_("balance may go negative"), default=False)
    yearly_grant = models.DecimalField(
        _("granted each year"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Credited on 1 January (in the type's unit). 0: none."),
    )
    monthly_accrual = models.DecimalField(
        _("accrued each month"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Credited on the first of each month (in the type's unit). 0: none."),
    )
    carry_over_max = models.DecimalField(
        _("carried over at most"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("At the year end, what is left up to this much moves to the new year. "
                    "Empty: everything carries over (no year-end step)."),
    )  # fmt: skip
    carry_over_expiry_months = models.PositiveSmallIntegerField(
        _("carried-over balance expires after (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text=_("What was carried over and not used by then expires. Empty: never."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("leave type")
        verbose_name_plural = _("leave types")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language (Chinese unless the page is in English)."""
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def in_hours(self) -> bool:
        return self.unit == Unit.HOUR


# --------------------------------------------------------------------------- balances


class Movement(models.TextChoices):
    OPENING = "opening", _("Opening balance")
    GRANT = "grant", _("Yearly grant")
    ACCRUAL = "accrual", _("Monthly accrual")
    CARRY_OVER = "carry_over", _("Carried over")
    EXPIRY = "expiry", _("Expired")
    DEDUCTION = "deduction", _("Taken (approved leave)")
    RESTORATION = "restoration", _("Restored (leave cancelled)")
    OVERTIME_CREDIT = "overtime_credit", _("Overtime credited as time off")
    ADJUSTMENT = "adjustment", _("Adjusted by HR")


class BalanceAccount(models.Model):
    """The running balance of one employee for one type: the row every movement locks."""

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="leave_accounts",
    )
    leave_type = models.ForeignKey(
        LeaveType, verbose_name=_("leave type"), on_delete=models.PROTECT, related_name="+"
    )
    balance = models.DecimalField(
        _("balance"), max_digits=9, decimal_places=2, default=Decimal("0")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("leave balance")
        verbose_name_plural = _("leave balances")
        constraints = [
            models.UniqueConstraint(fields=["employee", "leave_type"], name="leave_account_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.leave_type_id}: {self.balance}"


class LedgerEntry(models.Model):
    """One movement of a balance (signed amount, in the type's unit)."""

    account = models.ForeignKey(
        BalanceAccount, verbose_name=_("balance"), on_delete=models.CASCADE, related_name="entries"
    )
    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.CASCADE, related_name="+"
    )
    leave_type = models.ForeignKey(
        LeaveType, verbose_name=_("leave type"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("movement"), max_length=16, choices=Movement.choices)
    amount = models.DecimalField(_("amount"), max_digits=9, decimal_places=2)
    balance_after = models.DecimalField(_("balance after"), max_digits=9, decimal_places=2)
    effective = models.DateField(_("effective"))
    # Where it came from: "request:12", "overtime:7", "accrual:2026-03", "import:…". Unique
    # per account when set, so crediting the same source twice is a no-op (idempotent).
    source = models.CharField(_("source"), max_length=64, blank=True, default="")
    expires = models.DateField(_("expires"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["effective", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "source"],
                condition=~Q(source=""),
                name="leave_ledger_source_once",
            ),
        ]
        indexes = [models.Index(fields=["employee", "leave_type", "effective"])]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.kind} {self.amount} ({self.effective})"


# --------------------------------------------------------------------------- policy


class ChainPreset(models.TextChoices):
    MULTI = "multi", _("Multi-level: supervisor, then HR (多级)")
    SINGLE = "single", _("Single-level: supervisor (单级)")
    FLAT = "flat", _("Flat: HR only (扁平)")


class FieldMode(models.TextChoices):
    EXEMPT = "exempt", _("The covered slots are exempt")
    FIELD_PUNCHES = "field", _("Field punches are expected (外勤打卡)")


class AbsencePolicy(models.Model):
    """The absence rules of one attendance group; a group without a row uses the defaults."""

    group = models.OneToOneField(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        on_delete=models.CASCADE,
        related_name="absence_policy",
    )
    chain_preset = models.CharField(
        _("approval chain"), max_length=8, choices=ChainPreset.choices, default=ChainPreset.MULTI
    )
    outing_mode = models.CharField(
        _("outings (外出)"), max_length=8, choices=FieldMode.choices, default=FieldMode.EXEMPT
    )
    trip_mode = models.CharField(
        _("business trips (出差)"), max_length=8, choices=FieldMode.choices,
        default=FieldMode.EXEMPT,
    )  # fmt: skip
    self_apply = models.BooleanField(_("employees may apply themselves"), default=True)

    class Meta:
        verbose_name = _("absence policy")
        verbose_name_plural = _("absence policies")

    def __str__(self) -> str:
        return str(self.group) if self.group_id else str(_("default absence policy"))


# --------------------------------------------------------------------------- requests


class Kind(models.TextChoices):
    LEAVE = "leave", _("Leave (请假)")
    OUTING = "outing", _("Outing (外出)")
    TRIP = "trip", _("Business trip (出差)")


Status = RequestStatus  # the statuses every request type shares (approvals.models)


class Part(models.TextChoices):
    """Which part of a day a half-day request starts or ends with."""

    FULL = "full", _("Whole day")
    AM = "am", _("Morning")
    PM = "pm", _("Afternoon")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")


# Statuses that hold their days (no second request may overlap them).
HOLDING = ("pending", "approved")


class AbsenceRequest(RoutedRequest):
    """One request for leave, an outing or a trip — or (``cancels`` set) the request to
    cancel an approved one (销假/撤销), decided on the same chain."""

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="absence_requests",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    on_behalf = models.BooleanField(_("filed on the employee's behalf"), default=False)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    leave_type = models.ForeignKey(
        LeaveType,
        verbose_name=_("leave type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    # The local range asked for: dates for day units (with a part for half days), exact
    # times for hours, outings and trips given by the hour.
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    start_part = models.CharField(
        _("starting with"), max_length=4, choices=Part.choices, default=Part.FULL
    )
    end_part = models.CharField(_("ending with"), max_length=4, choices=Part.choices,
                                default=Part.FULL)  # fmt: skip
    start_at = models.DateTimeField(_("from (time)"), null=True, blank=True)
    end_at = models.DateTimeField(_("until (time)"), null=True, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=7, decimal_places=2, default=Decimal("0"),
        help_text=_("Days, or hours for a type counted in hours."),
    )  # fmt: skip
    # The exemption intervals the request becomes: [[start ISO, end ISO, date ISO], …].
    intervals = models.JSONField(_("covered times"), default=list, blank=True)
    destination = models.CharField(_("destination"), max_length=120, blank=True, default="")
    purpose = models.CharField(_("purpose"), max_length=300, blank=True, default="")
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")
    cancels = models.ForeignKey(
        "self",
        verbose_name=_("cancels"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cancellations",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices,
                               default=Channel.WEB)  # fmt: skip
    current_approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("current approvers"),
        blank=True,
        related_name="absences_to_approve",
    )
    exemptions = models.ManyToManyField(
        "scheduling.Exemption", verbose_name=_("exemptions"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("absence request")
        verbose_name_plural = _("absence requests")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["employee", "start_date", "end_date"]),
            models.Index(fields=["status", "current_kind"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.employee_id} {self.kind} {self.start_date} {self.status}"

    @property
    def is_cancellation(self) -> bool:
        return self.cancels_id is not None


class AbsenceAction(TrailEntry):
    """One entry of an absence request's trail."""

    request = models.ForeignKey(
        AbsenceRequest, verbose_name=_("request"), on_delete=models.CASCADE,
        related_name="actions",
    )  # fmt: skip
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("absence action")
        verbose_name_plural = _("absence actions")
        ordering = ["at", "pk"]


def attachment_path(instance: AbsenceAttachment, filename: str) -> str:
    return uploads.stored_path(uploads.PROOF, instance.content_type)


class AbsenceAttachment(models.Model):
    """Proof for a request (a doctor's note); served only to people who may see it."""

    request = models.ForeignKey(
        AbsenceRequest, verbose_name=_("request"), on_delete=models.CASCADE,
        related_name="attachments",
    )  # fmt: skip
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name
