"""Writes on schedules: each permission-checked, atomic, audited, and announced.

Every service returns ``(result, changes)`` where ``changes`` are the
``hooks.ScheduleChange`` rectangles of employee-days whose plan may differ now; the same
changes are handed to ``hooks.schedule_changed`` so registered apps (attendance) recompute
them after commit. ``actor=None`` means the system itself (commands, migrations).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record, snapshot
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.parse import check_day, check_moment
from ztk.core.text import clean_text, text_errors
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.zones import employee_zone

from . import calendar_data
from .hooks import ScheduleChange, schedule_changed
from .models import (
    PATTERN,
    PATTERN_EPOCH,
    REST,
    WEEKDAY_FIELDS,
    CalendarYear,
    Exemption,
    RosterEntry,
    SegmentSpec,
    Shift,
    ShiftSegment,
    WeeklyPattern,
    WorkCalendarDay,
    shift_problems,
)
from .plans import engine_shift
from .statutory import is_statutory

MANAGE_PERMISSION = "org.manage_organisation"
MAX_ROSTER_DAYS = 366

# Stable error codes (the API returns them; tests import them).
VALIDATION_ERROR = "validation_error"
INVALID_SHIFT = "invalid_shift"
SHIFT_INACTIVE = "shift_inactive"
INVALID_RANGE = "invalid_range"
INVALID_CALENDAR_KIND = "invalid_calendar_kind"
CALENDAR_FIELDS = ["date", "kind", "name", "statutory", "source"]  # as audited
CALENDAR_IMPORT_INVALID = "calendar_import_invalid"
NAIVE_DATETIME = "naive_datetime"
EXEMPTION_OVERLAP = "exemption_overlap"
EXEMPTION_VOIDED = "exemption_voided"

SHIFT_FIELDS = ["code", "name", "kind", "arrive_from", "arrive_until", "required_minutes", "active"]
PATTERN_FIELDS = ["group", "effective_from", *WEEKDAY_FIELDS]
PATTERN_FIELDS += ["default_workday_shift", "use_work_calendar"]
EXEMPTION_FIELDS = [
    "employee",
    "start",
    "end",
    "kind",
    "reason",
    "created_by",
    "voided_at",
    "voided_by",
    "void_reason",
]

_UNSET: Any = object()


# --------------------------------------------------------------------------- helpers


def _require(actor: Any) -> None:
    if actor is not None and not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDeniedError()


def _validation_error(exc: ValidationError, code: str = VALIDATION_ERROR) -> DomainError:
    details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return DomainError(code, _("The data is not valid."), details=details)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _segments_snapshot(segments: Iterable[SegmentSpec]) -> list[dict[str, Any]]:
    return [spec.as_dict() for spec in segments]


def _saved_segments(shift: Shift) -> list[SegmentSpec]:
    return [SegmentSpec.of(s) for s in shift.segments.order_by("position")]


def _days(start: date, end: date, weekdays: set[int] | None) -> list[date]:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [d for d in days if weekdays is None or d.weekday() in weekdays]


def _check_range(start: date, end: date, limit: int | None = MAX_ROSTER_DAYS) -> None:
    if end < start:
        raise DomainError(INVALID_RANGE, _("The end date is before the start date."))
    if limit is not None and (end - start).days + 1 > limit:
        raise DomainError(INVALID_RANGE, _("At most %(days)d days at a time.") % {"days": limit})


def _check_active(shift: Shift | None) -> None:
    if shift is not None and not shift.active:
        raise DomainError(
            SHIFT_INACTIVE,
            _("The shift “%(code)s” is retired and cannot be scheduled.") % {"code": shift.code},
        )


def _group_member_ids(group_id: int) -> frozenset[int]:
    return frozenset(
        Employee.objects.filter(attendance_group_id=group_id).values_list("pk", flat=True)
    )


# --------------------------------------------------------------------------- affected days


def changes_for_pattern(pattern: WeeklyPattern) -> list[ScheduleChange]:
    """The group's members from the version's first day until the next version starts."""
    following = (
        WeeklyPattern.objects.filter(
            group_id=pattern.group_id, effective_from__gt=pattern.effective_from
        )
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    end = following - timedelta(days=1) if following is not None else None
    start = None if pattern.effective_from <= PATTERN_EPOCH else pattern.effective_from
    return [
        ScheduleChange(_group_member_ids(pattern.group_id), start, end, reason="scheduling.pattern")
    ]


def changes_for_shift(shift: Shift) -> list[ScheduleChange]:
    """Every employee-day planned with this shift: roster entries and pattern versions."""
    changes: list[ScheduleChange] = []
    by_date: dict[date, set[int]] = defaultdict(set)
    for employee_id, day in RosterEntry.objects.filter(shift=shift).values_list(
        "employee_id", "date"
    ):
        by_date[day].add(employee_id)
    for day, ids in sorted(by_date.items()):
        changes.append(ScheduleChange(frozenset(ids), day, day, reason="scheduling.shift"))
    patterns = WeeklyPattern.objects.filter(group__isnull=False).order_by(
        "group_id", "effective_from"
    )
    for pattern in patterns:
        if shift.pk in pattern.shift_ids():
            for change in changes_for_pattern(pattern):
                changes.append(
                    ScheduleChange(
                        change.employee_ids, change.start, change.end, reason="scheduling.shift"
                    )
                )
    return changes


def changes_for_calendar(days: Iterable[date]) -> list[ScheduleChange]:
    """Everyone on the given dates (patterns that ignore the calendar are unaffected, but
    telling them too is cheaper than working out who follows it)."""
    wanted = frozenset(days)
    if not wanted:
        return []
    return [
        ScheduleChange(None, min(wanted), max(wanted), dates=wanted, reason="scheduling.calendar")
    ]


def changes_for_exemption(exemption: Exemption) -> list[ScheduleChange]:
    tz = employee_zone(exemption.employee)
    first = exemption.start.astimezone(tz).date() - timedelta(days=1)
    last = (exemption.end - timedelta(microseconds=1)).astimezone(tz).date()
    return [
        ScheduleChange(
            frozenset({exemption.employee_id}), first, last, reason="scheduling.exemption"
        )
    ]


def changes_for_roster(employee_ids: Iterable[int], days: Iterable[date]) -> list[ScheduleChange]:
    ids, wanted = frozenset(employee_ids), frozenset(days)
    if not ids or not wanted:
        return []
    return [ScheduleChange(ids, min(wanted), max(wanted), dates=wanted, reason="scheduling.roster")]


# --------------------------------------------------------------------------- shifts


def shift_errors(shift: Shift, segments: Sequence[SegmentSpec]) -> dict[str, list[str]]:
    """Every refusal of a shift definition by field, in the active language: the model's
    own fields (``Shift.full_clean``: code, name, flexible fields) and ``shift_problems``
    (``segments``, ``segments.<i>.<field>``). Empty when the shift may be saved."""
    errors: dict[str, list[str]] = {
        name: [message]
        for name, message in text_errors({"name": shift.name}, labels={"name": _("Name")}).items()
    }
    try:
        shift.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    flexible = shift.is_flexible
    for problem in shift_problems(
        segments,
        flexible=flexible,
        arrive_from=shift.arrive_from if flexible else None,
        arrive_until=shift.arrive_until if flexible else None,
        required_minutes=shift.required_minutes if flexible else None,
    ):
        errors.setdefault(problem.field, []).append(problem.text)
    return errors


def _validate_shift(shift: Shift, segments: list[SegmentSpec]) -> None:
    errors = shift_errors(shift, segments)
    if errors:
        raise DomainError(INVALID_SHIFT, _("The shift is not valid."), details=errors)
    try:
        engine_shift(
            code=shift.code,
            name=shift.name,
            kind=shift.kind,
            segments=segments,
            arrive_from=shift.arrive_from,
            arrive_until=shift.arrive_until,
            required_minutes=shift.required_minutes,
        )
    except ValueError as exc:  # shift_problems owns these rules; kept as a last guard
        raise DomainError(
            INVALID_SHIFT, _("The shift is not valid."), details={"__all__": [str(exc)]}
        ) from None


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _write_segments(shift: Shift, segments: list[SegmentSpec]) -> None:
    shift.segments.all().delete()
    ShiftSegment.objects.bulk_create(
        ShiftSegment(shift=shift, position=i, **spec.as_dict())
        for i, spec in enumerate(segments, start=1)
    )


@transaction.atomic
def shift_create(
    *,
    actor: Any,
    code: str,
    name: str,
    segments: Sequence[SegmentSpec | dict[str, Any]],
    kind: str = Shift.Kind.FIXED,
    arrive_from: time | None = None,
    arrive_until: time | None = None,
    required_minutes: int | None = None,
    active: bool = True,
) -> tuple[Shift, list[ScheduleChange]]:
    """A new shift is used by no one yet, so it changes no plan."""
    _require(actor)
    try:
        specs = [SegmentSpec.of(s) for s in segments]
    except (ValidationError, TypeError) as exc:
        raise DomainError(
            INVALID_SHIFT, _("The shift is not valid."), details={"segments": [str(exc)]}
        ) from None
    shift = Shift(
        code=code,
        name=_stripped(name),
        kind=kind,
        arrive_from=arrive_from,
        arrive_until=arrive_until,
        required_minutes=required_minutes,
        active=active,
    )
    _validate_shift(shift, specs)
    shift.save()
    _write_segments(shift, specs)
    record(
        "scheduling.shift.create",
        obj=shift,
        actor=actor,
        after={**snapshot(shift, SHIFT_FIELDS), "segments": _segments_snapshot(specs)},
    )
    return shift, []


@transaction.atomic
def shift_update(
    *,
    actor: Any,
    shift: Shift,
    name: str = _UNSET,
    kind: str = _UNSET,
    segments: Sequence[SegmentSpec | dict[str, Any]] = _UNSET,
    arrive_from: time | None = _UNSET,
    arrive_until: time | None = _UNSET,
    required_minutes: int | None = _UNSET,
    active: bool = _UNSET,
) -> tuple[Shift, list[ScheduleChange]]:
    """Change a shift's definition; omitted arguments keep their value.

    The code is immutable because stored results refer to it. A change to the times
    applies to every day planned with the shift, past ones included (closed periods are
    protected by the attendance app), so prefer a new shift for a change from a date on.
    """
    _require(actor)
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    old_segments = _saved_segments(shift)
    before = {**snapshot(shift, SHIFT_FIELDS), "segments": _segments_snapshot(old_segments)}
    for attr, value in (
        ("name", name if name is _UNSET else _stripped(name)),
        ("kind", kind),
        ("arrive_from", arrive_from),
        ("arrive_until", arrive_until),
        ("required_minutes", required_minutes),
        ("active", active),
    ):
        if value is not _UNSET:
            setattr(shift, attr, value)
    if kind is not _UNSET and kind == Shift.Kind.FIXED:
        # a fixed shift drops its flexible rules, unless given (then refused by clean)
        for attr, value in (
            ("arrive_from", arrive_from),
            ("arrive_until", arrive_until),
            ("required_minutes", required_minutes),
        ):
            if value is _UNSET:
                setattr(shift, attr, None)
    try:
        specs = old_segments if segments is _UNSET else [SegmentSpec.of(s) for s in segments]
    except (ValidationError, TypeError) as exc:
        raise DomainError(
            INVALID_SHIFT, _("The shift is not valid."), details={"segments": [str(exc)]}
        ) from None
    _validate_shift(shift, specs)
    after = {**snapshot(shift, SHIFT_FIELDS), "segments": _segments_snapshot(specs)}
    if before == after:
        return shift, []
    shift.save()
    if specs != old_segments:
        _write_segments(shift, specs)
    record("scheduling.shift.update", obj=shift, actor=actor, before=before, after=after)
    plan_fields = ("kind", "arrive_from", "arrive_until", "required_minutes", "segments")
    if any(before[f] != after[f] for f in plan_fields):
        return shift, list(schedule_changed(changes_for_shift(shift)))
    return shift, []


@transaction.atomic
def shift_upsert(
    *,
    actor: Any,
    code: str,
    name: str,
    segments: Sequence[SegmentSpec | dict[str, Any]],
    kind: str = Shift.Kind.FIXED,
    arrive_from: time | None = None,
    arrive_until: time | None = None,
    required_minutes: int | None = None,
    active: bool = True,
) -> tuple[Shift, bool, list[ScheduleChange]]:
    """Create the shift ``code`` or replace its whole definition (the API's idempotent
    PUT): ``(shift, created, changes)``. Repeating the same definition changes nothing
    and writes no audit event; a change to a shift in use recomputes its days."""
    _require(actor)
    fields: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "segments": segments,
        "arrive_from": arrive_from,
        "arrive_until": arrive_until,
        "required_minutes": required_minutes,
        "active": active,
    }
    existing = Shift.objects.filter(code=code).first()
    if existing is None:
        try:
            with transaction.atomic():
                shift, changes = shift_create(actor=actor, code=code, **fields)
            return shift, True, changes
        except IntegrityError:  # created meanwhile by a concurrent request: update it
            existing = Shift.objects.get(code=code)
    shift, changes = shift_update(actor=actor, shift=existing, **fields)
    return shift, False, changes


# --------------------------------------------------------------------------- patterns


@transaction.atomic
def pattern_set(
    *,
    actor: Any,
    group: AttendanceGroup,
    shifts: Sequence[Shift | None],
    default_workday_shift: Shift | None = None,
    use_work_calendar: bool = True,
    effective_from: date = PATTERN_EPOCH,
) -> tuple[WeeklyPattern, list[ScheduleChange]]:
    """Set the group's shift for Monday..Sunday (None = rest) from ``effective_from`` on.

    Upserts the version starting that day; earlier versions keep governing earlier days,
    so a change from next month leaves past results alone.
    """
    _require(actor)
    if len(shifts) != 7:
        raise DomainError(
            VALIDATION_ERROR, _("Give one shift (or none) for each of the 7 weekdays.")
        )
    pattern = (
        WeeklyPattern.objects.select_for_update()
        .filter(group=group, effective_from=effective_from)
        .first()
    )
    created = pattern is None
    before = None if created else snapshot(pattern, PATTERN_FIELDS)
    old_ids = set() if created else pattern.shift_ids()
    if created:
        pattern = WeeklyPattern(group=group, effective_from=effective_from)
    for name, shift in zip(WEEKDAY_FIELDS, shifts, strict=True):
        setattr(pattern, name, shift)
    pattern.default_workday_shift = default_workday_shift
    pattern.use_work_calendar = use_work_calendar
    for shift in {*shifts, default_workday_shift}:
        if shift is not None and shift.pk not in old_ids:
            _check_active(shift)
    after = snapshot(pattern, PATTERN_FIELDS)
    if before == after:
        return pattern, []
    try:
        pattern.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    pattern.save()
    record(
        "scheduling.pattern.create" if created else "scheduling.pattern.update",
        obj=pattern,
        actor=actor,
        before=before,
        after=after,
    )
    return pattern, list(schedule_changed(changes_for_pattern(pattern)))


@transaction.atomic
def pattern_delete(*, actor: Any, pattern: WeeklyPattern) -> tuple[None, list[ScheduleChange]]:
    """Remove one version; its days fall back to the previous version (or rest)."""
    _require(actor)
    changes = changes_for_pattern(pattern)
    before = snapshot(pattern, PATTERN_FIELDS)
    pk = pattern.pk
    pattern.delete()
    record(
        "scheduling.pattern.delete",
        object_type="scheduling.weeklypattern",
        object_id=pk,
        actor=actor,
        before=before,
    )
    return None, list(schedule_changed(changes))


# --------------------------------------------------------------------------- rosters


def _roster_scope(
    employees: Iterable[Employee], start: date, end: date, weekdays: Iterable[int] | None
) -> tuple[list[int], list[date]]:
    _check_range(start, end)
    wanted_weekdays = None if weekdays is None else set(weekdays)
    if wanted_weekdays is not None and not wanted_weekdays <= set(range(7)):
        raise DomainError(VALIDATION_ERROR, _("Weekdays are numbered 0 (Monday) to 6 (Sunday)."))
    ids = sorted({e.pk for e in employees})
    return ids, _days(start, end, wanted_weekdays)


@transaction.atomic
def roster_set(
    *,
    actor: Any,
    employees: Iterable[Employee],
    start: date,
    end: date,
    shift: Shift | None,
    weekdays: Iterable[int] | None = None,
    note: str = "",
) -> tuple[int, list[ScheduleChange]]:
    """Roster ``shift`` (None = rest) for each employee on each date of [start, end].

    ``weekdays`` (0 = Monday) limits the dates, e.g. {5, 6} for weekend duty. Returns the
    number of entries written (unchanged ones are skipped).
    """
    _require(actor)
    _check_active(shift)
    ids, days = _roster_scope(employees, start, end, weekdays)
    if not ids or not days:
        return 0, []
    shift_id = shift.pk if shift is not None else None
    existing = {
        (employee_id, day): (entry_shift_id, entry_note)
        for employee_id, day, entry_shift_id, entry_note in RosterEntry.objects.filter(
            employee_id__in=ids, date__gte=start, date__lte=end
        ).values_list("employee_id", "date", "shift_id", "note")
    }
    rows, before, changed_ids = [], [], set()
    plan_ids: set[int] = set()
    plan_days: set[date] = set()
    for employee_id in ids:
        for day in days:
            old = existing.get((employee_id, day))
            if old == (shift_id, note):
                continue
            if old is not None:
                before.append([employee_id, day, old[0]])
            if old is None or old[0] != shift_id:  # a new entry may differ from the pattern
                plan_ids.add(employee_id)
                plan_days.add(day)
            rows.append(
                RosterEntry(employee_id=employee_id, date=day, shift_id=shift_id, note=note)
            )
            changed_ids.add(employee_id)
    if not rows:
        return 0, []
    RosterEntry.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["employee", "date"],
        update_fields=["shift", "note"],
    )
    record(
        "scheduling.roster.set",
        object_type="scheduling.rosterentry",
        actor=actor,
        before={"replaced": before} if before else None,
        after={
            "employee_ids": sorted(changed_ids),
            "start": start,
            "end": end,
            "weekdays": sorted(weekdays) if weekdays is not None else None,
            "shift": shift.code if shift is not None else None,
            "note": note,
            "entries": len(rows),
        },
    )
    return len(rows), list(schedule_changed(changes_for_roster(plan_ids, plan_days)))


@transaction.atomic
def roster_clear(
    *,
    actor: Any,
    employees: Iterable[Employee],
    start: date,
    end: date,
    weekdays: Iterable[int] | None = None,
) -> tuple[int, list[ScheduleChange]]:
    """Remove roster entries so those days follow the weekly pattern again."""
    _require(actor)
    ids, days = _roster_scope(employees, start, end, weekdays)
    if not ids or not days:
        return 0, []
    entries = RosterEntry.objects.filter(employee_id__in=ids, date__in=days)
    removed = list(entries.values_list("employee_id", "date", "shift_id"))
    if not removed:
        return 0, []
    entries.delete()
    record(
        "scheduling.roster.clear",
        object_type="scheduling.rosterentry",
        actor=actor,
        before={"removed": [list(row) for row in removed]},
        after={"employee_ids": ids, "start": start, "end": end},
    )
    changes = changes_for_roster({r[0] for r in removed}, {r[1] for r in removed})
    return len(removed), list(schedule_changed(changes))


# --------------------------------------------------------------------------- calendar


@transaction.atomic
def calendar_day_set(
    *, actor: Any, day: date, kind: str | None, name: str = "", statutory: bool | None = None
) -> tuple[WorkCalendarDay | None, list[ScheduleChange]]:
    """Mark a date as holiday or make-up workday by hand, or (kind None) unmark it.

    ``statutory``: whether the holiday is a festival day of the law (法定节假日, overtime
    3×); None takes the law's reading of the date (``statutory.is_statutory``), as the
    import does for a file without the column. A make-up workday is never statutory. A change
    of kind or of the flag recomputes the date's days (open periods) after commit.
    """
    _require(actor)
    if kind is not None and kind not in WorkCalendarDay.Kind.values:
        raise DomainError(INVALID_CALENDAR_KIND, _("The kind must be holiday or workday."))
    if statutory and kind == WorkCalendarDay.Kind.WORKDAY:
        raise DomainError(
            INVALID_CALENDAR_KIND,
            _("A make-up workday is never statutory."),
            details={"statutory": [_("Only a holiday can be statutory.")]},
        )
    entry = WorkCalendarDay.objects.select_for_update().filter(date=day).first()
    before = snapshot(entry, CALENDAR_FIELDS) if entry else None
    if kind is None:
        if entry is None:
            return None, []
        entry.delete()
        record(
            "scheduling.calendar.delete",
            object_type="scheduling.workcalendarday",
            object_id=day.isoformat(),
            actor=actor,
            before=before,
        )
        return None, list(schedule_changed(changes_for_calendar([day])))
    name = clean_text(name, field="name", label=_("Name"), max_length=calendar_data.NAME_MAX)
    if kind != WorkCalendarDay.Kind.HOLIDAY:
        statutory = False
    elif statutory is None:
        statutory = is_statutory(day)
    entry = entry or WorkCalendarDay(date=day)
    plan_changes = entry.pk is None or entry.kind != kind or entry.statutory != statutory
    entry.kind, entry.name, entry.source = kind, name, WorkCalendarDay.Source.MANUAL
    entry.statutory = statutory
    try:
        entry.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    after = snapshot(entry, CALENDAR_FIELDS)
    if before == after:
        return entry, []
    entry.save()
    record(
        "scheduling.calendar.set",
        object_type="scheduling.workcalendarday",
        object_id=day.isoformat(),
        actor=actor,
        before=before,
        after=after,
    )
    changes = changes_for_calendar([day]) if plan_changes else []
    return entry, list(schedule_changed(changes))


@dataclass
class CalendarImportResult:
    year: int
    rows: int
    dry_run: bool
    created: list[date] = field(default_factory=list)
    updated: list[date] = field(default_factory=list)
    deleted: list[date] = field(default_factory=list)
    replaced_manual: list[date] = field(default_factory=list)
    kept_manual: list[date] = field(default_factory=list)

    @property
    def changed_dates(self) -> list[date]:
        return sorted({*self.created, *self.updated, *self.deleted, *self.replaced_manual})


@transaction.atomic
def calendar_import(
    *, actor: Any, year: int, content: str | bytes, dry_run: bool = False, source_name: str = ""
) -> tuple[CalendarImportResult, list[ScheduleChange]]:
    """Replace a year's official arrangement with a CSV file (``date,kind,name``).

    All or nothing: every row is checked first and any bad row aborts the import with the
    list of row errors (``DomainError.details``). Dates in the file replace what is there,
    hand-entered ones included (the file is the official word); seeded or imported dates
    missing from the file are removed; other hand-entered dates (company days off) stay.
    """
    _require(actor)
    days, errors = calendar_data.parse_csv(content, year=year)  # statutory: the law's if absent
    if errors:
        raise DomainError(
            CALENDAR_IMPORT_INVALID,
            _("The file has %(count)d error(s); nothing was imported.") % {"count": len(errors)},
            details=[e.as_dict() for e in errors],
        )
    existing = {
        row.date: row
        for row in WorkCalendarDay.objects.select_for_update().filter(
            date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
        )
    }
    result = CalendarImportResult(year=year, rows=len(days), dry_run=dry_run)
    in_file = {d.day for d in days}
    to_create, to_update, plan_dates = [], [], set()
    audit_changes = []
    for item in days:
        row = existing.get(item.day)
        if row is None:
            result.created.append(item.day)
            plan_dates.add(item.day)
            to_create.append(
                WorkCalendarDay(
                    date=item.day,
                    kind=item.kind,
                    name=item.name,
                    statutory=item.statutory,
                    source="import",
                )
            )
            audit_changes.append({"date": item.day, "before": None, "after": item.as_audit()})
            continue
        if (row.kind, row.name, row.statutory, row.source) == (
            item.kind,
            item.name,
            item.statutory,
            "import",
        ):
            continue
        (result.replaced_manual if row.source == "manual" else result.updated).append(item.day)
        if (row.kind, row.statutory) != (item.kind, item.statutory):
            plan_dates.add(item.day)
        audit_changes.append(
            {
                "date": item.day,
                "before": [row.kind, row.name, row.statutory, row.source],
                "after": item.as_audit(),
            }
        )
        row.kind, row.name, row.source = item.kind, item.name, "import"
        row.statutory = item.statutory
        to_update.append(row)
    stale = []
    for day, row in sorted(existing.items()):
        if day in in_file:
            continue
        if row.source == "manual":
            result.kept_manual.append(day)
            continue
        stale.append(row.pk)
        result.deleted.append(day)
        plan_dates.add(day)
        audit_changes.append(
            {"date": day, "before": [row.kind, row.name, row.statutory, row.source], "after": None}
        )
    if dry_run:
        return result, []
    WorkCalendarDay.objects.bulk_create(to_create)
    WorkCalendarDay.objects.bulk_update(to_update, ["kind", "name", "statutory", "source"])
    WorkCalendarDay.objects.filter(pk__in=stale).delete()
    calendar_year = CalendarYear.objects.filter(year=year).first()
    CalendarYear.objects.update_or_create(
        year=year,
        defaults={"status": CalendarYear.Status.IMPORTED, "note": f"import {source_name}"[:200]},
    )
    record(
        "scheduling.calendar.import",
        object_type="scheduling.calendaryear",
        object_id=year,
        actor=actor,
        before={"status": calendar_year.status if calendar_year else None},
        after={"status": CalendarYear.Status.IMPORTED, "rows": len(days), "file": source_name},
        extra={"changes": audit_changes, "kept_manual": result.kept_manual},
    )
    return result, list(schedule_changed(changes_for_calendar(plan_dates)))


YEAR_MIN, YEAR_MAX = 1900, 2999  # CalendarYear.year's validators


def check_calendar_year(year: int) -> int:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise DomainError(
            INVALID_RANGE,
            _("The year must be between %(low)d and %(high)d.")
            % {"low": YEAR_MIN, "high": YEAR_MAX},
        )
    return year


@transaction.atomic
def calendar_year_replace(
    *,
    actor: Any,
    year: int,
    days: Sequence[tuple[date, str, str] | tuple[date, str, str, bool | None]],
    source_name: str = "API",
) -> tuple[list[WorkCalendarDay], list[ScheduleChange]]:
    """Make ``days`` (date, kind, name[, statutory]) the whole of the year's calendar, in
    one step. ``statutory`` None or left out: the law's reading of a holiday's date.

    Unlike the CSV import, hand-entered days missing from the list go too: the list is the
    year's complete arrangement (an integrator's HR system is the master). Every item is
    checked first; any bad item (a date outside the year, a repeated date, an unknown kind,
    a bad name) refuses the whole list with every problem in ``details``. The year counts as
    having its official arrangement afterwards (no fallback warning). Changed dates are
    recomputed after commit.
    """
    _require(actor)
    check_calendar_year(year)
    checked, errors = calendar_data.check_days(days, year=year)
    if errors:
        raise DomainError(
            CALENDAR_IMPORT_INVALID,
            _("The list has %(count)d error(s); nothing was changed.") % {"count": len(errors)},
            details=[e.as_dict() for e in errors],
        )
    existing = {
        row.date: row
        for row in WorkCalendarDay.objects.select_for_update().filter(
            date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
        )
    }
    wanted = {d.day: d for d in checked}
    before = {str(d): [r.kind, r.name, r.statutory, r.source] for d, r in sorted(existing.items())}
    after = {str(d.day): [*d.as_audit(), WorkCalendarDay.Source.IMPORT] for d in checked}
    plan_dates = {d for d in existing if d not in wanted}
    plan_dates |= {
        d
        for d, item in wanted.items()
        if d not in existing
        or (existing[d].kind, existing[d].statutory) != (item.kind, item.statutory)
    }
    calendar_year = CalendarYear.objects.select_for_update().filter(year=year).first()
    status_before = calendar_year.status if calendar_year else None
    if before == after and status_before == CalendarYear.Status.IMPORTED:
        return sorted(existing.values(), key=lambda r: r.date), []
    WorkCalendarDay.objects.filter(
        pk__in=[r.pk for d, r in existing.items() if d not in wanted]
    ).delete()
    rows = []
    for item in checked:
        row = existing.get(item.day) or WorkCalendarDay(date=item.day)
        row.kind, row.name, row.source = item.kind, item.name, WorkCalendarDay.Source.IMPORT
        row.statutory = item.statutory
        row.save()
        rows.append(row)
    CalendarYear.objects.update_or_create(
        year=year,
        defaults={"status": CalendarYear.Status.IMPORTED, "note": source_name[:200]},
    )
    record(
        "scheduling.calendar.replace",
        object_type="scheduling.calendaryear",
        object_id=year,
        actor=actor,
        before={"status": status_before, "days": before},
        after={"status": CalendarYear.Status.IMPORTED, "days": after, "source": source_name},
    )
    return rows, list(schedule_changed(changes_for_calendar(plan_dates)))


@transaction.atomic
def calendar_year_confirm(*, actor: Any, year: int) -> tuple[CalendarYear, list[ScheduleChange]]:
    """HR says the days entered for ``year`` are its complete arrangement (for a year
    chinese-calendar does not cover): the year stops being warned about. No day changes,
    so nothing is recomputed; later seeds leave the year alone, as for an import."""
    _require(actor)
    check_calendar_year(year)
    row = CalendarYear.objects.select_for_update().filter(year=year).first()
    before = row.status if row else None
    if before == CalendarYear.Status.IMPORTED:
        return row, []
    days = WorkCalendarDay.objects.filter(date__year=year).count()
    row, _created = CalendarYear.objects.update_or_create(
        year=year,
        defaults={"status": CalendarYear.Status.IMPORTED, "note": "confirmed by hand"},
    )
    record(
        "scheduling.calendar.confirm",
        object_type="scheduling.calendaryear",
        object_id=year,
        actor=actor,
        before={"status": before},
        after={"status": row.status, "days": days},
    )
    return row, []


@transaction.atomic
def calendar_seed(
    *, actor: Any, from_year: int, to_year: int
) -> tuple[list[calendar_data.YearSeed], list[ScheduleChange]]:
    """Copy chinese-calendar's holidays and make-up workdays for the years (see seed_years)."""
    _require(actor)
    if to_year < from_year:
        raise DomainError(INVALID_RANGE, _("The last year is before the first year."))
    report = calendar_data.seed_years(WorkCalendarDay, CalendarYear, from_year, to_year)
    changed = [c for seed in report for c in seed.changes]
    record(
        "scheduling.calendar.seed",
        object_type="scheduling.calendaryear",
        object_id=f"{from_year}-{to_year}",
        actor=actor,
        after={
            "package": calendar_data.package_version(),
            "years": {
                seed.year: {
                    "status": seed.status,
                    "created": seed.created,
                    "updated": seed.updated,
                    "deleted": seed.deleted,
                    "kept_manual": seed.kept_manual,
                    "skipped": seed.skipped,
                }
                for seed in report
            },
        },
        extra={"changes": changed} if changed else None,
    )
    return report, list(schedule_changed(changes_for_calendar(c["date"] for c in changed)))


# --------------------------------------------------------------------------- exemptions


@transaction.atomic
def exemption_create(
    *,
    actor: Any,
    employee: Employee,
    start: datetime,
    end: datetime,
    kind: str,
    reason: str = "",
) -> tuple[Exemption, list[ScheduleChange]]:
    """Record approved leave, outing or business trip for [start, end)."""
    _require(actor)
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise DomainError(NAIVE_DATETIME, _("Give times with a time zone."))
    check_moment(start, field="start")
    check_moment(end, field="end")
    reason = clean_text(reason, field="reason", label=_("Reason"), multiline=True)
    exemption = Exemption(
        employee=employee, start=start, end=end, kind=kind, reason=reason, created_by=_user(actor)
    )
    try:
        exemption.full_clean(exclude=["created_by"])
    except ValidationError as exc:
        raise _validation_error(exc) from None
    # Lock the employee row so two concurrent entries cannot both pass the overlap check.
    Employee.objects.select_for_update().filter(pk=employee.pk).first()
    clash = Exemption.objects.filter(
        employee=employee, voided_at__isnull=True, start__lt=end, end__gt=start
    ).first()
    if clash is not None:
        raise DomainError(
            EXEMPTION_OVERLAP,
            _("It overlaps another exemption (%(kind)s from %(start)s); void that one first.")
            % {"kind": clash.get_kind_display(), "start": timezone.localtime(clash.start)},
        )
    exemption.save()
    record(
        "scheduling.exemption.create",
        obj=exemption,
        actor=actor,
        after=snapshot(exemption, EXEMPTION_FIELDS),
    )
    return exemption, list(schedule_changed(changes_for_exemption(exemption)))


@transaction.atomic
def exemption_void(
    *, actor: Any, exemption: Exemption, reason: str
) -> tuple[Exemption, list[ScheduleChange]]:
    """Cancel an exemption; it stays on record (voided) rather than being deleted."""
    _require(actor)
    exemption = (
        Exemption.objects.select_for_update(of=("self",))
        .select_related("employee__attendance_group")
        .get(pk=exemption.pk)
    )
    if exemption.voided:
        raise DomainError(EXEMPTION_VOIDED, _("The exemption is already voided."))
    reason = clean_text(reason, field="reason", label=_("Reason"), multiline=True)
    if not reason.strip():
        raise DomainError(VALIDATION_ERROR, _("Give a reason for voiding."))
    before = snapshot(exemption, EXEMPTION_FIELDS)
    exemption.voided_at = timezone.now()
    exemption.voided_by = _user(actor)
    exemption.void_reason = reason.strip()[:200]
    exemption.save(update_fields=["voided_at", "voided_by", "void_reason"])
    record(
        "scheduling.exemption.void",
        obj=exemption,
        actor=actor,
        before=before,
        after=snapshot(exemption, EXEMPTION_FIELDS),
    )
    return exemption, list(schedule_changed(changes_for_exemption(exemption)))


# --------------------------------------------------------------------------- roster cells

MAX_ROSTER_CELLS = 50_000
ROSTER_INVALID = "roster_invalid"
ROSTER_TOO_LARGE = "roster_too_large"
ROSTER_DUPLICATE = "roster_duplicate"


@dataclass(frozen=True)
class RosterCell:
    """What one employee should do on one date: ``shift`` (None: rest), or ``clear`` to
    remove the roster entry so the date follows the weekly pattern again."""

    employee_id: int
    day: date
    shift: Shift | None = None
    clear: bool = False

    @property
    def value(self) -> str:
        if self.clear:
            return PATTERN
        return self.shift.code if self.shift is not None else REST


@dataclass(frozen=True)
class CellChange:
    employee_id: int
    day: date
    before: str  # a shift code, REST or PATTERN
    after: str


@dataclass
class RosterApplyResult:
    changed: list[CellChange] = field(default_factory=list)
    unchanged: int = 0
    dry_run: bool = False


def _apply_cells(
    actor: Any,
    cells: Sequence[RosterCell],
    *,
    action: str,
    dry_run: bool,
    extra: dict[str, Any] | None = None,
) -> tuple[RosterApplyResult, list[ScheduleChange]]:
    if len(cells) > MAX_ROSTER_CELLS:
        raise DomainError(
            ROSTER_TOO_LARGE,
            _("At most %(max)d roster cells at a time.") % {"max": MAX_ROSTER_CELLS},
        )
    seen: dict[tuple[int, date], int] = {}
    errors: list[dict[str, Any]] = []
    for index, cell in enumerate(cells):
        key = (cell.employee_id, cell.day)
        if key in seen:
            errors.append(
                {
                    "index": index,
                    "code": ROSTER_DUPLICATE,
                    "message": str(
                        _("The same employee and date are given twice (also item %(n)d).")
                        % {"n": seen[key]}
                    ),
                }
            )
        else:
            seen[key] = index
        try:
            check_day(cell.day, field="date")
        except DomainError as exc:
            errors.append({"index": index, "code": exc.code, "message": exc.message})
    result = RosterApplyResult(dry_run=dry_run)
    if not cells:
        return result, []
    ids = sorted({c.employee_id for c in cells})
    first, last = min(c.day for c in cells), max(c.day for c in cells)
    query = RosterEntry.objects.filter(date__gte=first, date__lte=last)
    if len(ids) <= 900:  # SQLite's bound-parameter limit; a date range scan is cheap anyway
        query = query.filter(employee_id__in=ids)
    wanted = set(ids)
    existing = {
        (employee_id, day): (pk, shift_id)
        for pk, employee_id, day, shift_id in query.select_for_update().values_list(
            "pk", "employee_id", "date", "shift_id"
        )
        if employee_id in wanted
    }
    old_ids = {shift_id for _pk, shift_id in existing.values() if shift_id is not None}
    codes = dict(Shift.objects.filter(pk__in=old_ids).values_list("pk", "code"))
    codes.update({c.shift.pk: c.shift.code for c in cells if c.shift is not None})

    def token(shift_id: int | None) -> str:
        return REST if shift_id is None else codes.get(shift_id) or str(shift_id)

    upserts: list[RosterEntry] = []
    removed: list[int] = []
    for index, cell in enumerate(cells):
        old = existing.get((cell.employee_id, cell.day))
        before = PATTERN if old is None else token(old[1])
        after = cell.value
        if before == after:
            result.unchanged += 1
            continue
        if cell.shift is not None and not cell.clear and not cell.shift.active:
            errors.append(
                {
                    "index": index,
                    "code": SHIFT_INACTIVE,
                    "message": str(
                        _("The shift “%(code)s” is retired and cannot be scheduled.")
                        % {"code": cell.shift.code}
                    ),
                }
            )
            continue
        result.changed.append(CellChange(cell.employee_id, cell.day, before, after))
        if cell.clear:
            assert old is not None
            removed.append(old[0])
        else:
            upserts.append(
                RosterEntry(employee_id=cell.employee_id, date=cell.day, shift=cell.shift)
            )
    if errors:
        errors.sort(key=lambda e: e["index"])
        raise DomainError(
            ROSTER_INVALID,
            _("%(count)d item(s) refused; nothing was written.") % {"count": len(errors)},
            details=errors,
        )
    if dry_run or not result.changed:
        return result, []
    if upserts:
        RosterEntry.objects.bulk_create(
            upserts,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["employee", "date"],
            update_fields=["shift"],
        )
    if removed:
        RosterEntry.objects.filter(pk__in=removed).delete()
    record(
        action,
        object_type="scheduling.rosterentry",
        actor=actor,
        after={
            **(extra or {}),
            "changes": [[c.employee_id, c.day, c.before, c.after] for c in result.changed],
        },
    )
    changes = changes_for_roster(
        {c.employee_id for c in result.changed}, {c.day for c in result.changed}
    )
    return result, list(schedule_changed(changes))


@transaction.atomic
def roster_apply(
    *,
    actor: Any,
    cells: Sequence[RosterCell],
    dry_run: bool = False,
    source: str = "",
) -> tuple[RosterApplyResult, list[ScheduleChange]]:
    """Set each cell (a shift, rest, or back to the weekly pattern): all or nothing.

    Idempotent: cells that already hold their value are counted as unchanged and write
    nothing; when nothing changes no audit event is written. Any refused cell (the same
    employee and date twice, a retired shift, a date outside the calendar) refuses them
    all with every refusal in ``DomainError.details`` (``index`` into ``cells``).
    ``dry_run`` checks and reports the changes without writing.
    """
    _require(actor)
    return _apply_cells(
        actor,
        list(cells),
        action="scheduling.roster.apply",
        dry_run=dry_run,
        extra={"source": source} if source else None,
    )


def copy_source_day(day: date) -> date:
    """The date of the previous month whose roster ``day`` copies: the same weekday four
    weeks earlier (five weeks for the 29th–31st), always inside the previous month, so a
    weekly rotation keeps its weekdays."""
    return day - timedelta(days=28 if day.day <= 28 else 35)


@transaction.atomic
def roster_copy_previous_month(
    *, actor: Any, employees: Iterable[Employee], month: date, dry_run: bool = False
) -> tuple[RosterApplyResult, list[ScheduleChange]]:
    """Make ``month``'s roster of these employees what the previous month's was, by
    weekday (``copy_source_day``): a copied entry is set, a date without one is cleared
    (it follows the weekly pattern, as its source did). ``dry_run``: only the changes."""
    _require(actor)
    start = month.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    days = _days(start, following - timedelta(days=1), None)
    ids = sorted({e.pk for e in employees})
    if not ids:
        return RosterApplyResult(), []
    source_start, source_end = copy_source_day(days[0]), start - timedelta(days=1)
    sources = {
        (entry.employee_id, entry.date): entry.shift
        for entry in RosterEntry.objects.filter(
            employee_id__in=ids, date__gte=source_start, date__lte=source_end
        ).select_related("shift")
    }
    cells = []
    for employee_id in ids:
        for day in days:
            key = (employee_id, copy_source_day(day))
            if key in sources:
                cells.append(RosterCell(employee_id, day, shift=sources[key]))
            else:
                cells.append(RosterCell(employee_id, day, clear=True))
    # A retired shift of last month is not copied: those dates follow the pattern.
    cells = [
        c if c.shift is None or c.shift.active else RosterCell(c.employee_id, c.day, clear=True)
        for c in cells
    ]
    # Clearing a date that has no entry is "unchanged"; only real changes are written.
    return _apply_cells(
        actor,
        cells,
        action="scheduling.roster.copy",
        dry_run=dry_run,
        extra={"month": start.isoformat()[:7], "employee_ids": ids},
    )
