from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ztk.core.db import register_append_only
from ztk.org.models import code_validator

# A punch area's radius: 10 m (a building) to 50 km (a campus or an industrial park).
RADIUS_MIN = 10
RADIUS_MAX = 50_000


class PunchSource(models.TextChoices):
    DEVICE = "device", _("Terminal")
    WEB = "web", _("Web")
    MOBILE = "mobile", _("Mobile")
    MANUAL = "manual", _("HR manual add")
    CORRECTION = "correction", _("Approved correction")
    IMPORT = "import", _("Import")
    PAPER = "paper", _("Paper form")
    HISTORY = "history", _("Imported correction")


class Punch(models.Model):
    """One clock event as it arrived. Never edited or deleted: a wrong one is voided."""

    # No index of its own: the (employee, at) index below serves every lookup by employee,
    # and SQLite's planner took the one-column index for time-bounded reads, scanning every
    # punch of the employees (10× slower); one index fewer to update per punch, too.
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="punches",
        db_index=False,
    )
    at = models.DateTimeField(_("time"))
    source = models.CharField(_("source"), max_length=12, choices=PunchSource.choices)
    device_sn = models.CharField(_("terminal serial number"), max_length=64, blank=True)
    pin = models.CharField(_("terminal PIN"), max_length=24, blank=True)
    verify_mode = models.SmallIntegerField(_("verify mode"), null=True, blank=True)
    punch_state = models.SmallIntegerField(_("punch state"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("GPS accuracy (m)"), null=True, blank=True)
    inside_geofence = models.BooleanField(_("inside geofence"), null=True, blank=True)
    field_punch = models.BooleanField(_("field punch (外勤)"), default=False)
    photo = models.FileField(_("photo"), upload_to="punch-photos/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    remark = models.CharField(_("remark"), max_length=500, blank=True)
    correction_id = models.BigIntegerField(_("correction request"), null=True, blank=True)
    raw = models.CharField(_("raw line"), max_length=1024, blank=True)
    dedup_key = models.CharField(max_length=200, unique=True)

    class Meta:
        verbose_name = _("punch")
        verbose_name_plural = _("punches")
        indexes = [
            models.Index(fields=["employee", "at"]),
            # field punches (外勤) by time, for analytics (ztk/oversight/trends.py): a few
            # rows among millions of terminal punches
            models.Index(fields=["at"], condition=Q(field_punch=True), name="punch_field_at"),
        ]
        default_permissions = ("view", "add")

    def __str__(self) -> str:
        return f"{self.employee_id} {self.at:%Y-%m-%d %H:%M:%S} {self.source}"


class PunchVoid(models.Model):
    """Voids a punch for the engine; the punch itself stays, as does this record."""

    punch = models.OneToOneField(
        Punch, verbose_name=_("punch"), on_delete=models.PROTECT, related_name="void"
    )
    reason = models.CharField(_("reason"), max_length=500)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    voided_at = models.DateTimeField(_("voided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("punch void")
        verbose_name_plural = _("punch voids")
        default_permissions = ("view", "add")

    def __str__(self) -> str:
        return f"void {self.punch_id}"


class OutsideGeofenceRule(models.TextChoices):
    REFUSE = "refuse", _("Refuse the punch")
    FIELD = "field", _("Accept as a field punch (外勤) with a photo")


class PunchSettings(models.Model):
    """Per attendance group: may people punch from the web or a phone, and where."""

    group = models.OneToOneField(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        on_delete=models.CASCADE,
        related_name="punch_settings",
    )
    web_punch_enabled = models.BooleanField(_("web and phone punch allowed"), default=True)
    outside_rule = models.CharField(
        _("outside every geofence"),
        max_length=8,
        choices=OutsideGeofenceRule.choices,
        default=OutsideGeofenceRule.FIELD,
    )
    quick_punch = models.BooleanField(
        _("quick punch (极速打卡)"),
        default=False,
        help_text=_(
            "Opening the app inside a punch area while a check-in window is open punches at "
            "once, with 10 seconds to undo."
        ),
    )

    class Meta:
        verbose_name = _("punch settings")
        verbose_name_plural = _("punch settings")

    def __str__(self) -> str:
        return str(self.group)


class Geofence(models.Model):
    """A punch area (打卡范围): a circle; the attendance groups that use it count it.

    A web or phone punch is inside when it falls in any *active* fence of the employee's
    group; a group with no active fence does not check positions.
    """

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=80)
    groups = models.ManyToManyField(
        "org.AttendanceGroup",
        verbose_name=_("attendance groups"),
        blank=True,
        related_name="geofences",
    )
    latitude = models.FloatField(
        _("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    radius_m = models.PositiveIntegerField(
        _("radius (m)"),
        default=200,
        validators=[MinValueValidator(RADIUS_MIN), MaxValueValidator(RADIUS_MAX)],
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("geofence")
        verbose_name_plural = _("geofences")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.radius_m} m)"


register_append_only(Punch._meta.db_table)
register_append_only(PunchVoid._meta.db_table)
