"""Oversight findings (定期审计异常数据) and the thresholds HR sets for them.

A :class:`Finding` is stored by the nightly run (``services.findings_run``); its ``key``
is unique per rule + subject + period, so a rerun updates the numbers and the evidence of
the finding it found before instead of adding another. Its state moves once: open →
acknowledged or dismissed, with a note, by whom and when (audited).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import checks


class Rule(models.TextChoices):
    FREQUENT_CORRECTOR = checks.FREQUENT_CORRECTOR, _("Frequent corrector")
    RUBBER_STAMP = checks.RUBBER_STAMP, _("Rubber-stamp approver")
    CUTOFF_CLUSTER = checks.CUTOFF_CLUSTER, _("Requests just before the cut-off")
    REPEATED_REASON = checks.REPEATED_REASON, _("Repeated reason")
    BUDDY_PUNCH = checks.BUDDY_PUNCH, _("Buddy punching (代打卡)")
    HR_ACTIVITY = checks.HR_ACTIVITY, _("HR activity")
    OUTSIDE_FENCE = checks.OUTSIDE_FENCE, _("Punches outside every punch area")
    IMPLAUSIBLE_JUMP = checks.IMPLAUSIBLE_JUMP, _("Implausible jump between punches")
    NEW_DEVICE = checks.NEW_DEVICE, _("Punches from a new device")


class Severity(models.TextChoices):
    LOW = checks.LOW, _("Low")
    MEDIUM = checks.MEDIUM, _("Medium")
    HIGH = checks.HIGH, _("High")


SEVERITY_ORDER = {checks.HIGH: 0, checks.MEDIUM: 1, checks.LOW: 2}


class State(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding state", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISMISSED = "dismissed", _("Dismissed")


class Finding(models.Model):
    rule = models.CharField(_("rule"), max_length=24, choices=Rule.choices)
    key = models.CharField(_("key"), max_length=120, unique=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    other_employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("other employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    params = models.JSONField(_("figures"), default=dict, blank=True)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    first_found_at = models.DateTimeField(_("first found"))
    last_found_at = models.DateTimeField(_("last found"))

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-period_start", "-pk"]
        indexes = [
            models.Index(fields=["state", "rule"]),
            models.Index(fields=["rule", "period_start"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.period_start} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state == State.OPEN


def _count(default: int, label: Any, high: int = 100_000) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        label, default=default, validators=[MinValueValidator(0), MaxValueValidator(high)]
    )


def _share(default: float, label: Any) -> models.FloatField:
    return models.FloatField(
        label, default=default, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )


class FindingThresholds(models.Model):
    """One row (id 1): the limits of every rule; HR edits them, the defaults are
    ``checks.Limits``'. A count of 0 switches that check off where the docs say so."""

    defaults = checks.Limits()

    corrector_percentile = models.PositiveSmallIntegerField(
        _("frequent correctors: percentile of the group"),
        default=defaults.corrector_percentile,
        validators=[MinValueValidator(50), MaxValueValidator(100)],
    )
    corrector_min_count = _count(
        defaults.corrector_min_count, _("frequent correctors: at least this many corrections")
    )
    corrector_streak_periods = _count(
        defaults.corrector_streak_periods,
        _("frequent correctors: periods running at the monthly limit"),
        12,
    )
    approver_min_decisions = _count(
        defaults.approver_min_decisions, _("approvers: decisions needed to judge the rate")
    )
    approver_rate = _share(defaults.approver_rate, _("approvers: approval rate at least"))
    approver_median_seconds = _count(
        defaults.approver_median_seconds, _("approvers: median seconds to decide at most")
    )
    approver_bulk_seconds = _count(
        defaults.approver_bulk_seconds, _("approvers: bulk = within this many seconds"), 3600
    )
    approver_bulk_min = _count(defaults.approver_bulk_min, _("approvers: bulk decisions at least"))
    approver_no_proof_min = _count(
        defaults.approver_no_proof_min, _("approvers: approvals without a required attachment")
    )
    cutoff_hours = _count(defaults.cutoff_hours, _("cut-off: last hours before the deadline"), 720)
    cutoff_min_count = _count(defaults.cutoff_min_count, _("cut-off: late requests at least"))
    cutoff_share = _share(defaults.cutoff_share, _("cut-off: share of the requests at least"))
    reason_min_length = _count(
        defaults.reason_min_length, _("repeated reasons: ignore reasons shorter than"), 500
    )
    reason_min_requests = _count(
        defaults.reason_min_requests, _("repeated reasons: requests at least")
    )
    reason_min_people = _count(defaults.reason_min_people, _("repeated reasons: people at least"))
    buddy_window_seconds = _count(
        defaults.buddy_window_seconds, _("buddy punching: within this many seconds"), 600
    )
    buddy_min_days = _count(defaults.buddy_min_days, _("buddy punching: on this many days"), 31)
    buddy_min_share = _share(
        defaults.buddy_min_share, _("buddy punching: share of the days both punched at least")
    )
    hr_manual_add_limit = _count(defaults.hr_manual_add_limit, _("HR: manual adds at least"))
    hr_void_limit = _count(defaults.hr_void_limit, _("HR: voids at least"))
    hr_own_team_limit = _count(
        defaults.hr_own_team_limit, _("HR: manual adds for their own team at least")
    )
    hr_reopen_limit = _count(defaults.hr_reopen_limit, _("HR: period reopenings at least"))
    hr_off_hours_limit = _count(
        defaults.hr_off_hours_limit, _("HR: changes outside working hours at least")
    )
    work_start_hour = models.PositiveSmallIntegerField(
        _("working hours start (hour)"),
        default=defaults.work_start_hour,
        validators=[MaxValueValidator(23)],
    )
    work_end_hour = models.PositiveSmallIntegerField(
        _("working hours end (hour)"),
        default=defaults.work_end_hour,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    fence_outside_min = _count(
        defaults.fence_outside_min, _("punch areas: punches outside every area at least")
    )
    jump_speed_kmh = _count(
        defaults.jump_speed_kmh, _("jumps: faster than this many km/h between punches"), 5000
    )
    jump_min_km = _count(defaults.jump_min_km, _("jumps: at least this many km apart"), 1000)
    device_history_days = _count(
        defaults.device_history_days,
        _("new devices: days of history that make a device known"),
        366,
    )
    device_min_history = _count(
        defaults.device_min_history, _("new devices: earlier punches needed to judge")
    )
    device_new_min = _count(defaults.device_new_min, _("new devices: new devices at least"), 100)
    warn_limit_margin = _count(
        defaults.warn_limit_margin,
        _("warnings: corrections left before the monthly limit at most"),
        100,
    )
    warn_dept_factor = models.FloatField(
        _("warnings: department anomaly rate at least this many times its usual"),
        default=defaults.warn_dept_factor,
        validators=[MinValueValidator(1.0), MaxValueValidator(100.0)],
    )
    warn_dept_min_anomalies = _count(
        defaults.warn_dept_min_anomalies, _("warnings: department anomalies in the week at least")
    )
    warn_dept_history_weeks = _count(
        defaults.warn_dept_history_weeks, _("warnings: weeks of a department's history"), 26
    )
    warn_overdue_min = _count(
        defaults.warn_overdue_min, _("warnings: overdue steps waiting for one approver at least")
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("finding thresholds")
        verbose_name_plural = _("finding thresholds")

    def __str__(self) -> str:
        return "finding thresholds"

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(checks.Limits)]

    def as_limits(self) -> checks.Limits:
        return checks.Limits(**{name: getattr(self, name) for name in self.field_names()})


# --- early warnings (预警) and the weekly digest ----------------------------------------


class WarningKind(models.TextChoices):
    CLOSE_TO_LIMIT = "close_to_limit", _("Close to the monthly correction limit")
    DEPARTMENT_JUMP = "department_jump", _("Department anomalies jump")
    OVERDUE_PILEUP = "overdue_pileup", _("Overdue approvals piling up")
    SILENT_TERMINAL = "silent_terminal", _("Terminal silent in working hours")


class WarningState(models.TextChoices):
    OPEN = "open", pgettext_lazy("warning state", "Open")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class EarlyWarning(models.Model):
    """One early warning (预警): raised once per condition + subject + period (``key``),
    sent when raised to HR and the relevant head, then resolved or closed (audited)."""

    kind = models.CharField(_("condition"), max_length=24, choices=WarningKind.choices)
    key = models.CharField(_("key"), max_length=120, unique=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    device = models.ForeignKey(
        "devices.Device",
        verbose_name=_("terminal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    head = models.ForeignKey(
        "org.Employee",
        verbose_name=_("head told"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The department head the warning was sent to (besides HR)."),
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    params = models.JSONField(_("figures"), default=dict, blank=True)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    recipients = models.JSONField(_("sent to"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=WarningState.choices, default=WarningState.OPEN
    )
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"))

    class Meta:
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        ordering = ["-raised_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "kind"]),
            models.Index(fields=["head", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state == WarningState.OPEN


class DigestSent(models.Model):
    """The weekly oversight digest sent to one person for one week (once only)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("weekly digest sent")
        verbose_name_plural = _("weekly digests sent")
        constraints = [
            models.UniqueConstraint(fields=["user", "week_start"], name="oversight_digest_once")
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.user_id} {self.week_start}"
