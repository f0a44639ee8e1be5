"""Shifts, weekly patterns, rosters, the company work calendar and exemptions.

These tables say what each employee should do on each day; ``plans.build_plans`` turns
them into the engine's ``DayPlan`` values. Writes go through ``services.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

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
            if value is not None and value.tzinfo is not None:
                errors[name] = _("Give a local time without a time zone.")
            elif value is not None and (value.second or value.microsecond):
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


def clock_text(minutes: int) -> str:
    """``HH:MM`` of a minute offset from 00:00 of the attendance date, "+1" on the next day
    and "-1" on the day before (e.g. 1800 → "06:00 +1")."""
    day, rest = divmod(minutes, DAY_MINUTES)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return text if day == 0 else f"{text} {day:+d}"


OPTIONAL_MINUTES = ("late_as_missing", "early_as_missing", "late_as_half_day_absent")


@dataclass(frozen=True)
class ShiftProblem:
    """One refusal of a shift definition, with the field it belongs to.

    ``field`` is ``segments`` (the list as a whole), ``segments.<i>.<name>`` (0-based
    segment index, a SegmentSpec field) or a Shift field (``arrive_from`` …). ``message``
    does not repeat the segment number (a page shows it beside the field); ``text`` does.
    """

    field: str
    message: Any
    code: str
    segment: int | None = None  # 0-based

    @property
    def text(self) -> str:
        if self.segment is None:
            return str(self.message)
        return str(
            _("Segment %(n)d: %(message)s") % {"n": self.segment + 1, "message": self.message}
        )


def segment_offsets(segments: Sequence[SegmentSpec]) -> list[tuple[int, int]]:
    """Start and end of each segment in minutes from 00:00 of the attendance date.

    The engine's reading (``engine.inputs.segment_offsets``): a later segment starts at
    the first occurrence of its start time at or after the previous segment's end.
    """
    offsets: list[tuple[int, int]] = []
    previous_end: int | None = None
    for segment in segments:
        start = _clock(segment.start)
        duration = (_clock(segment.end) - start) % DAY_MINUTES or DAY_MINUTES
        if previous_end is not None:
            start = previous_end + (start - previous_end) % DAY_MINUTES
        offsets.append((start, start + duration))
        previous_end = start + duration
    return offsets


def flexible_arrival_offsets(
    first_start: int, arrive_from: time, arrive_until: time
) -> tuple[int, int]:
    """The arrival window of a flexible shift in minutes from 00:00 of the attendance date:
    the occurrence of ``arrive_from`` nearest the segment start (the engine's reading)."""
    begin = first_start + (_clock(arrive_from) - first_start + 720) % DAY_MINUTES - 720
    return begin, begin + (_clock(arrive_until) - _clock(arrive_from)) % DAY_MINUTES


def shift_problems(
    segments: Sequence[SegmentSpec],
    *,
    flexible: bool,
    arrive_from: time | None = None,
    arrive_until: time | None = None,
    required_minutes: int | None = None,
) -> list[ShiftProblem]:
    """Every reason the engine could not evaluate these segments, each on its field.

    The one owner of the segment rules: services (pages, API, commands) and the admin
    call it, and the engine's own checks (``engine.Shift``) can then no longer fail.
    1–3 chronological, non-overlapping segments spanning at most 24 hours, with a break
    between two segments (else a check-out window would end before its segment's end);
    whole minutes; thresholds 0–1440 minutes; a grace within its "as missing" threshold
    and within the slot's window; the last check-out window closing by 24:00 of the next
    day; a flexible shift's one segment holding its arrival window.
    """
    problems: list[ShiftProblem] = []

    def refuse(field: str, message: Any, code: str, segment: int | None = None) -> None:
        problems.append(ShiftProblem(field, message, code, segment))

    if not 1 <= len(segments) <= MAX_SEGMENTS:
        refuse(
            "segments",
            _("A shift has 1 to %(max)d segments.") % {"max": MAX_SEGMENTS},
            "segment_count",
        )
        return problems
    if flexible and len(segments) != 1:
        refuse(
            "segments",
            _("A flexible shift has exactly one segment: the day's punch window."),
            "flexible_segments",
        )
        return problems
    for index, segment in enumerate(segments):
        prefix = f"segments.{index}."
        for name in ("start", "end"):
            value = getattr(segment, name)
            if not isinstance(value, time):
                refuse(prefix + name, _("Enter a time (HH:MM)."), "segment_time", index)
            elif value.tzinfo is not None:
                refuse(
                    prefix + name,
                    _("Give a local time without a time zone."),
                    "segment_time",
                    index,
                )
            elif value.second or value.microsecond:
                refuse(prefix + name, _("Use whole minutes."), "segment_time", index)
        for name in SEGMENT_FIELDS[2:]:
            value = getattr(segment, name)
            if value is None and name in OPTIONAL_MINUTES:
                continue
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not 0 <= value <= DAY_MINUTES
            ):
                refuse(prefix + name, _("Enter 0 to 1440 minutes."), "segment_minutes", index)
    if problems:
        return problems
    offsets = segment_offsets(segments)
    first_start = offsets[0][0]
    for index, (segment, (start, end)) in enumerate(zip(segments, offsets, strict=True)):
        prefix = f"segments.{index}."
        if end - first_start > DAY_MINUTES:
            refuse(
                prefix + "start",
                _("Segments overlap or are out of order: list them in time order within 24 hours."),
                "segment_overlap",
                index,
            )
            return problems
        if index and start == offsets[index - 1][1]:
            refuse(
                prefix + "start",
                _(
                    "This segment starts the minute the previous one ends: the previous "
                    "check-out window would end here, before its own end time, and one "
                    "punch can fill only one of the two slots. Join them into one segment "
                    "or leave a break between them."
                ),
                "segment_window",
                index,
            )
        half = (end - start) / 2
        if segment.late_as_missing is not None and segment.grace_in > segment.late_as_missing:
            refuse(
                prefix + "grace_in",
                _("The late grace exceeds the late-as-missing threshold."),
                "segment_grace",
                index,
            )
        elif not flexible and segment.grace_in >= half:
            refuse(
                prefix + "grace_in",
                _(
                    "The late grace reaches %(at)s, where the check-in window closes (the "
                    "middle of the segment): nobody could ever be late."
                )
                % {"at": clock_text(int(start + half))},
                "segment_grace",
                index,
            )
        if segment.early_as_missing is not None and segment.grace_out > segment.early_as_missing:
            refuse(
                prefix + "grace_out",
                _("The early grace exceeds the early-as-missing threshold."),
                "segment_grace",
                index,
            )
        elif not flexible and segment.grace_out >= half:
            refuse(
                prefix + "grace_out",
                _(
                    "The early-leave grace reaches back to %(at)s, where the check-out window "
                    "opens (the middle of the segment): nobody could ever leave early."
                )
                % {"at": clock_text(int(end - half))},
                "segment_grace",
                index,
            )
    last_end = offsets[-1][1]
    closes = last_end + segments[-1].out_latest
    if closes > 2 * DAY_MINUTES:
        refuse(
            f"segments.{len(segments) - 1}.out_latest",
            _(
                "The check-out window would close at %(at)s; it must close by 24:00 of the "
                "next day (at most %(max)d minutes after this end)."
            )
            % {"at": clock_text(closes), "max": 2 * DAY_MINUTES - last_end},
            "segment_window",
            len(segments) - 1,
        )
    if flexible and arrive_from is not None and arrive_until is not None:
        start, end = offsets[0]
        begin, until = flexible_arrival_offsets(start, arrive_from, arrive_until)
        opens = start - segments[0].in_earliest
        if until - begin > end - start:
            refuse(
                "arrive_until",
                _("The arrival window is longer than the segment."),
                "flexible_window",
            )
        elif begin < opens:
            refuse(
                "arrive_from",
                _("The punch window opens only at %(at)s, after this time.")
                % {"at": clock_text(opens)},
                "flexible_window",
            )
        elif until > end:
            refuse(
                "arrive_until",
                _("This is after the segment ends (%(at)s).") % {"at": clock_text(end)},
                "flexible_window",
            )
        elif required_minutes and until + required_minutes > closes:
            refuse(
                "required_minutes",
                _(
                    "Arriving at %(arrive)s and working this long ends at %(leave)s, after the "
                    "punch window closes (%(at)s)."
                )
                % {
                    "arrive": clock_text(until),
                    "leave": clock_text(until + required_minutes),
                    "at": clock_text(closes),
                },
                "flexible_window",
            )
    return problems


def validate_segments(
    segments: Sequence[SegmentSpec],
    *,
    flexible: bool,
    arrive_from: time | None = None,
    arrive_until: time | None = None,
    required_minutes: int | None = None,
) -> None:
    """Raise a ValidationError listing ``shift_problems`` (each naming its segment), for
    forms that show the segment rules together (the admin's inline segments)."""
    problems = shift_problems(
        segments,
        flexible=flexible,
        arrive_from=arrive_from,
        arrive_until=arrive_until,
        required_minutes=required_minutes,
    )
    if problems:
        raise ValidationError([ValidationError(p.text, code=p.code) for p in problems])


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
    # A festival day of the law (法定节假日: overtime 3×) rather than a day off moved into
    # the period (调休) or given for a festival on a weekend (补假): those are rest days
    # (2×). Only a holiday can be statutory. scheduling/statutory.py, docs/overtime.md.
    statutory = models.BooleanField(
        _("statutory holiday"),
        default=False,
        help_text=_("法定节假日: overtime pays 3×; other days off pay as rest days (2×)."),
    )

    class Meta:
        verbose_name = _("work calendar day")
        verbose_name_plural = _("work calendar")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(statutory=False) | models.Q(kind="holiday"),
                name="calendar_statutory_is_holiday",
            )
        ]

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
