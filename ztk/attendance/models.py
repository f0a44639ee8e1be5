from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DayStatus(models.TextChoices):
    NORMAL = "normal", _("Normal")
    ABNORMAL = "abnormal", _("Abnormal")
    ABSENT = "absent", _("Absent")
    REST = "rest", _("Rest day")
    HOLIDAY = "holiday", _("Holiday")
    LEAVE = "leave", _("Leave")


class EngineJSONField(models.JSONField):
    """JSON that only the recompute writes, from its own serialiser (byte for byte
    json.dumps, tests/engine/test_rows.py): no ``JSON_VALID`` CHECK on
    SQLite, where the four of them took 40 % of every row's upsert. Lookups work as for
    any JSONField; PostgreSQL's jsonb has no such CHECK anyway."""

    def db_check(self, connection):
        return None


class AttendanceDay(models.Model):
    """The stored engine result for one employee-day (derived; recomputed, never edited)."""

    # Indexed by the (employee, day) unique constraint; a one-column index beside it only
    # misled SQLite's planner into scanning every day of the employees asked for.
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="days",
        db_index=False,
    )
    day = models.DateField(_("date"))
    kind = models.CharField(_("plan"), max_length=8)
    shift_code = models.CharField(_("shift"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DayStatus.choices)
    provisional = models.BooleanField(_("provisional"), default=True)
    finalised = models.BooleanField(_("finalised"), default=False)
    worked_minutes = models.IntegerField(_("worked minutes"), default=0)
    late_count = models.SmallIntegerField(default=0)
    late_minutes = models.IntegerField(default=0)
    serious_late_count = models.SmallIntegerField(default=0)
    early_count = models.SmallIntegerField(default=0)
    early_minutes = models.IntegerField(default=0)
    missing_in_count = models.SmallIntegerField(default=0)
    missing_out_count = models.SmallIntegerField(default=0)
    absent_days = models.DecimalField(max_digits=3, decimal_places=1, default=0)
    corrected_count = models.SmallIntegerField(default=0)
    manual_count = models.SmallIntegerField(default=0)
    exempt_minutes = EngineJSONField(default=dict, blank=True)
    slots = EngineJSONField(_("slots"), default=list, blank=True)
    notes = EngineJSONField(_("explanation"), default=list, blank=True)
    outside_punch_ids = EngineJSONField(default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    # Overtime (engine.compute_overtime): computed from the punches, and the part that
    # counts (approved, or all of it when the group needs no request), and the category
    # (engine.overtime_kind): work → weekday (1.5×), rest and a holiday that is not
    # statutory (调休, 补假) → rest (2×), a statutory holiday (法定节假日) → holiday (3×).
    overtime_minutes = models.IntegerField(_("overtime minutes (computed)"), default=0)
    overtime_counted_minutes = models.IntegerField(_("overtime minutes (counted)"), default=0)
    overtime_kind = models.CharField(_("overtime category"), max_length=8, default="weekday")

    class Meta:
        verbose_name = _("attendance day")
        verbose_name_plural = _("attendance days")
        constraints = [
            models.UniqueConstraint(fields=["employee", "day"], name="attendance_day_unique")
        ]
        indexes = [models.Index(fields=["day", "status"])]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.employee_id} {self.day} {self.status}"

    @property
    def has_anomaly(self) -> bool:
        return self.status in (DayStatus.ABNORMAL, DayStatus.ABSENT)


class PeriodStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class AttendancePeriod(models.Model):
    """An attendance period of a group; once closed, its days are left alone (月结)."""

    group = models.ForeignKey(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        on_delete=models.PROTECT,
        related_name="periods",
    )
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    status = models.CharField(
        _("status"), max_length=8, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("attendance period")
        verbose_name_plural = _("attendance periods")
        constraints = [
            models.UniqueConstraint(fields=["group", "start"], name="attendance_period_unique")
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.start}–{self.end}"


class PendingRecompute(models.Model):
    """Punches of a large batch whose days are not recomputed yet (the drain's queue).

    Keyed by the punches' local date ``day`` (their attendance date is that day, the one
    before or the one after). ``first_punch_id`` is the lowest id of the punches waiting;
    ``version`` grows with every batch that adds to the row, so the drain removes a row
    only if no punch arrived after it read the row.
    """

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    day = models.DateField(_("date"))
    first_punch_id = models.BigIntegerField()
    version = models.PositiveIntegerField(default=1)
    queued_at = models.DateTimeField(_("queued at"))

    class Meta:
        verbose_name = _("pending recompute")
        verbose_name_plural = _("pending recomputes")
        constraints = [
            models.UniqueConstraint(fields=["employee", "day"], name="pending_recompute_unique")
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.employee_id} {self.day} v{self.version}"
