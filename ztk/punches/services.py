"""`record_punches`: the one door every punch goes through, whatever the channel."""

from __future__ import annotations

import functools
import logging
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core import uploads
from ztk.core.db import fetch_all, in_clause
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.core.metrics import count_punches
from ztk.core.parse import FIRST_MOMENT, moment_in_range
from ztk.core.text import INVALID_TEXT, clean_text, is_clean_text
from ztk.engine import affected_dates
from ztk.engine.geo import inside_any_geofence
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.rules import employee_of
from ztk.org.zones import employee_zone, zone_names

from .geofence_selectors import active_fences
from .hooks import day_keeper
from .models import OutsideGeofenceRule, Punch, PunchSettings, PunchSource, PunchVoid

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_VALID = FIRST_MOMENT

REFUSAL_MESSAGES = {
    "naive_time": _("The time has no time zone."),
    "impossible_timestamp": _("The time is impossible (before 2000 or far in the future)."),
    "future_time": _("The time is more than 5 minutes in the future."),
    "unknown_employee": _("No employee has this number."),
    "before_hire_date": _("The punch is before the employee's hire date."),
    "after_leave_date": _("The punch is after the employee's leave date."),
    "bad_source": _("Unknown punch source."),
    "bad_coordinates": _("The GPS coordinates are not valid."),
    INVALID_TEXT: _(
        "The punch contains a character that is not allowed (a control character or a "
        "text-direction override)."
    ),
}


@dataclass(frozen=True, slots=True)
class PunchInput:
    at: datetime
    source: str
    employee_id: int | None = None
    employee_no: str | None = None
    device_sn: str = ""
    pin: str = ""
    verify_mode: int | None = None
    punch_state: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    inside_geofence: bool | None = None
    field_punch: bool = False
    photo: Any = None
    remark: str = ""
    correction_id: int | None = None
    raw: str = ""
    dedup_key: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    index: int
    code: str
    message: str
    raw: str = ""


@dataclass
class RecordResult:
    new: int = 0
    duplicate: int = 0
    held: int = 0
    rejected: list[Refusal] = field(default_factory=list)
    punch_ids: list[int] = field(default_factory=list)
    affected: set[tuple[int, date]] = field(default_factory=set)
    # Positions in `inputs` of the punches stored now (the rest: duplicate, held, rejected).
    new_indexes: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "duplicate": self.duplicate,
            "held": self.held,
            "rejected": [
                {"index": r.index, "code": r.code, "message": r.message} for r in self.rejected
            ],
        }


def dedup_key_for(item: PunchInput, employee_id: int) -> str:
    """Terminals re-send (serial, PIN, time); other channels are unique per employee and instant."""
    return _dedup_key(item, employee_id, item.at.astimezone(UTC))


def _dedup_key(item: PunchInput, employee_id: int, utc: datetime) -> str:
    if item.dedup_key:
        return item.dedup_key[:200]
    stamp = (
        f"{utc.year:04d}{utc.month:02d}{utc.day:02d}T{utc.hour:02d}{utc.minute:02d}"
        f"{utc.second:02d}.{utc.microsecond:06d}"
    )
    if item.source == PunchSource.DEVICE and item.device_sn:
        return f"dev:{item.device_sn}:{item.pin or employee_id}:{stamp}"[:200]
    return f"{item.source}:{employee_id}:{stamp}"


def _valid_coordinates(item: PunchInput) -> bool:
    if item.latitude is None and item.longitude is None:
        return True
    if item.latitude is None or item.longitude is None:
        return False
    if not (math.isfinite(item.latitude) and math.isfinite(item.longitude)):
        return False
    return -90 <= item.latitude <= 90 and -180 <= item.longitude <= 180


def _clean_texts(item: PunchInput) -> bool:
    """The punch's text fields pass core.text (a NUL would fail the whole batch's insert)."""
    return (
        is_clean_text(item.remark, multiline=True)
        and is_clean_text(item.raw, multiline=True)
        and is_clean_text(item.employee_no or "")
        and is_clean_text(item.pin)
        and is_clean_text(item.device_sn)
        and is_clean_text(item.dedup_key or "")
    )


def _refuse(index: int, code: str, item: PunchInput) -> Refusal:
    return Refusal(index, code, str(REFUSAL_MESSAGES[code]), item.raw)


def record_punches(
    inputs: Sequence[PunchInput],
    *,
    actor: Any = None,
    on_unknown: Callable[[list[tuple[int, PunchInput]]], int] | None = None,
    now: datetime | None = None,
    recompute: bool = True,
    audit_action: str = "punches.record",
    audit_extra: dict[str, Any] | None = None,
) -> RecordResult:
    """Store new punches exactly once, audit the batch and recompute the days they touch.

    The days are recomputed inside this call, or, for a batch of more than
    settings.RECOMPUTE_DEFER_ABOVE new punches, queued in this transaction for the
    background drain (attendance.services.drain_pending), which follows within seconds.
    A refused item is refused alone; the rest of the batch lands. Items whose employee is
    unknown go to `on_unknown` (held for later assignment) when given, else are refused.
    """
    now = now or timezone.now()
    result = RecordResult()
    numbers = {
        i.employee_no
        for i in inputs
        if i.employee_id is None and i.employee_no and is_clean_text(i.employee_no)
    }
    ids = {i.employee_id for i in inputs if i.employee_id is not None}
    employees: dict[int, _Emp] = {}
    by_number: dict[str, _Emp] = {}
    if ids or numbers:
        rows = _employee_rows(ids, numbers)
        names = zone_names(row[4] for row in rows)
        for pk, number, hire, leave, tz_name, boundary in rows:
            known = _Emp(pk, hire, leave, _zone(names[tz_name]), boundary or 0)
            employees[pk] = known
            by_number[number] = known

    accepted: list[_Accepted] = []
    unknown: list[tuple[int, PunchInput]] = []
    seen_keys: set[str] = set()
    sources = _SOURCES
    latest = (now + FUTURE_TOLERANCE).astimezone(UTC)
    one_day = timedelta(days=1)
    rejected = result.rejected
    for index, item in enumerate(inputs):
        at = item.at
        if item.source not in sources:
            rejected.append(_refuse(index, "bad_source", item))
            continue
        if at.tzinfo is None or at.utcoffset() is None:
            rejected.append(_refuse(index, "naive_time", item))
            continue
        if not moment_in_range(at):  # checked before converting: year 9999 overflows UTC
            rejected.append(_refuse(index, "impossible_timestamp", item))
            continue
        utc = at.astimezone(UTC)
        if utc > latest:
            rejected.append(_refuse(index, "future_time", item))
            continue
        if (item.latitude is not None or item.longitude is not None) and not (
            _valid_coordinates(item)
        ):
            rejected.append(_refuse(index, "bad_coordinates", item))
            continue
        if not _clean_texts(item):
            rejected.append(_refuse(index, INVALID_TEXT, item))
            continue
        employee = (
            employees.get(item.employee_id)
            if item.employee_id is not None
            else by_number.get(item.employee_no or "")
        )
        if employee is None:
            unknown.append((index, item))
            continue
        local_day = utc.astimezone(employee.tz).date()
        if employee.hire_date and local_day < employee.hire_date:
            rejected.append(_refuse(index, "before_hire_date", item))
            continue
        if employee.leave_date and local_day > employee.leave_date:
            rejected.append(_refuse(index, "after_leave_date", item))
            continue
        key = _dedup_key(item, employee.pk, utc)
        if key in seen_keys:
            result.duplicate += 1
            continue
        seen_keys.add(key)
        accepted.append(_Accepted(item, employee.pk, key, utc, local_day, index))

    with transaction.atomic():
        if unknown:
            if on_unknown is not None:
                result.held = on_unknown(unknown)
            else:
                for index, item in unknown:
                    rejected.append(_refuse(index, "unknown_employee", item))
        creator = actor if getattr(actor, "is_authenticated", False) else None
        stored = _insert(accepted, creator.pk if creator is not None else None)
        result.new = len(stored)
        count_punches(entry.item.source for _punch_id, entry in stored)
        result.duplicate += len(accepted) - len(stored)
        result.punch_ids = [punch_id for punch_id, _entry in stored]
        result.new_indexes = sorted(entry.position for _punch_id, entry in stored)
        for _punch_id, entry in stored:
            day = entry.local_day
            pk = entry.employee_id
            result.affected.update(((pk, day - one_day), (pk, day), (pk, day + one_day)))
        if stored or rejected or result.held:
            new = [entry for _punch_id, entry in stored]
            record(
                audit_action,
                object_type="punches.punch",
                object_id=result.punch_ids[0] if len(result.punch_ids) == 1 else "",
                actor=actor,
                extra={
                    "counts": {
                        "new": result.new,
                        "duplicate": result.duplicate,
                        "held": result.held,
                        "rejected": len(rejected),
                    },
                    "sources": sorted({e.item.source for e in new}),
                    "devices": sorted({e.item.device_sn for e in new if e.item.device_sn})[:20],
                    "employees": len({e.employee_id for e in new}),
                    "first": min((e.item.at for e in new), default=None),
                    "last": max((e.item.at for e in new), default=None),
                    "rejections": [{"index": r.index, "code": r.code} for r in rejected[:100]],
                    **(audit_extra or {}),
                },
            )
        defer_above = settings.RECOMPUTE_DEFER_ABOVE
        if recompute and 0 < defer_above < len(stored):
            day_keeper().defer((e.employee_id, e.local_day, punch_id) for punch_id, e in stored)
        elif recompute and result.affected:
            times: dict[int, list[datetime]] = {}
            for _punch_id, entry in stored:
                times.setdefault(entry.employee_id, []).append(entry.item.at)
            _recompute_safely(
                result.affected, now=now, punch_ids=result.punch_ids, punch_times=times
            )
    return result


_SOURCES = frozenset(PunchSource.values)


class _Accepted(NamedTuple):
    """An item that passed every check, with what the insert and recompute need of it."""

    item: PunchInput
    employee_id: int
    key: str
    utc: datetime
    local_day: date
    position: int = -1  # index in the caller's inputs


def _employee_rows(ids: set[int], numbers: set[str]) -> list[tuple]:
    """(pk, number, hire date, leave date, group zone, boundary hour) of the employees with
    these ids or numbers. Raw SQL: the ORM spends longer compiling a 500-item IN list than
    the database answering it; at most 500 parameters a statement (SQLite allows 999)."""
    employee, group = Employee._meta.db_table, AttendanceGroup._meta.db_table
    select = (
        "SELECT e.id, e.employee_no, e.hire_date, e.leave_date, g.time_zone, "
        f"g.day_boundary_hour FROM {employee} e LEFT JOIN {group} g "
        "ON g.id = e.attendance_group_id WHERE "
    )
    found: dict[int, tuple] = {}
    for column, values in (("e.id", sorted(ids)), ("e.employee_no", sorted(numbers))):
        for start in range(0, len(values), 500):
            part = values[start : start + 500]
            clause, params = in_clause(column, part)
            for row in fetch_all(f"{select}{clause}", params):
                hire, leave = row[2], row[3]
                if hire is not None and hire.__class__ is not date:
                    hire = date.fromisoformat(str(hire))
                if leave is not None and leave.__class__ is not date:
                    leave = date.fromisoformat(str(leave))
                found[row[0]] = (row[0], row[1], hire, leave, row[4], row[5])
    return list(found.values())


class _Emp(NamedTuple):
    pk: int
    hire_date: date | None
    leave_date: date | None
    tz: ZoneInfo
    boundary: int


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


_INSERT_FIELDS = (
    "employee_id", "at", "source", "device_sn", "pin", "verify_mode", "punch_state", "latitude",
    "longitude", "accuracy_m", "inside_geofence", "field_punch", "photo", "created_by_id",
    "created_at", "remark", "correction_id", "raw", "dedup_key",
)  # fmt: skip


def _insert(accepted: list[_Accepted], creator_id: int | None) -> list[tuple[int, _Accepted]]:
    """Store the accepted punches not stored yet; (id, entry) of each one stored now.

    Rows without an uploaded photo go in as raw multi-row ``INSERT … ON CONFLICT DO
    NOTHING RETURNING``: a punch already stored (re-sent, or stored by a concurrent
    writer first) is skipped by the database, with no look-up before (the ORM's
    bulk_create costs ~20× more per row). Rows with a photo go through the model so the
    file is saved by its storage.
    """
    if not accepted:
        return []
    connection = transaction.get_connection()
    if connection.features.can_return_rows_from_bulk_insert and all(
        not e.item.photo for e in accepted
    ):
        return _raw_insert(accepted, creator_id)
    existing: set[str] = set()
    keys = [e.key for e in accepted]
    for start in range(0, len(keys), 500):
        existing.update(_existing_keys(keys[start : start + 500]))
    fresh = [e for e in accepted if e.key not in existing]
    punches = [_punch(e, creator_id) for e in fresh]
    try:
        with transaction.atomic():
            created = Punch.objects.bulk_create(punches, batch_size=500)
        return [(p.pk, e) for p, e in zip(created, fresh, strict=True)]
    except IntegrityError:
        before = set(
            Punch.objects.filter(dedup_key__in=[p.dedup_key for p in punches]).values_list(
                "dedup_key", flat=True
            )
        )
        kept = [(p, e) for p, e in zip(punches, fresh, strict=True) if p.dedup_key not in before]
        Punch.objects.bulk_create([p for p, _e in kept], batch_size=500, ignore_conflicts=True)
        ids = dict(
            Punch.objects.filter(dedup_key__in=[p.dedup_key for p, _e in kept]).values_list(
                "dedup_key", "pk"
            )
        )
        return [(ids[p.dedup_key], e) for p, e in kept if p.dedup_key in ids]


def _punch(entry: _Accepted, creator_id: int | None) -> Punch:
    item = entry.item
    return Punch(
        employee_id=entry.employee_id,
        at=item.at,
        source=item.source,
        device_sn=item.device_sn,
        pin=item.pin,
        verify_mode=item.verify_mode,
        punch_state=item.punch_state,
        latitude=item.latitude,
        longitude=item.longitude,
        accuracy_m=item.accuracy_m,
        inside_geofence=item.inside_geofence,
        field_punch=item.field_punch,
        photo=item.photo or "",
        created_by_id=creator_id,
        remark=item.remark[:500],
        correction_id=item.correction_id,
        raw=item.raw[:1024],
        dedup_key=entry.key,
    )


def _existing_keys(keys: list[str]) -> list[str]:
    """Which of these dedup keys are stored (raw: the ORM compiles a 500-item IN slowly)."""
    if not keys:
        return []
    return [
        row[0]
        for row in fetch_all(
            f"SELECT dedup_key FROM {Punch._meta.db_table} "
            f"WHERE dedup_key IN ({', '.join(['%s'] * len(keys))})",
            keys,
        )
    ]


def _raw_insert(accepted: list[_Accepted], creator_id: int | None) -> list[tuple[int, _Accepted]]:
    connection = transaction.get_connection()
    table = Punch._meta.db_table
    columns = ", ".join(_INSERT_FIELDS)
    one = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    sqlite = connection.vendor == "sqlite"
    ops = connection.ops
    created_at = ops.adapt_datetimefield_value(timezone.now())
    values = []
    for e in accepted:
        item = e.item
        # SQLite stores naive UTC text (what Django's adapter writes); others the instant.
        at = e.utc.replace(tzinfo=None).isoformat(" ") if sqlite else e.utc
        values.append(
            (
                e.employee_id, at, item.source, item.device_sn, item.pin, item.verify_mode,
                item.punch_state, item.latitude, item.longitude, item.accuracy_m,
                item.inside_geofence, item.field_punch, "", creator_id, created_at,
                item.remark[:500], item.correction_id, item.raw[:1024], e.key,
            )
        )  # fmt: skip
    by_key = {e.key: e for e in accepted}
    stored: list[tuple[int, _Accepted]] = []
    if connection.vendor == "postgresql":
        # One array a column (unnest): 19 parameters instead of 19 a row, which psycopg
        # would scan the statement for on every batch. Arrays of varchar without a length:
        # a cast to varchar(n) would cut a longer value where the column refuses it.
        types = [
            str(Punch._meta.get_field(name).db_type(connection)).split("(")[0]
            for name in _INSERT_FIELDS
        ]
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        rows = fetch_all(
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "
            "ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key",
            [list(column) for column in zip(*values, strict=True)],
        )
        stored.extend((punch_id, by_key[key]) for punch_id, key in rows)
        stored.sort(key=operator.itemgetter(0))
        return stored
    limit = connection.features.max_query_params or 65535
    step = max(1, min(500, limit // len(_INSERT_FIELDS)))
    for i in range(0, len(values), step):
        part = values[i : i + step]
        rows = fetch_all(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(part))} "
            "ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key",
            [v for row in part for v in row],
        )
        stored.extend((punch_id, by_key[key]) for punch_id, key in rows)
    stored.sort(key=operator.itemgetter(0))
    return stored


def _recompute_safely(
    pairs: Iterable[tuple[int, date]],
    *,
    now: datetime,
    punch_ids: Sequence[int] | None = None,
    punch_times: dict[int, list[datetime]] | None = None,
) -> None:
    """Recompute in a savepoint: a failure there must never lose the punches just accepted.

    With `punch_ids` (new punches), only the candidate days those punches landed on;
    `punch_times` are their instants by employee (saves reading them back).
    """
    keeper = day_keeper()
    try:
        with transaction.atomic():
            if punch_ids is None:
                keeper.recompute(pairs, now=now)
            else:
                keeper.recompute_punched(pairs, punch_ids, now=now, punch_times=punch_times)
    except Exception:  # noqa: BLE001 - logged; the periodic recompute catches up
        log.exception("recompute after punch failed; the periodic task will catch up")


@transaction.atomic
def punch_void(*, actor: Any, punch: Punch, reason: str) -> PunchVoid:
    """Void a wrong punch: audited, the punch stays, the engine ignores it from now on."""
    if not actor.has_perm("org.manage_organisation"):
        raise PermissionDeniedError()
    reason = clean_text(reason, field="reason", label=_("Reason"), multiline=True)
    if len(reason) < 2:
        raise DomainError("reason_required", _("Give a reason for voiding the punch."))
    if PunchVoid.objects.filter(punch=punch).exists():
        raise DomainError("already_voided", _("This punch is already voided."))
    void = PunchVoid.objects.create(punch=punch, reason=reason[:500], voided_by=actor)
    record(
        "punches.punch.void",
        obj=punch,
        actor=actor,
        before={"voided": False},
        after={"voided": True, "reason": void.reason},
    )
    _recompute_punch_days(punch)
    return void


def _recompute_punch_days(punch: Punch) -> None:
    group = punch.employee.attendance_group
    tz = employee_zone(punch.employee)
    pairs = {
        (punch.employee_id, d)
        for d in affected_dates(punch.at, tz, group.day_boundary_hour if group else 0)
    }
    _recompute_safely(pairs, now=timezone.now())


# 极速打卡: the seconds a quick punch may be undone in (the page counts them down), plus
# what a slow connection may add between the tap and the server.
UNDO_SECONDS = 10
UNDO_GRACE_SECONDS = 5


@transaction.atomic
def punch_undo(*, actor: Any, punch_id: int, now: datetime | None = None) -> PunchVoid:
    """The employee's undo of their own quick punch, within `UNDO_SECONDS` of it: the punch
    is voided (it stays, audited), so an accidental quick punch leaves no result behind."""
    now = now or timezone.now()
    employee = employee_of(actor)
    punch = (
        Punch.objects.select_for_update(of=("self",))  # the group may be null: lock the punch
        .filter(pk=punch_id, employee=employee)
        .select_related("employee__attendance_group")
        .first()
        if employee is not None
        else None
    )
    if punch is None:
        raise NotFoundError()
    if punch.source not in (PunchSource.WEB, PunchSource.MOBILE):
        raise DomainError("not_undoable", _("Only a punch made in the app can be undone."))
    if PunchVoid.objects.filter(punch=punch).exists():
        raise DomainError("already_voided", _("This punch is already voided."))
    if (now - punch.created_at).total_seconds() > UNDO_SECONDS + UNDO_GRACE_SECONDS:
        raise DomainError(
            "undo_expired",
            _("A punch can be undone only within %(seconds)s seconds; ask HR to void it.")
            % {"seconds": UNDO_SECONDS},
        )
    void = PunchVoid.objects.create(
        punch=punch, reason=str(_("Undone by the employee right after punching")), voided_by=actor
    )
    record(
        "punches.punch.undo",
        obj=punch,
        actor=actor,
        before={"voided": False},
        after={"voided": True, "seconds_after": round((now - punch.created_at).total_seconds())},
    )
    _recompute_punch_days(punch)
    return void


DUPLICATE_TAP_SECONDS = 60


@dataclass(frozen=True, slots=True)
class WebPunchOutcome:
    duplicate: bool
    punch: Punch | None
    field_punch: bool
    inside_geofence: bool | None


def web_punch(
    *,
    actor: Any,
    latitude: float | None,
    longitude: float | None,
    accuracy_m: float | None = None,
    photo: Any = None,
    channel: str = PunchSource.WEB,
    remark: str = "",
    now: datetime | None = None,
    quick: bool = False,
) -> WebPunchOutcome:
    """The one-tap punch from a browser or phone, checked against the group's geofences.

    ``quick``: the app punched by itself on opening (极速打卡): only where the group allows
    it and only inside a punch area — never a field punch, which needs the person's photo."""
    now = now or timezone.now()
    employee = employee_of(actor)
    if employee is None:
        raise DomainError("no_employee", _("This account is not linked to an employee."))
    if not employee.active:
        raise DomainError("employee_inactive", _("The employee is not active."))
    if channel not in (PunchSource.WEB, PunchSource.MOBILE):
        raise DomainError("bad_source", REFUSAL_MESSAGES["bad_source"])
    group = employee.attendance_group
    settings_row = PunchSettings.objects.filter(group=group).first() if group else None
    if settings_row is not None and not settings_row.web_punch_enabled:
        raise DomainError(
            "web_punch_disabled", _("Your attendance group does not allow web or phone punches.")
        )
    fences = active_fences(group.pk) if group else []
    if quick and (settings_row is None or not settings_row.quick_punch or not fences):
        raise DomainError(
            "quick_punch_off", _("Quick punch is not switched on for your attendance group.")
        )
    inside: bool | None = None
    field_punch = False
    if fences:
        if latitude is None or longitude is None:
            raise DomainError(
                "location_required",
                _("Your location is needed to punch; allow location access and try again."),
            )
        probe = PunchInput(at=now, source=channel, latitude=latitude, longitude=longitude)
        if not _valid_coordinates(probe):
            raise DomainError("bad_coordinates", REFUSAL_MESSAGES["bad_coordinates"])
        inside = inside_any_geofence(latitude, longitude, fences)
        if not inside and quick:
            raise DomainError(
                "quick_outside",
                _("Quick punch works only inside a punch area: tap the button to punch."),
            )
        if not inside:
            rule = settings_row.outside_rule if settings_row else OutsideGeofenceRule.FIELD
            if rule == OutsideGeofenceRule.REFUSE:
                raise DomainError(
                    "outside_geofence",
                    _("You are outside every punch area of your attendance group."),
                )
            if not photo:
                raise DomainError(
                    "photo_required",
                    _("You are outside the punch areas: a field punch (外勤) needs a photo."),
                )
            field_punch = True
    stored_photo = uploads.as_stored(uploads.check(photo, uploads.PHOTO)) if photo else None
    recent = (
        Punch.objects.filter(
            employee=employee,
            source__in=[PunchSource.WEB, PunchSource.MOBILE],
            at__gt=now - timedelta(seconds=DUPLICATE_TAP_SECONDS),
            at__lte=now + FUTURE_TOLERANCE,
        )
        .order_by("-at")
        .first()
    )
    if recent is not None:
        return WebPunchOutcome(True, recent, recent.field_punch, recent.inside_geofence)
    result = record_punches(
        [
            PunchInput(
                at=now,
                source=channel,
                employee_id=employee.pk,
                latitude=latitude,
                longitude=longitude,
                accuracy_m=accuracy_m,
                inside_geofence=inside,
                field_punch=field_punch,
                photo=stored_photo,
                remark=remark,
            )
        ],
        actor=actor,
        now=now,
        audit_action="punches.quick_punch" if quick else f"punches.{channel}_punch",
    )
    if result.rejected:
        refusal = result.rejected[0]
        raise DomainError(refusal.code, refusal.message)
    punch = Punch.objects.get(pk=result.punch_ids[0]) if result.punch_ids else None
    return WebPunchOutcome(punch is None, punch, field_punch, inside)
