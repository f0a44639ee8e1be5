"""Writes on punch areas (geofences): one create-or-update, shared by the settings page and
``PUT /api/v1/geofences/{code}``.

HR and system admins change them (``org.rules.can_change_settings``; ``actor=None`` is the
system: the demo, commands). Every change is audited; a repeated identical save changes
nothing and writes no event. A fence's stored punches keep the inside/outside they were
given when they arrived, so no day is recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record, snapshot
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.org import rules
from ztk.org.models import AttendanceGroup, code_validator

from .models import RADIUS_MAX, RADIUS_MIN, Geofence

FIELDS = ["code", "name", "latitude", "longitude", "radius_m", "active"]
NAME_MAX = 80

# Stable error codes (the API returns them; tests import them).
INVALID_GEOFENCE = "invalid_geofence"
GEOFENCE_EXISTS = "geofence_exists"
UNKNOWN_GROUP = "unknown_group"


@dataclass(frozen=True, slots=True)
class FenceInput:
    """What a page form or an API body says a fence is; checked by ``geofence_put``."""

    name: str
    latitude: float | str  # a page's form gives the typed text; checked here
    longitude: float | str
    radius_m: int | str
    active: bool = True
    group_codes: tuple[str, ...] = ()


def _refuse(field: str, message: Any, code: str = INVALID_GEOFENCE) -> DomainError:
    return DomainError(code, message, details={"field": field})


def _number(value: Any, field: str, label: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _refuse(field, _("%(field)s must be a number.") % {"field": label}) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _refuse(
            field,
            _("%(field)s must be between %(low)s and %(high)s.")
            % {"field": label, "low": low, "high": high},
        )
    return number


def _check_code(code: str) -> str:
    code = clean_text(code, field="code", label=_("Code"))
    try:
        code_validator(code)
    except ValidationError:
        raise _refuse("code", _("Code: use 1–32 letters, digits, '_', '.' or '-'.")) from None
    return code


def _groups(codes: Iterable[str]) -> list[AttendanceGroup]:
    wanted = sorted(set(codes))
    found = {g.code: g for g in AttendanceGroup.objects.filter(code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise DomainError(
            UNKNOWN_GROUP,
            _("No attendance group has the code %(codes)s.") % {"codes": ", ".join(missing)},
            details={"field": "groups", "codes": missing},
        )
    return [found[c] for c in wanted]


def _state(fence: Geofence, group_codes: Iterable[str]) -> dict[str, Any]:
    return {**snapshot(fence, FIELDS), "groups": sorted(group_codes)}


@transaction.atomic
def geofence_put(
    *, actor: Any, code: str, data: FenceInput, must_be_new: bool = False
) -> tuple[Geofence, bool]:
    """Create the fence ``code`` or update it to ``data``; returns (fence, created).

    ``must_be_new`` (the page's "new fence" form) refuses a code already in use instead of
    overwriting that fence. Every field is checked before anything is written.
    """
    if actor is not None and not rules.can_change_settings(actor):
        raise PermissionDeniedError()
    code = _check_code(code)
    name = clean_text(data.name, field="name", label=_("Name"), max_length=NAME_MAX)
    if not name:
        raise _refuse("name", _("Give the punch area a name."))
    latitude = _number(data.latitude, "latitude", _("Latitude"), -90, 90)
    longitude = _number(data.longitude, "longitude", _("Longitude"), -180, 180)
    radius = _number(data.radius_m, "radius_m", _("Radius (m)"), RADIUS_MIN, RADIUS_MAX)
    if radius != int(radius):
        raise _refuse("radius_m", _("Radius (m) must be a whole number of metres."))
    groups = _groups(data.group_codes)
    fence = Geofence.objects.select_for_update().filter(code=code).first()
    created = fence is None
    if fence is not None and must_be_new:
        raise _refuse(
            "code",
            _("A punch area with the code %(code)s exists already.") % {"code": code},
            GEOFENCE_EXISTS,
        )
    before = None if fence is None else _state(fence, fence.groups.values_list("code", flat=True))
    fence = fence or Geofence(code=code)
    fence.name, fence.latitude, fence.longitude = name, latitude, longitude
    fence.radius_m, fence.active = int(radius), bool(data.active)
    after = _state(fence, (g.code for g in groups))
    if before == after:
        return fence, False
    fence.save()
    fence.groups.set(groups)
    record(
        "punches.geofence.create" if created else "punches.geofence.update",
        obj=fence,
        actor=actor,
        before=before,
        after=after,
    )
    return fence, created
