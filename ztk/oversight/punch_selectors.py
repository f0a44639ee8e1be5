"""Reads for the suspicious-punch rules (``punch_checks``): every web and phone punch of
the periods and of the history before them (new devices), with its position, the device
it came from and the fences of the groups — three queries whatever the number of people.

The device of a web or phone punch is the user agent stored in the punch's audit event
(``punches.web_punch`` / ``mobile_punch`` / ``quick_punch``, one event per punch, its
``object_id`` the punch's id): hash-chained with the rest of the audit log, so it cannot
be edited after the fact. Nothing else about the device is stored.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from ztk.audit.models import AuditEvent
from ztk.engine.geo import Fence
from ztk.org.zones import default_zone_name
from ztk.punches.models import Geofence, Punch, PunchSource

from .punch_checks import PositionRow, device_fingerprint
from .selectors import Period, _bounds, _period_start, _zones

DEVICE_ACTIONS = ("punches.web_punch", "punches.mobile_punch", "punches.quick_punch")


def group_fences() -> dict[int | None, list[Fence]]:
    """Each attendance group's active fences (one query)."""
    out: dict[int | None, list[Fence]] = defaultdict(list)
    for gid, lat, lon, radius in Geofence.objects.filter(active=True, groups__isnull=False)\
            .values_list("groups", "latitude", "longitude", "radius_m"):  # fmt: skip
        out[gid].append((lat, lon, float(radius)))
    return dict(out)


def position_rows(periods: list[Period], *, history_days: int = 0) -> list[PositionRow]:
    """The web and phone punches of the periods, and those of the ``history_days`` before
    them (``period_start`` None), voided ones left out, oldest first."""
    zone = ZoneInfo(default_zone_name())
    low, high = _bounds(periods, zone)
    since = low - timedelta(days=history_days)
    rows = list(
        Punch.objects.filter(
            at__gte=since,
            at__lt=high,
            void__isnull=True,
            source__in=[PunchSource.WEB, PunchSource.MOBILE],
        )
        .order_by("at", "pk")
        .values_list(
            "pk",
            "employee_id",
            "employee__attendance_group_id",
            "employee__attendance_group__time_zone",
            "at",
            "latitude",
            "longitude",
            "accuracy_m",
            "inside_geofence",
            "field_punch",
        )
    )
    if not rows:
        return []
    agents = dict(
        AuditEvent.objects.filter(
            action__in=DEVICE_ACTIONS,
            at__gte=since,
            at__lt=high + timedelta(minutes=5),
        )
        .exclude(object_id="")
        .values_list("object_id", "user_agent")
    )
    zones = _zones(row[3] for row in rows)
    fingerprints: dict[str, tuple[str, str]] = {}
    out = []
    for pk, employee_id, gid, zone_name, at, lat, lon, accuracy, inside, field in rows:
        day = at.astimezone(zones[zone_name]).date()
        agent = agents.get(str(pk), "")
        if agent not in fingerprints:
            fingerprints[agent] = device_fingerprint(agent)
        device, label = fingerprints[agent]
        out.append(
            PositionRow(
                id=pk,
                employee_id=employee_id,
                group_id=gid,
                at=at,
                day=day,
                period_start=_period_start(day, periods),
                latitude=lat,
                longitude=lon,
                accuracy_m=accuracy,
                inside=inside,
                field_punch=bool(field),
                device=device,
                device_label=label,
            )
        )
    return out
