"""Missed-punch corrections (补卡): policies, requests, their approval trail and proof.

A request moves only through ``services`` and only along ``TRANSITIONS``; every move is
an ``ApprovalAction`` row plus an audit event. The resulting punch is an ordinary
``Punch`` with source ``correction`` (punches are never edited).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ztk.approvals.models import (
    DEFAULT_DEADLINE_WORKING_DAYS,
    ApproverKind,
    RequestStatus,
    RoutedRequest,
    TrailEntry,
)
from ztk.core import uploads
from ztk.core.errors import DomainError

# --------------------------------------------------------------------------- policy


class ChainPreset(models.TextChoices):
    MULTI = "multi", _("Multi-level: supervisor, then HR (多级)")
    SINGLE = "single", _("Single-level: supervisor (单级)")
    FLAT = "flat", _("Flat: HR only (扁平)")
    CUSTOM = "custom", _("Custom steps")


class WindowMode(models.TextChoices):
    CALENDAR = "calendar", _("Calendar days")
    WORKING = "working", _("Working days")


class CorrectionPolicy(models.Model):
    """The correction rules of one attendance group (defaults from rules.md).

    A group without a row uses the defaults (``services.policy_row_for``). The attendance
    period's first day comes from the company (``Company.period_start_day``), which also
    shapes the stored attendance periods, so the two can never disagree.
    """

    group = models.OneToOneField(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        on_delete=models.CASCADE,
        related_name="correction_policy",
    )
    monthly_limit = models.PositiveSmallIntegerField(
        _("corrections per period"),
        default=3,
        help_text=_("Pending and approved requests count; HR may override with a reason."),
    )
    window_days = models.PositiveSmallIntegerField(
        _("days to apply"),
        default=3,
        validators=[MaxValueValidator(62)],
        help_text=_("A request is allowed up to this many days after the day it corrects."),
    )
    window_mode = models.CharField(
        _("count days as"), max_length=8, choices=WindowMode.choices, default=WindowMode.CALENDAR
    )
    cutoff_day = models.PositiveSmallIntegerField(
        _("cut-off day of the next period"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("When set, no request for a period after this day of the following period."),
    )
    correct_missing = models.BooleanField(_("missing punches may be corrected"), default=True)
    correct_late = models.BooleanField(_("late arrivals may be corrected"), default=False)
    correct_early = models.BooleanField(_("early leaves may be corrected"), default=False)
    min_reason_length = models.PositiveSmallIntegerField(
        _("minimum reason length"), default=5, validators=[MaxValueValidator(200)]
    )
    self_apply = models.BooleanField(
        _("employees may apply themselves"),
        default=True,
        help_text=_("When off, the supervisor or HR files requests on the employee's behalf."),
    )
    expedite_allowed = models.BooleanField(_("expedited requests (加急) allowed"), default=True)
    chain_preset = models.CharField(
        _("approval chain"), max_length=8, choices=ChainPreset.choices, default=ChainPreset.MULTI
    )
    manual_adds_count = models.BooleanField(
        _("HR manual adds count against the limit"), default=False
    )
    paper_counts = models.BooleanField(_("paper forms count against the limit"), default=True)

    class Meta:
        verbose_name = _("correction policy")
        verbose_name_plural = _("correction policies")

    def __str__(self) -> str:
        return str(self.group) if self.group_id else str(_("default correction policy"))

    @property
    def correctable(self) -> frozenset[str]:
        statuses = {
            "missing": self.correct_missing,
            "late": self.correct_late,
            "early": self.correct_early,
        }
        return frozenset(status for status, allowed in statuses.items() if allowed)


class ReasonCategory(models.Model):
    """A reason for a correction (忘记打卡, 设备故障 …): global, or of one policy."""

    policy = models.ForeignKey(
        CorrectionPolicy,
        verbose_name=_("policy"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="categories",
        help_text=_("Empty: offered to every attendance group."),
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=60)
    requires_attachment = models.BooleanField(_("requires an attachment"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reason category")
        verbose_name_plural = _("reason categories")
        ordering = ["order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "code"], name="correction_category_unique_per_policy"
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(policy__isnull=True),
                name="correction_category_unique_global",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalStepConfig(models.Model):
    """One step of a custom approval chain (used when the policy's chain is "custom")."""

    policy = models.ForeignKey(
        CorrectionPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("position"), validators=[MinValueValidator(1)])
    approver_kind = models.CharField(_("approver"), max_length=16, choices=ApproverKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Only for the approver kind 'a named user'."),
    )
    deadline_working_days = models.PositiveSmallIntegerField(
        _("deadline (working days)"),
        null=True,
        blank=True,
        help_text=_("Empty: 2 for a supervisor or department head, 1 for HR."),
    )

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "position"], name="correction_step_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_approver_kind_display()}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.approver_kind == ApproverKind.USER and self.user_id is None:
            raise ValidationError({"user": _("Choose the user who approves this step.")})

    @property
    def deadline(self) -> int:
        if self.deadline_working_days is not None:
            return self.deadline_working_days
        return DEFAULT_DEADLINE_WORKING_DAYS.get(ApproverKind(self.approver_kind), 2)


# --------------------------------------------------------------------------- requests


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    MOBILE = "mobile", _("Mobile")
    API = "api", _("API")
    PAPER = "paper", _("Paper form")


Status = RequestStatus  # the statuses every request type shares (approvals.models)


# The only moves a request may make; everything else is refused by `check_transition`.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset(
        {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN, Status.CANCELLED}
    ),
}
# Statuses that use up a place in the period's limit.
COUNTED_STATUSES = (Status.PENDING, Status.APPROVED)


def check_transition(current: str, new: str) -> None:
    """Refuse any move that TRANSITIONS does not list (e.g. approving a withdrawn request)."""
    if new not in TRANSITIONS.get(current, frozenset()):
        raise DomainError(
            "not_pending",
            _("This request is no longer pending (%(status)s); it cannot be changed.")
            % {"status": Status(current).label},
            details={"status": current, "requested": new},
        )


class CorrectionRequest(RoutedRequest):
    """One request to fill one slot of one employee-day (电子流转单)."""

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="correction_requests",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    on_behalf = models.BooleanField(_("filed on the employee's behalf"), default=False)
    date = models.DateField(_("date"))
    slot_key = models.CharField(_("slot"), max_length=8)
    slot_kind = models.CharField(_("slot kind"), max_length=4, blank=True)
    slot_expected = models.DateTimeField(_("scheduled time"), null=True, blank=True)
    requested_time = models.DateTimeField(_("requested time"))
    original_requested_time = models.DateTimeField(
        _("time first requested"),
        null=True,
        blank=True,
        help_text=_("Set when an approver adjusted the time."),
    )
    category = models.ForeignKey(
        ReasonCategory, verbose_name=_("reason category"), on_delete=models.PROTECT
    )
    reason = models.CharField(_("reason"), max_length=500)
    expedited = models.BooleanField(_("expedited (加急)"), default=False)
    expedite_justification = models.CharField(
        _("why expedited"), max_length=500, blank=True, default=""
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    current_approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("current approvers"),
        blank=True,
        related_name="corrections_to_approve",
    )
    resubmission_of = models.ForeignKey(
        "self",
        verbose_name=_("resubmission of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resubmissions",
    )
    period_start = models.DateField(_("attendance period"))
    counts_against_quota = models.BooleanField(_("counts against the limit"), default=True)
    quota_override_reason = models.CharField(
        _("limit override reason"), max_length=500, blank=True, default=""
    )
    punch = models.ForeignKey(
        "punches.Punch",
        verbose_name=_("correction punch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "date", "slot_key"],
                condition=Q(status="pending"),
                name="correction_one_pending_per_slot",
            ),
        ]
        indexes = [
            models.Index(fields=["employee", "period_start", "status"]),
            models.Index(fields=["status", "current_kind"]),
            models.Index(fields=["employee", "date"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.employee_id} {self.date} {self.slot_key} {self.status}"


class ApprovalAction(TrailEntry):
    """One entry of a request's trail: who did what at which step, and when."""

    request = models.ForeignKey(
        CorrectionRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="actions",
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    old_time = models.DateTimeField(_("old time"), null=True, blank=True)
    new_time = models.DateTimeField(_("new time"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval action")
        verbose_name_plural = _("approval actions")
        ordering = ["at", "pk"]


def attachment_path(instance: Attachment, filename: str) -> str:
    """A random stored name: the uploader's file name is kept only as data."""
    return uploads.stored_path(uploads.PROOF, instance.content_type)


class Attachment(models.Model):
    """Proof for a request (photo, scan); served only to people who may see the request."""

    request = models.ForeignKey(
        CorrectionRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class QuotaCounter(models.Model):
    """One row per employee and period, locked (SELECT … FOR UPDATE) while a submission
    counts the places used, so concurrent submissions can never exceed the limit."""

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.CASCADE, related_name="+"
    )
    period_start = models.DateField(_("attendance period"))
    used = models.PositiveSmallIntegerField(_("used"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("correction quota")
        verbose_name_plural = _("correction quotas")
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "period_start"], name="correction_quota_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.period_start}: {self.used}"


# --------------------------------------------------------------------------- paper forms


def paper_scan_path(instance: PaperForm, filename: str) -> str:
    """A random stored name (the form number and the uploader's name are data, not paths)."""
    return uploads.stored_path(uploads.SCAN, instance.scan_type)


class PaperForm(models.Model):
    """A signed paper missed-punch form (纸质《漏签申报表》) as HR registered it.

    Registering it records an approved correction request (channel ``paper``) and its
    punch; this row keeps the paper trail: the form's number, the leader who signed it and
    when, and the scanned copy (served only to HR, system admins and the employee).
    """

    form_no = models.CharField(_("form number"), max_length=40, unique=True)
    request = models.OneToOneField(
        CorrectionRequest,
        verbose_name=_("correction request"),
        on_delete=models.PROTECT,
        related_name="paper_form",
    )
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="paper_forms",
    )
    day = models.DateField(_("date"))
    slot_key = models.CharField(_("slot"), max_length=8)
    time = models.DateTimeField(_("time"))
    reason = models.CharField(_("reason"), max_length=500)
    signed_by = models.ForeignKey(
        "org.Employee",
        verbose_name=_("signed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signed_paper_forms",
    )
    signed_by_name = models.CharField(_("signer's name"), max_length=60)
    signed_on = models.DateField(_("signed on"))
    scan = models.FileField(_("scan"), upload_to=paper_scan_path, max_length=200)
    scan_name = models.CharField(_("file name"), max_length=200, blank=True, default="")
    scan_type = models.CharField(_("type"), max_length=40)
    scan_size = models.PositiveIntegerField(_("size (bytes)"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("paper form")
        verbose_name_plural = _("paper forms")
        ordering = ["-entered_at", "-pk"]
        indexes = [
            models.Index(fields=["employee", "day"]),
            models.Index(fields=["day"]),
            models.Index(fields=["signed_by_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.form_no} {self.employee_id} {self.day} {self.slot_key}"
