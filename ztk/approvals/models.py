"""The vocabulary of the approval machinery: who a step names and what a trail records.

The request types keep their own tables (a request, its trail rows, its current
approvers); these choices are shared by all of them.
"""

from __future__ import annotations

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
