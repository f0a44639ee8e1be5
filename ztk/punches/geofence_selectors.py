"""Reads of punch areas (geofences) for the punch path, the settings pages and the API."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from ztk.org.models import AttendanceGroup

from .models import Geofence, OutsideGeofenceRule, PunchSettings


def active_fences(group_id: int) -> list[tuple[float, float, float]]:
    """(latitude, longitude, radius m) of the group's active fences: the only ones a punch
    is checked against (an inactive fence is kept for the record but counts nowhere)."""
    rows = (
        Geofence.objects.filter(groups=group_id, active=True)
        .values_list("latitude", "longitude", "radius_m")
        .distinct()
    )
    return [(lat, lon, float(radius)) for lat, lon, radius in rows]


def geofence_list() -> QuerySet[Geofence]:
    """Every fence, by code, with its groups (one extra query)."""
    return Geofence.objects.prefetch_related(
        Prefetch("groups", queryset=AttendanceGroup.objects.order_by("code"))
    ).order_by("code")


def geofence_get(code: str) -> Geofence | None:
    return geofence_list().filter(code=code).first()


def group_choices() -> list[AttendanceGroup]:
    """The groups a fence may be given, each with ``outside_rule_label``: what happens to a
    punch outside every fence (read-only here: it is set on the group)."""
    groups = list(AttendanceGroup.objects.order_by("code"))
    chosen = dict(
        PunchSettings.objects.filter(group__in=groups).values_list("group_id", "outside_rule")
    )
    for group in groups:
        rule = OutsideGeofenceRule(chosen.get(group.pk, OutsideGeofenceRule.FIELD))
        # display only, for the template
        group.outside_rule_label = rule.label  # type: ignore[attr-defined]
    return groups
