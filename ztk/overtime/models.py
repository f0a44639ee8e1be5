"""Overtime (加班): each group's overtime policy, requests and their approval trail.

A request moves only through ``services`` and only along ``TRANSITIONS``; every move is
an ``OvertimeAction`` row plus an audit event. What the day counts is computed by the
engine at recompute (``engine.compute_overtime``) from the punches, the group's policy
and the approved requests' spans (``attendance.overtime_inputs``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ztk.approvals.models import RequestStatus, RoutedRequest, TrailEntry
from ztk.core.errors import DomainError


class ChainPreset(models.TextChoices):
    MULTI = "multi", _("Multi-level: supervisor, then HR (多级)")
    SINGLE = "single", _("Single-level: supervisor (单级)")
    FLAT = "flat", _("Flat: HR only (扁平)")


class OvertimePolicy(models.Model):
    """The overtime rules of one attendance group; a group without a row has the defaults
    (``selectors.policy_for``: 30-minute minimum, 30-minute unit, a request needed)."""

    group = models.OneToOneField(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        on_delete=models.CASCADE,
        related_name="overtime_policy",
    )
    min_block_minutes = models.PositiveSmallIntegerField(
        _("minimum overtime block (minutes)"),
        default=30,
        validators=[MaxValueValidator(1440)],
        help_text=_("A stretch of overtime shorter than this does not count."),
    )
    unit_minutes = models.PositiveSmallIntegerField(
        _("rounding unit (minutes)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_("Each stretch is rounded down to a multiple of this."),
    )
    needs_request = models.BooleanField(
        _("overtime counts only when requested and approved"),
        default=True,
        help_text=_("When off, computed overtime counts without a request."),
    )
    chain_preset = models.CharField(
        _("approval chain"), max_length=8, choices=ChainPreset.choices, default=ChainPreset.MULTI
    )

    class Meta:
        verbose_name = _("overtime policy")
        verbose_name_plural = _("overtime policies")

    def __str__(self) -> str:
        return str(self.group)


class Compensation(models.TextChoices):
    PAY = "pay", _("Paid")
    TIME_OFF = "time_off", _("Time off in lieu (调休)")


Status = RequestStatus  # the statuses every request type shares (approvals.models)


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset(
        {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN, Status.CANCELLED}
    ),
    Status.APPROVED: frozenset({Status.CANCELLED}),
}
# Requests that hold their span: a new request may not overlap them.
HOLDING = (Status.PENDING, Status.APPROVED)


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, frozenset()):
        raise DomainError(
            "not_pending",
            _("This request can no longer be changed (%(status)s).")
            % {"status": Status(current).label},
            details={"status": current, "requested": new},
        )


class OvertimeRequest(RoutedRequest):
    """One request to work (or to have worked) overtime over [start, end) on one
    attendance date, before or after the fact (加班申请) — or (``cancels`` set) the request
    to cancel an approved one (撤销), decided on the same chain. A cancellation copies the
    span of what it cancels but never counts: every read of "approved overtime" filters
    ``cancels__isnull=True``."""

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="overtime_requests",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    on_behalf = models.BooleanField(_("filed on the employee's behalf"), default=False)
    date = models.DateField(_("date"))
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    minutes = models.PositiveIntegerField(_("requested minutes"))
    kind = models.CharField(_("category"), max_length=8)  # weekday | rest | holiday
    compensation = models.CharField(
        _("compensation"), max_length=8, choices=Compensation.choices, default=Compensation.PAY
    )
    reason = models.CharField(_("reason"), max_length=500)
    cancels = models.ForeignKey(
        "self",
        verbose_name=_("cancels"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cancellations",
        help_text=_("Set on a request to cancel an approved overtime (撤销), itself approved."),
    )
    channel = models.CharField(_("channel"), max_length=8, default="web")
    current_approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("current approvers"),
        blank=True,
        related_name="overtime_to_approve",
    )
    credited_minutes = models.PositiveIntegerField(
        _("minutes credited as time off"),
        default=0,
        help_text=_("Set when approved overtime was converted to 调休 balance."),
    )
    settled_at = models.DateTimeField(
        _("time off settled at"),
        null=True,
        blank=True,
        help_text=_("When the day's counted overtime was converted (time off in lieu only)."),
    )

    class Meta:
        verbose_name = _("overtime request")
        verbose_name_plural = _("overtime requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="overtime_span"),
        ]
        indexes = [
            models.Index(fields=["employee", "date", "status"]),
            models.Index(fields=["status", "current_kind"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.employee_id} {self.date} {self.status}"

    @property
    def is_cancellation(self) -> bool:
        return self.cancels_id is not None


class OvertimeAction(TrailEntry):
    """One entry of an overtime request's trail."""

    request = models.ForeignKey(
        OvertimeRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="actions"
    )

    class Meta:
        verbose_name = _("overtime approval action")
        verbose_name_plural = _("overtime approval actions")
        ordering = ["at", "pk"]
