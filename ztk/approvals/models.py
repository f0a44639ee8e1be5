"""The vocabulary of the approval machinery: who a step names and what a trail records.

The request types keep their own tables (a request, its trail rows, its current
approvers); these choices are shared by all of them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ApproverKind(models.TextChoices):
    SUPERVISOR = "supervisor", _("Direct supervisor")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    HR = "hr", _("HR (any HR admin)")
    USER = "user", _("A named user")


DEFAULT_DEADLINE_WORKING_DAYS = {
    ApproverKind.SUPERVISOR: 2,
    ApproverKind.DEPARTMENT_HEAD: 2,
    ApproverKind.HR: 1,
    ApproverKind.USER: 2,
}


class ActionKind(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    COMMENT = "comment", _("Commented")
    TRANSFER = "transfer", _("Transferred")
    SKIP = "skip", _("Skipped")
    ADJUST_TIME = "adjust_time", _("Adjusted the time")
    WITHDRAW = "withdraw", _("Withdrawn")
    CANCEL = "cancel", _("Cancelled")
    REROUTE = "reroute", _("Re-routed")


class RequestStatus(models.TextChoices):
    """Where a request stands; every request type has these five (one owner)."""

    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CANCELLED = "cancelled", _("Cancelled")


class RoutedRequest(models.Model):
    """What every request decided on an approval chain carries: its status, the chain
    resolved when it was filed, the step it waits on and since when, and who decided it.
    The request types (corrections, absences, overtime) inherit these columns; each keeps
    its own table, its own current approvers (their reverse names differ) and its own
    content."""

    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    current_step = models.PositiveSmallIntegerField(_("current step"), null=True, blank=True)
    current_kind = models.CharField(_("current approver kind"), max_length=16, blank=True)
    chain = models.JSONField(_("approval chain"), default=list, blank=True)
    step_started_at = models.DateTimeField(_("current step since"), null=True, blank=True)
    overdue_notified_step = models.PositiveSmallIntegerField(null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING

    def step(self, position: int | None = None) -> dict[str, Any] | None:
        """The chain's step at `position` (default: the current one), or None."""
        position = self.current_step if position is None else position
        for step in self.chain:
            if step.get("position") == position:
                return step
        return None


class TrailEntry(models.Model):
    """One entry of a request's trail: who did what at which step, and when. Each request
    type's trail table inherits these columns and adds its request and its own details."""

    step = models.PositiveSmallIntegerField(_("step"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=12, choices=ActionKind.choices)
    comment = models.CharField(_("comment"), max_length=1000, blank=True, default="")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.action} {self.step or ''}".strip()  # type: ignore[attr-defined]


class Delegation(models.Model):
    """While an approver is away, the delegate may act on their steps (start–end inclusive)."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.CASCADE,
        related_name="delegations_given",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegate"),
        on_delete=models.CASCADE,
        related_name="delegations_received",
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "corrections_delegation"  # moved from corrections: the table stays
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="correction_delegation_dates"
            ),
            models.CheckConstraint(
                condition=~Q(approver=models.F("delegate")), name="correction_delegation_other"
            ),
        ]
        indexes = [models.Index(fields=["delegate", "start", "end"])]

    def __str__(self) -> str:
        return f"{self.approver} → {self.delegate} ({self.start}–{self.end})"
