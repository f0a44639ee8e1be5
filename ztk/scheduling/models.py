"""Shifts, weekly patterns, rosters, the company work calendar and exemptions.

These tables say what each employee should do on each day; ``plans.build_plans`` turns
them into the engine's ``DayPlan`` values. Writes go through ``services.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ztk.org.models import code_validator

MAX_SEGMENTS = 3
DAY_MINUTES = 24 * 60
# The first effective date of a group's first weekly pattern: "since always".
PATTERN_EPOCH = date(2000, 1, 1)
WEEKDAY_FIELDS = (
    "monday_shift",
    "tuesday_shift",
    "wednesday_shift",
    "thursday_shift",
    "friday_shift",
    "saturday_shift",
    "sunday_shift",
)
# A roster cell's value as the pages and the CSV name it: a shift code, REST (a rest day
# rostered over the pattern; no shift code can contain 休) or PATTERN (no roster entry:
# the weekly pattern decides).
REST = "休"
PATTERN = ""
WEEKDAY_LABELS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


def _minutes(verbose_name, default, *, null: bool = False, help_text=""):
    return models.PositiveSmallIntegerField(
        verbose_name,
        default=default,
        null=null,
        blank=null,
        validators=[MaxValueValidator(DAY_MINUTES)],
        help_text=help_text,
    )


class Shift(models.Model):
    """A shift (班次): 1–3 fixed segments, or one day window with flexible arrival (弹性)."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("fixed hours")
        FLEXIBLE = "flexible", _("flexible hours")

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.FIXED)
    arrive_from = models.TimeField(
        _("earliest arrival"),
        null=True,
        blank=True,
        help_text=_("Flexible shifts: arriving from this time on is on time."),
    )
    arrive_until = models.TimeField(
        _("latest arrival"),
        null=True,
        blank=True,
        help_text=_("Flexible shifts: arriving after this time is late."),
    )
    required_minutes = models.PositiveSmallIntegerField(
        _("required minutes"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(DAY_MINUTES)],
        help_text=_("Flexible shifts: minutes to work after arrival (e.g. 540 for 9 hours)."),
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Retired shifts stay for history but cannot be scheduled again."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_flexible(self) -> bool:
        return self.kind == self.Kind.FLEXIBLE

    def clean(self) -> None:
        errors = {}
        flexible_fields = ("arrive_from", "arrive_until", "required_minutes")
        if self.is_flexible:
            for name in flexible_fields:
                if getattr(self, name) is None:
                    errors[name] = _("Required for a flexible shift.")
        else:
            for name in flexible_fields:
                if getattr(self, name) is not None:
                    errors[name] = _("Only flexible shifts have this.")
        for name in ("arrive_from", "arrive_until"):
            value = getattr(self, name)
            if value is not None and (value.second or value.microsecond):
                errors[name] = _("Use whole minutes.")
        if errors:
            raise ValidationError(errors)


class ShiftSegment(models.Model):
    """One work segment: a check-in slot at ``start`` and a check-out slot at ``end``.

    ``end`` at or before ``start`` means the segment ends on the next day (night shift).
    The minute fields are the rules.md defaults; an empty "as missing" threshold is off.
    """

    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="segments"
    )
    position = models.PositiveSmallIntegerField(
        _("position"), validators=[MinValueValidator(1), MaxValueValidator(MAX_SEGMENTS)]
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("At or before the start: the next day."))
    in_earliest = _minutes(
        _("check-in opens (minutes before start)"), 120, help_text=_("Default 120.")
    )
    out_latest = _minutes(
        _("check-out closes (minutes after end)"), 240, help_text=_("Default 240.")
    )
    grace_in = _minutes(_("late grace (minutes)"), 0)
    grace_out = _minutes(_("early-leave grace (minutes)"), 0)
    late_as_missing = _minutes(
        _("late counts as missing after (minutes)"),
        120,
        null=True,
        help_text=_("Empty: never."),
    )
    early_as_missing = _minutes(
        _("early leave counts as missing after (minutes)"),
        120,
        null=True,
        help_text=_("Empty: never."),
    )
    serious_late = _minutes(_("seriously late after (minutes)"), 30)
    late_as_half_day_absent = _minutes(
        _("late counts as half a day absent after (minutes)"),
        None,
        null=True,
        help_text=_("Empty: never."),
    )

    class Meta:
        verbose_name = _("shift segment")
        verbose_name_plural = _("shift segments")
        ordering = ["shift", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "position"], name="scheduling_segment_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


SEGMENT_FIELDS = (
    "start",
    "end",
    "in_earliest",
    "out_latest",
    "grace_in",
    "grace_out",
    "late_as_missing",
    "early_as_missing",
    "serious_late",
    "late_as_half_day_absent",
)


@dataclass(frozen=True)
class SegmentSpec:
    """A segment as services receive it (before it has a database row)."""

    start: time
    end: time
    in_earliest: int = 120
    out_latest: int = 240
    grace_in: int = 0
    grace_out: int = 0
    late_as_missing: int | None = 120
    early_as_missing: int | None = 120
    serious_late: int = 30
    late_as_half_day_absent: int | None = None

    @classmethod
    def of(cls, value) -> SegmentSpec:
        """Accept a SegmentSpec, a dict of segment fields or a ShiftSegment row."""
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - set(SEGMENT_FIELDS)
            if unknown:
                raise ValidationError(
                    _("Unknown segment fields: %(names)s") % {"names": ", ".join(sorted(unknown))}
                )
            return cls(**value)
        return cls(**{name: getattr(value, name) for name in SEGMENT_FIELDS})

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in SEGMENT_FIELDS}


def _clock(value: time) -> int:
    return value.hour * 60 + value.minute


def validate_segments(segments: Sequence[SegmentSpec], *, flexible: bool) -> None:
    """1–3 chronological, non-overlapping segments spanning at most 24 hours.

    Mirrors the engine's reading of segment times: a later segment starts at the first
    occurrence of its start time after the previous segment's end, so a segment that
    starts inside the previous one would wrap into the next day and push the span past
    24 hours — that is how an overlap (or a wrong order) shows up.
    """
    if not 1 <= len(segments) <= MAX_SEGMENTS:
        raise ValidationError(
            _("A shift has 1 to %(max)d segments.") % {"max": MAX_SEGMENTS}, code="segment_count"
        )
    if flexible and len(segments) != 1:
        raise ValidationError(
            _("A flexible shift has exactly one segment: the day's punch window."),
            code="flexible_segments",
        )
    first_start: int | None = None
    previous_end: int | None = None
    for index, segment in enumerate(segments, start=1):
        for name in ("start", "end"):
            value = getattr(segment, name)
            if not isinstance(value, time):
                raise ValidationError(
                    _("Segment %(n)d: %(field)s must be a time.") % {"n": index, "field": name},
                    code="segment_time",
                )
            if value.second or value.microsecond:
                raise ValidationError(
                    _("Segment %(n)d: use whole minutes.") % {"n": index}, code="segment_time"
                )
        for name in SEGMENT_FIELDS[2:]:
            value = getattr(segment, name)
            optional = name in ("late_as_missing", "early_as_missing", "late_as_half_day_absent")
            if value is None and optional:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1440:
                raise ValidationError(
                    _("Segment %(n)d: %(field)s must be 0–1440 minutes.")
                    % {"n": index, "field": name},
                    code="segment_minutes",
                )
        if segment.late_as_missing is not None and segment.grace_in > segment.late_as_missing:
            raise ValidationError(
                _("Segment %(n)d: the late grace exceeds the late-as-missing threshold.")
                % {"n": index},
                code="segment_grace",
            )
        if segment.early_as_missing is not None and segment.grace_out > segment.early_as_missing:
            raise ValidationError(
                _("Segment %(n)d: the early grace exceeds the early-as-missing threshold.")
                % {"n": index},
                code="segment_grace",
            )
        start = _clock(segment.start)
        duration = (_clock(segment.end) - start) % DAY_MINUTES or DAY_MINUTES
        if previous_end is None:
            first_start = start
        else:
            start = previous_end + (start - previous_end) % DAY_MINUTES
        previous_end = start + duration
        if previous_end - first_start > DAY_MINUTES:
            raise ValidationError(
                _(
                    "Segments overlap or are out of order: list them in time order within "
                    "24 hours (segment %(n)d)."
                )
                % {"n": index},
                code="segment_overlap",
            )


def _weekday_shift(verbose_name):
    return models.ForeignKey(
        Shift,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: a rest day."),
    )


class WeeklyPattern(models.Model):
    """A group's shift for each weekday, valid from ``effective_from`` until the next one.

    Versioned by date so that changing the pattern next month does not rewrite the plans
    (and results) of days already worked under the old one.
    """

    group = models.ForeignKey(
        "org.AttendanceGroup",
        verbose_name=_("attendance group"),
        on_delete=models.CASCADE,
        related_name="weekly_patterns",
    )
    effective_from = models.DateField(_("effective from"), default=PATTERN_EPOCH)
    monday_shift = _weekday_shift(_("Monday"))
    tuesday_shift = _weekday_shift(_("Tuesday"))
    wednesday_shift = _weekday_shift(_("Wednesday"))
    thursday_shift = _weekday_shift(_("Thursday"))
    friday_shift = _weekday_shift(_("Friday"))
    saturday_shift = _weekday_shift(_("Saturday"))
    sunday_shift = _weekday_shift(_("Sunday"))
    default_workday_shift = models.ForeignKey(
        Shift,
        verbose_name=_("make-up workday shift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Worked on make-up working days (调休). Empty: that weekday's shift, else "
            "Monday's (else the first weekday with a shift)."
        ),
    )
    use_work_calendar = models.BooleanField(
        _("follow the work calendar"),
        default=True,
        help_text=_(
            "Off for groups that work through public holidays (e.g. round-the-clock duty)."
        ),
    )

    class Meta:
        verbose_name = _("weekly pattern")
        verbose_name_plural = _("weekly patterns")
        ordering = ["group", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "effective_from"], name="scheduling_pattern_group_from_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} ≥ {self.effective_from}"

    def shift_id_for(self, weekday: int) -> int | None:
        return getattr(self, WEEKDAY_FIELDS[weekday] + "_id")

    def shift_ids(self) -> set[int]:
        ids = {self.shift_id_for(i) for i in range(7)} | {self.default_workday_shift_id}
        ids.discard(None)
        return ids


class RosterEntry(models.Model):
    """排班: one employee's shift on one date, overriding the weekly pattern and calendar."""

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="roster_entries",
    )
    date = models.DateField(_("date"))
    shift = models.ForeignKey(
        Shift,
        verbose_name=_("shift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="roster_entries",
        help_text=_("Empty: a rest day."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster entries")
        ordering = ["date", "employee"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "date"], name="scheduling_roster_employee_date_unique"
            )
        ]
        indexes = [models.Index(fields=["date"], name="scheduling_roster_date_idx")]

    def __str__(self) -> str:
        return f"{self.employee} {self.date}: {self.shift or _('rest')}"


class WorkCalendarDay(models.Model):
    """A company calendar exception: a statutory holiday or a make-up working day (调休).

    Days not listed follow the weekly pattern.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday")
        WORKDAY = "workday", _("make-up working day")

    class Source(models.TextChoices):
        SEED = "seed", _("chinese-calendar data")
        IMPORT = "import", _("imported file")
        MANUAL = "manual", _("entered by hand")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True, help_text=_("e.g. 国庆节"))
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.MANUAL
    )

    class Meta:
        verbose_name = _("work calendar day")
        verbose_name_plural = _("work calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()


class CalendarYear(models.Model):
    """Whether a year's official holiday arrangement is known, and from where."""

    class Status(models.TextChoices):
        SEEDED = "seeded", _("official data (chinese-calendar)")
        IMPORTED = "imported", _("official data (imported)")
        FALLBACK = "fallback", _("no official data: Monday–Friday")

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(1900), MaxValueValidator(2999)]
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year} {self.get_status_display()}"

    @property
    def has_official_data(self) -> bool:
        return self.status != self.Status.FALLBACK


class Exemption(models.Model):
    """Approved leave, outing (外出) or business trip (出差): covered slots count as exempt."""

    class Kind(models.TextChoices):
        LEAVE = "leave", _("leave")
        OUTING = "outing", _("outing")
        TRIP = "trip", _("business trip")

    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="exemptions",
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="scheduling_exemption_order"
            )
        ]
        indexes = [
            models.Index(fields=["employee", "start"], name="scheduling_exemption_emp_idx"),
            models.Index(fields=["start", "end"], name="scheduling_exemption_range_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employee} {self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"

    @property
    def voided(self) -> bool:
        return self.voided_at is not None

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("The end must be after the start.")})
