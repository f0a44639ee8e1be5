"""Positions: the great-circle distance and the geofence test, pure (no Django).

One owner for both: the punch path (``punches.services.web_punch``) asks whether a web or
phone punch falls in a punch area, the oversight rules (``oversight.punch_checks``) how far
outside it was and how fast someone would have had to travel between two punches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

EARTH_RADIUS_M = 6_371_000.0

Fence = tuple[float, float, float]  # latitude, longitude, radius in metres


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), good to a metre at geofence scales."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def inside_any_geofence(latitude: float, longitude: float, fences: Iterable[Fence]) -> bool | None:
    """True/False against the fences (lat, lon, radius m); None when the group has none."""
    fences = list(fences)
    if not fences:
        return None
    return any(distance_m(latitude, longitude, lat, lon) <= radius for lat, lon, radius in fences)


def metres_outside(latitude: float, longitude: float, fences: Iterable[Fence]) -> float | None:
    """How far the position lies outside the nearest fence's edge (0 inside one); None
    when there is no fence."""
    gaps = [
        max(0.0, distance_m(latitude, longitude, lat, lon) - radius) for lat, lon, radius in fences
    ]
    return min(gaps) if gaps else None
