from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

code_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]{1,32}$", _("Use 1–32 letters, digits, '_', '.' or '-'.")
)


class Company(models.Model):
    """The one company this installation serves (single-tenant by design)."""

    name = models.CharField(_("name"), max_length=120)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    period_start_day = models.PositiveSmallIntegerField(
        _("first day of the attendance period"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("Day of the month on which an attendance period starts (1–28)."),
    )
    locale = models.CharField(
        _("locale"), max_length=10, default="zh-hans", choices=settings.LANGUAGES
    )

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("company")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    head = models.ForeignKey(
        "Employee",
        verbose_name=_("department head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[Department]:
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


class AttendanceGroup(models.Model):
    """考勤组: the unit that shifts, calendars and correction policies attach to."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=120)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    day_boundary_hour = models.PositiveSmallIntegerField(
        _("day boundary hour"),
        default=0,
        validators=[MaxValueValidator(23)],
        help_text=_("A punch outside every window before this hour belongs to the previous day."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("attendance group")
        verbose_name_plural = _("attendance groups")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Employee(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        on_delete=models.PROTECT,
        related_name="employee",
    )
    employee_no = models.CharField(
        _("employee number"),
        max_length=24,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-Za-z]{1,24}$", _("Use 1–24 letters or digits."))],
        help_text=_("Also the PIN on attendance terminals."),
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=60)
    name_initials = models.CharField(_("pinyin initials"), max_length=24, blank=True, db_index=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employees",
    )
    supervisor = models.ForeignKey(
        "self",
        verbose_name=_("direct supervisor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    attendance_group = models.ForeignKey(
        AttendanceGroup,
        verbose_name=_("attendance group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employees",
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    leave_date = models.DateField(_("leave date"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["employee_no"]
        indexes = [models.Index(fields=["department", "active"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"
