"""`record_punches`: the one door every punch goes through, whatever the channel."""

from __future__ import annotations

import functools
import logging
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.attendance.engine import affected_dates
from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.org.models import Employee

from .models import Punch, PunchSource, PunchVoid

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_VALID = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))

REFUSAL_MESSAGES = {
    "naive_time": _("The time has no time zone."),
    "impossible_timestamp": _("The time is impossible (before 2000 or far in the future)."),
    "future_time": _("The time is more than 5 minutes in the future."),
    "unknown_employee": _("No employee has this number."),
    "before_hire_date": _("The punch is before the employee's hire date."),
    "after_leave_date": _("The punch is after the employee's leave date."),
    "bad_source": _("Unknown punch source."),
    "bad_coordinates": _("The GPS coordinates are not valid."),
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
    if item.dedup_key:
        return item.dedup_key[:200]
    stamp = item.at.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%S.%f")
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

    A refused item is refused alone; the rest of the batch lands. Items whose employee is
    unknown go to `on_unknown` (held for later assignment) when given, else are refused.
    """
    now = now or timezone.now()
    result = RecordResult()
    numbers = {i.employee_no for i in inputs if i.employee_id is None and i.employee_no}
    ids = {i.employee_id for i in inputs if i.employee_id is not None}
    employees: dict[int, _Emp] = {}
    by_number: dict[str, _Emp] = {}
    if ids or numbers:
        for pk, number, hire, leave, tz_name, boundary in _employee_rows(ids, numbers):
            employee = _Emp(pk, hire, leave, _zone(tz_name or "UTC"), boundary or 0)
            employees[pk] = employee
            by_number[number] = employee

    accepted: list[tuple[int, PunchInput, _Emp, str]] = []
    unknown: list[tuple[int, PunchInput]] = []
    seen_keys: set[str] = set()
    sources = set(PunchSource.values)
    for index, item in enumerate(inputs):
        if item.source not in sources:
            result.rejected.append(_refuse(index, "bad_source", item))
            continue
        if item.at.tzinfo is None or item.at.utcoffset() is None:
            result.rejected.append(_refuse(index, "naive_time", item))
            continue
        if item.at < EARLIEST_VALID or item.at.year > 2100:
            result.rejected.append(_refuse(index, "impossible_timestamp", item))
            continue
        if item.at > now + FUTURE_TOLERANCE:
            result.rejected.append(_refuse(index, "future_time", item))
            continue
        if not _valid_coordinates(item):
            result.rejected.append(_refuse(index, "bad_coordinates", item))
            continue
        employee = (
            employees.get(item.employee_id)
            if item.employee_id is not None
            else by_number.get(item.employee_no or "")
        )
        if employee is None:
            unknown.append((index, item))
            continue
        local_day = item.at.astimezone(employee.tz).date()
        if employee.hire_date and local_day < employee.hire_date:
            result.rejected.append(_refuse(index, "before_hire_date", item))
            continue
        if employee.leave_date and local_day > employee.leave_date:
            result.rejected.append(_refuse(index, "after_leave_date", item))
            continue
        key = dedup_key_for(item, employee.pk)
        if key in seen_keys:
            result.duplicate += 1
            continue
        seen_keys.add(key)
        accepted.append((index, item, employee, key))

    with transaction.atomic():
        if unknown:
            if on_unknown is not None:
                result.held = on_unknown(unknown)
            else:
                for index, item in unknown:
                    result.rejected.append(_refuse(index, "unknown_employee", item))
        existing = set()
        keys = [key for *_rest, key in accepted]
        for start in range(0, len(keys), 500):
            existing.update(_existing_keys(keys[start : start + 500]))
        rows: list[dict[str, Any]] = []
        creator = actor if getattr(actor, "is_authenticated", False) else None
        creator_id = creator.pk if creator is not None else None
        for _index, item, employee, key in accepted:
            if key in existing:
                result.duplicate += 1
                continue
            rows.append(
                {
                    "employee_id": employee.pk,
                    "at": item.at,
                    "source": item.source,
                    "device_sn": item.device_sn,
                    "pin": item.pin,
                    "verify_mode": item.verify_mode,
                    "punch_state": item.punch_state,
                    "latitude": item.latitude,
                    "longitude": item.longitude,
                    "accuracy_m": item.accuracy_m,
                    "inside_geofence": item.inside_geofence,
                    "field_punch": item.field_punch,
                    "photo": item.photo or "",
                    "created_by_id": creator_id,
                    "remark": item.remark[:500],
                    "correction_id": item.correction_id,
                    "raw": item.raw[:1024],
                    "dedup_key": key,
                }
            )
            for day in affected_dates(item.at, employee.tz, employee.boundary):
                result.affected.add((employee.pk, day))
        if rows:
            result.new, result.punch_ids = _insert(rows)
            result.duplicate += len(rows) - result.new
        if rows or result.rejected or result.held:
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
                        "rejected": len(result.rejected),
                    },
                    "sources": sorted({r["source"] for r in rows}),
                    "devices": sorted({r["device_sn"] for r in rows if r["device_sn"]})[:20],
                    "employees": len({r["employee_id"] for r in rows}),
                    "first": min((r["at"] for r in rows), default=None),
                    "last": max((r["at"] for r in rows), default=None),
                    "rejections": [
                        {"index": r.index, "code": r.code} for r in result.rejected[:100]
                    ],
                    **(audit_extra or {}),
                },
            )
        if recompute and result.affected:
            times: dict[int, list[datetime]] = {}
            for row in rows:
                times.setdefault(row["employee_id"], []).append(row["at"])
            _recompute_safely(
                result.affected, now=now, punch_ids=result.punch_ids, punch_times=times
            )
    return result


def _employee_rows(ids: set[int], numbers: set[str]) -> list[tuple]:
    """(pk, number, hire date, leave date, group zone, boundary hour) of the employees with
    these ids or numbers. Raw SQL: the ORM spends longer compiling a 500-item IN list than
    the database answering it; at most 500 parameters a statement (SQLite allows 999)."""
    from ztk.org.models import AttendanceGroup

    connection = transaction.get_connection()
    employee, group = Employee._meta.db_table, AttendanceGroup._meta.db_table
    select = (
        "SELECT e.id, e.employee_no, e.hire_date, e.leave_date, g.time_zone, "
        f"g.day_boundary_hour FROM {employee} e LEFT JOIN {group} g "
        "ON g.id = e.attendance_group_id WHERE "
    )
    found: dict[int, tuple] = {}
    with connection.cursor() as cursor:
        for column, values in (("e.id", sorted(ids)), ("e.employee_no", sorted(numbers))):
            for start in range(0, len(values), 500):
                part = values[start : start + 500]
                cursor.execute(f"{select}{column} IN ({', '.join(['%s'] * len(part))})", part)
                for row in cursor.fetchall():
                    found[row[0]] = row
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


def _insert(rows: list[dict[str, Any]]) -> tuple[int, list[int]]:
    """Insert; if a concurrent writer stored one of the same punches first, skip it quietly.

    Rows without an uploaded photo go in as raw multi-row INSERT … RETURNING (the ORM's
    bulk_create costs ~20× more per row); rows with a photo go through the model so the
    file is saved by its storage.
    """
    if all(isinstance(r["photo"], str) for r in rows):
        try:
            with transaction.atomic():
                ids = _raw_insert(rows)
            return len(ids), ids
        except IntegrityError:
            pass
    punches = [Punch(**r) for r in rows]
    try:
        with transaction.atomic():
            created = Punch.objects.bulk_create(punches, batch_size=500)
        return len(created), [p.pk for p in created]
    except IntegrityError:
        keys = [r.dedup_key for r in punches]
        before = set(Punch.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True))
        fresh = [r for r in punches if r.dedup_key not in before]
        Punch.objects.bulk_create(fresh, batch_size=500, ignore_conflicts=True)
        ids = dict(
            Punch.objects.filter(dedup_key__in=[r.dedup_key for r in fresh]).values_list(
                "dedup_key", "pk"
            )
        )
        return len(ids), list(ids.values())


# Row dict -> values in _INSERT_FIELDS order without created_at (set per statement).
_ROW_VALUES = operator.itemgetter(*(f for f in _INSERT_FIELDS if f != "created_at"))
_AT = _INSERT_FIELDS.index("at")
_CREATED_AT = _INSERT_FIELDS.index("created_at")
assert _AT < _CREATED_AT


def _existing_keys(keys: list[str]) -> list[str]:
    """Which of these dedup keys are stored (raw: the ORM compiles a 500-item IN slowly)."""
    if not keys:
        return []
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT dedup_key FROM {Punch._meta.db_table} "
            f"WHERE dedup_key IN ({', '.join(['%s'] * len(keys))})",
            keys,
        )
        return [row[0] for row in cursor.fetchall()]


def _raw_insert(rows: list[dict[str, Any]]) -> list[int]:
    connection = transaction.get_connection()
    ops = connection.ops
    table = Punch._meta.db_table
    columns = ", ".join(_INSERT_FIELDS)
    one = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    created_at = ops.adapt_datetimefield_value(timezone.now())
    adapt = ops.adapt_datetimefield_value
    values = []
    for r in rows:
        row = list(_ROW_VALUES(r))
        row[_AT] = adapt(row[_AT])
        row.insert(_CREATED_AT, created_at)
        values.append(row)
    limit = connection.features.max_query_params or 65535
    step = max(1, min(500, limit // len(_INSERT_FIELDS)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for i in range(0, len(values), step):
            part = values[i : i + step]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(part))} "
                "RETURNING id",
                [v for row in part for v in row],
            )
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


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
    from ztk.attendance.services import recompute, recompute_punched

    try:
        with transaction.atomic():
            if punch_ids is None:
                recompute(pairs, now=now)
            else:
                recompute_punched(pairs, punch_ids, now=now, punch_times=punch_times)
    except Exception:  # noqa: BLE001 - logged; the periodic recompute catches up
        log.exception("recompute after punch failed; the periodic task will catch up")


@transaction.atomic
def punch_void(*, actor: Any, punch: Punch, reason: str) -> PunchVoid:
    """Void a wrong punch: audited, the punch stays, the engine ignores it from now on."""
    if not actor.has_perm("org.manage_organisation"):
        raise PermissionDeniedError()
    reason = (reason or "").strip()
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
    group = punch.employee.attendance_group
    tz = ZoneInfo(group.time_zone if group else "UTC")
    pairs = {
        (punch.employee_id, d)
        for d in affected_dates(punch.at, tz, group.day_boundary_hour if group else 0)
    }
    _recompute_safely(pairs, now=timezone.now())
    return void


DUPLICATE_TAP_SECONDS = 60


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), good to a metre at geofence scales."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(min(1.0, a)))


def inside_any_geofence(
    latitude: float, longitude: float, fences: Iterable[tuple[float, float, float]]
) -> bool | None:
    """True/False against the fences (lat, lon, radius m); None when the group has none."""
    fences = list(fences)
    if not fences:
        return None
    return any(distance_m(latitude, longitude, lat, lon) <= radius for lat, lon, radius in fences)


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
) -> WebPunchOutcome:
    """The one-tap punch from a browser or phone, checked against the group's geofences."""
    from ztk.org.rules import employee_of

    from .models import Geofence, OutsideGeofenceRule, PunchSettings

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
    fences = list(
        Geofence.objects.filter(group=group).values_list("latitude", "longitude", "radius_m")
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
                photo=photo,
                remark=remark,
            )
        ],
        actor=actor,
        now=now,
        audit_action=f"punches.{channel}_punch",
    )
    if result.rejected:
        refusal = result.rejected[0]
        raise DomainError(refusal.code, refusal.message)
    punch = Punch.objects.get(pk=result.punch_ids[0]) if result.punch_ids else None
    return WebPunchOutcome(punch is None, punch, field_punch, inside)
